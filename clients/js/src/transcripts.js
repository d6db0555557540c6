// Assembly of streamed transcripts into utterances (docs/protocol.md, `transcript`).
//
// A `final:false` message is a fragment appended to the current utterance of its role; a
// `final:true` message carries the whole utterance and replaces the fragments. The next fragment
// of that role starts a new utterance.

/**
 * @typedef {object} Utterance
 * @property {number} id increasing per assembler, shared by both roles
 * @property {'user'|'assistant'} role
 * @property {string} text the text so far (or the final text)
 * @property {boolean} final
 */

export class TranscriptAssembler {
  #nextId = 1;
  /** @type {{ user: Utterance | null, assistant: Utterance | null }} */
  #open = { user: null, assistant: null };
  /** @type {Utterance[]} */
  #history = [];

  /** @param {{ maxUtterances?: number }} [options] bound of the history kept */
  constructor(options = {}) {
    this.maxUtterances = options.maxUtterances ?? 200;
  }

  /**
   * Applies one transcript message.
   * @param {'user'|'assistant'} role
   * @param {string} text
   * @param {boolean} final
   * @returns {Utterance} the utterance it changed (a snapshot)
   */
  apply(role, text, final) {
    let current = this.#open[role];
    if (current === null) {
      current = { id: this.#nextId++, role, text: '', final: false };
      this.#history.push(current);
      if (this.#history.length > this.maxUtterances) this.#history.shift();
      this.#open[role] = current;
    }
    if (final) {
      current.text = text;
      current.final = true;
      this.#open[role] = null;
    } else {
      current.text += text;
    }
    return { ...current };
  }

  /**
   * Closes the open utterances as they are (for example on `interrupted` or `turn_complete`,
   * in case the server's final message never comes because the connection dropped).
   */
  closeOpen() {
    for (const role of /** @type {const} */ (['user', 'assistant'])) {
      const open = this.#open[role];
      if (open !== null) {
        open.final = true;
        this.#open[role] = null;
      }
    }
  }

  /** @returns {Utterance[]} the utterances in order of their first fragment (snapshots) */
  get utterances() {
    return this.#history.map((u) => ({ ...u }));
  }
}
