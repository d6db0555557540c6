// Streaming sample-rate conversion for microphone audio.
//
// Each output sample is the average of the input signal over the output sample's time span
// (a box filter). Downsampling 48 kHz to 16 kHz therefore averages three input samples, which
// also removes most of the energy above the new Nyquist frequency; upsampling holds each input
// sample. Time is counted in integer units (input length = outRate units per sample, output length
// = inRate units per sample, both divided by their gcd) so that no rounding error accumulates over
// a long session.

/**
 * @param {number} a
 * @param {number} b
 * @returns {number}
 */
function gcd(a, b) {
  while (b !== 0) {
    [a, b] = [b, a % b];
  }
  return a;
}

/** Converts a stream of float samples at any rate to float samples at a target rate. */
export class StreamingResampler {
  /** @type {number} length of one input sample, in time units */
  #inLength;
  /** @type {number} length of one output sample, in time units */
  #outLength;
  /** @type {number} weighted sum of the current output sample */
  #acc = 0;
  /** @type {number} time units already filled in the current output sample */
  #filled = 0;

  /**
   * @param {number} inputRate sample rate of the input (for example the AudioContext's 48000)
   * @param {number} outputRate sample rate wanted (for example 16000)
   */
  constructor(inputRate, outputRate) {
    if (!Number.isInteger(inputRate) || inputRate <= 0 || !Number.isInteger(outputRate) || outputRate <= 0) {
      throw new RangeError(`Sample rates must be positive integers (got ${inputRate} → ${outputRate}).`);
    }
    const g = gcd(inputRate, outputRate);
    this.#inLength = outputRate / g;
    this.#outLength = inputRate / g;
    this.inputRate = inputRate;
    this.outputRate = outputRate;
  }

  /**
   * How many output samples the next call with `inputLength` samples produces at most.
   * @param {number} inputLength
   * @returns {number}
   */
  maxOutputLength(inputLength) {
    return Math.ceil(((this.#filled + inputLength * this.#inLength) / this.#outLength)) + 1;
  }

  /**
   * Resamples one block. State carries over between calls, so blocks may have any length.
   * @param {Float32Array | ArrayLike<number>} input samples in [-1, 1]
   * @returns {Float32Array} the output samples completed by this block
   */
  process(input) {
    const out = new Float32Array(this.maxOutputLength(input.length));
    let n = 0;
    const inLength = this.#inLength;
    const outLength = this.#outLength;
    let acc = this.#acc;
    let filled = this.#filled;
    for (let i = 0; i < input.length; i++) {
      const x = input[i];
      let left = inLength;
      while (left > 0) {
        const take = Math.min(left, outLength - filled);
        acc += x * take;
        filled += take;
        left -= take;
        if (filled === outLength) {
          out[n++] = acc / outLength;
          acc = 0;
          filled = 0;
        }
      }
    }
    this.#acc = acc;
    this.#filled = filled;
    return out.subarray(0, n);
  }

  /** Forgets the partial output sample (after a pause of the microphone). */
  reset() {
    this.#acc = 0;
    this.#filled = 0;
  }
}
