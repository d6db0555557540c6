// Counting for resumable sessions (docs/protocol.md, "Resuming a session"): both sides number the
// messages that carry the conversation from 1, over every connection of the session, without
// writing the numbers on the wire.

/**
 * The client's numbered messages (microphone frames, `audio`, `text`, activity signals,
 * `audio_stream_end`), kept until the server's `ack` says they reached the model, so that a resume
 * can send again what the server did not get.
 *
 * Bounded by `maxBytes` (a text message counts its characters): past the bound the oldest kept
 * messages are let go. A resume that asks for a message let go that way cannot resend it: the
 * server counts from the first one it does get, so the client numbers its kept messages after the
 * server's count and reports how many were lost.
 */
export class SentMessages {
  /** @type {(string|ArrayBuffer)[]} */
  #kept = [];
  /** number of `#kept[0]` */
  #first = 1;
  #bytes = 0;

  /** @param {number} maxBytes */
  constructor(maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** Number of the last message (0 before the first). */
  get last() {
    return this.#first + this.#kept.length - 1;
  }

  /** Messages kept and not yet acknowledged. */
  get length() {
    return this.#kept.length;
  }

  /** Bytes kept. */
  get bytes() {
    return this.#bytes;
  }

  /**
   * Numbers and keeps a message.
   * @param {string|ArrayBuffer} message
   * @returns {number} how many older messages were let go to stay within the bound
   */
  add(message) {
    this.#kept.push(message);
    this.#bytes += size(message);
    let discarded = 0;
    while (this.#bytes > this.maxBytes && this.#kept.length > 1) {
      this.#bytes -= size(/** @type {string|ArrayBuffer} */ (this.#kept.shift()));
      this.#first++;
      discarded++;
    }
    return discarded;
  }

  /**
   * The server has received every message up to `received`: they are let go.
   * @param {number} received
   */
  acknowledge(received) {
    while (this.#kept.length > 0 && this.#first <= received) {
      this.#bytes -= size(/** @type {string|ArrayBuffer} */ (this.#kept.shift()));
      this.#first++;
    }
  }

  /**
   * A resume: the server has `received` messages. Returns what it misses, in order, and how many
   * of those were let go already (past the bound); the kept ones are numbered after `received`.
   * @param {number} received
   * @returns {{ resend: (string|ArrayBuffer)[], lost: number }}
   */
  resume(received) {
    this.acknowledge(received);
    const lost = this.#kept.length > 0 ? Math.max(0, this.#first - received - 1) : Math.max(0, this.last - received);
    this.#first = received + 1;
    return { resend: [...this.#kept], lost };
  }

  /**
   * A fresh session: numbering starts again and every kept message is let go.
   * @returns {number} how many were let go
   */
  reset() {
    const discarded = this.#kept.length;
    this.#kept = [];
    this.#first = 1;
    this.#bytes = 0;
    return discarded;
  }
}

/**
 * The count of numbered server messages received, and the number the next one carries on the
 * current connection, which tells a replayed message the client already has from a new one.
 */
export class ReceivedMessages {
  /** The number of the latest numbered server message received: the `received` of `ack` and `start_session`. */
  count = 0;
  #next = 1;

  /** A fresh session: counting starts again. */
  reset() {
    this.count = 0;
    this.#next = 1;
  }

  /**
   * A resume: the server's first numbered message on the new connection carries `replayFrom`.
   * @param {number | null} replayFrom
   * @returns {{ from: number, to: number } | null} the numbers the server no longer had (a gap), if any
   */
  resume(replayFrom) {
    const from = this.count + 1;
    this.#next = replayFrom ?? from;
    if (this.#next <= from) return null;
    // The messages in between were dropped by the server (its buffer bound): count past them, so
    // that the count goes on matching the server's numbers.
    this.count = this.#next - 1;
    return { from, to: this.#next - 1 };
  }

  /**
   * Numbers the next numbered server message.
   * @returns {boolean} false when the client already had it (a replay of a message it received)
   */
  accept() {
    const number = this.#next++;
    if (number <= this.count) return false;
    this.count = number;
    return true;
  }
}

/** @param {string|ArrayBuffer} message */
function size(message) {
  return typeof message === 'string' ? message.length : message.byteLength;
}
