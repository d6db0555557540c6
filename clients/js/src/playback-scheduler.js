// Timing of model audio playback: a small jitter buffer on the AudioContext clock.
//
// Chunks are played back to back. When the queue has run dry (the first chunk of a turn, or a
// chunk that arrived late) playback restarts `leadSeconds` in the future, so that small variations
// in network delivery do not cause a gap after every chunk.

export class PlaybackScheduler {
  /** AudioContext time at which the queued audio ends; 0 when nothing is queued. */
  #endTime = 0;

  /** @param {{ leadSeconds?: number }} [options] */
  constructor(options = {}) {
    this.leadSeconds = options.leadSeconds ?? 0.1;
    if (!(this.leadSeconds >= 0)) throw new RangeError('leadSeconds must be >= 0.');
  }

  /**
   * Reserves the time slot for the next chunk.
   * @param {number} now the AudioContext's currentTime
   * @param {number} durationSeconds the chunk's duration
   * @returns {number} the AudioContext time at which the chunk must start
   */
  schedule(now, durationSeconds) {
    // Restart with the lead when the queue ran dry (or nearly: less than 5 ms left).
    const start = this.#endTime < now + 0.005 ? now + this.leadSeconds : this.#endTime;
    this.#endTime = start + durationSeconds;
    return start;
  }

  /**
   * Seconds of audio still queued at `now` (including the lead before the first chunk).
   * @param {number} now
   * @returns {number}
   */
  queuedSeconds(now) {
    return Math.max(0, this.#endTime - now);
  }

  /** Forgets everything queued (after the sources were stopped). */
  reset() {
    this.#endTime = 0;
  }
}
