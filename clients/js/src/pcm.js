// PCM16 helpers: float ↔ int16 conversion, fixed-size framing, levels.

/**
 * Converts float samples in [-1, 1] to PCM16 (clamped, rounded).
 * @param {ArrayLike<number>} input
 * @param {Int16Array} [output] where to write; a new array when absent
 * @returns {Int16Array}
 */
export function floatToInt16(input, output = new Int16Array(input.length)) {
  for (let i = 0; i < input.length; i++) {
    let s = input[i];
    if (!(s > -1)) s = -1; // also maps NaN to -1 rather than letting it through as 0x8000 garbage
    else if (s > 1) s = 1;
    output[i] = Math.round(s < 0 ? s * 0x8000 : s * 0x7fff);
  }
  return output;
}

/**
 * Converts PCM16 samples to floats in [-1, 1).
 * @param {Int16Array} input
 * @param {Float32Array} [output]
 * @returns {Float32Array}
 */
export function int16ToFloat(input, output = new Float32Array(input.length)) {
  for (let i = 0; i < input.length; i++) {
    output[i] = input[i] / 0x8000;
  }
  return output;
}

/**
 * Reads a binary frame of PCM16 little-endian mono. A trailing odd byte is ignored.
 * @param {ArrayBuffer | ArrayBufferView} data
 * @returns {Int16Array}
 */
export function decodePcm16(data) {
  const bytes = data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const count = bytes.byteLength >> 1;
  const samples = new Int16Array(count);
  if (bytes.byteOffset % 2 === 0 && littleEndian) {
    samples.set(new Int16Array(bytes.buffer, bytes.byteOffset, count));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) samples[i] = view.getInt16(i * 2, true);
  }
  return samples;
}

/**
 * Encodes PCM16 samples as a little-endian binary frame.
 * @param {Int16Array} samples
 * @returns {ArrayBuffer}
 */
export function encodePcm16(samples) {
  if (littleEndian) {
    return samples.buffer.slice(samples.byteOffset, samples.byteOffset + samples.byteLength);
  }
  const buffer = new ArrayBuffer(samples.length * 2);
  const view = new DataView(buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i], true);
  return buffer;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Root mean square of float samples, or of PCM16 samples scaled to [-1, 1).
 * @param {ArrayLike<number>} samples
 * @param {number} [scale] 1 for floats, 32768 for PCM16
 * @returns {number}
 */
export function rms(samples, scale = 1) {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] / scale;
    sum += s * s;
  }
  return Math.sqrt(sum / samples.length);
}

/**
 * Sum of squares of PCM16 samples scaled to [-1, 1), for running RMS counters.
 * @param {Int16Array} samples
 * @returns {number}
 */
export function sumOfSquares16(samples) {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] / 0x8000;
    sum += s * s;
  }
  return sum;
}

/** Cuts a stream of PCM16 samples into frames of a fixed number of samples. */
export class PcmFramer {
  #frame;
  #filled = 0;

  /** @param {number} frameSamples samples per frame (320 = 20 ms at 16 kHz) */
  constructor(frameSamples) {
    if (!Number.isInteger(frameSamples) || frameSamples <= 0) {
      throw new RangeError(`frameSamples must be a positive integer (got ${frameSamples}).`);
    }
    this.frameSamples = frameSamples;
    this.#frame = new Int16Array(frameSamples);
  }

  /** Samples waiting for the next frame. */
  get pending() {
    return this.#filled;
  }

  /**
   * Adds samples; returns the frames they completed (each a new Int16Array of frameSamples).
   * @param {Int16Array} samples
   * @returns {Int16Array[]}
   */
  push(samples) {
    /** @type {Int16Array[]} */
    const frames = [];
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(this.frameSamples - this.#filled, samples.length - offset);
      this.#frame.set(samples.subarray(offset, offset + take), this.#filled);
      this.#filled += take;
      offset += take;
      if (this.#filled === this.frameSamples) {
        frames.push(this.#frame);
        this.#frame = new Int16Array(this.frameSamples);
        this.#filled = 0;
      }
    }
    return frames;
  }

  /**
   * Returns what is pending as a short frame (or null) and empties the framer.
   * @returns {Int16Array | null}
   */
  flush() {
    if (this.#filled === 0) return null;
    const rest = this.#frame.slice(0, this.#filled);
    this.#filled = 0;
    return rest;
  }
}

/**
 * The microphone path in one object: resample to the target rate, convert to PCM16, cut into
 * frames, and measure each frame's level. Used inside the AudioWorklet; pure, so it is unit-tested.
 */
export class MicrophoneFramer {
  #resampler;
  #framer;

  /**
   * @param {import('./resampler.js').StreamingResampler} resampler
   * @param {number} frameSamples samples per frame at the resampler's output rate
   */
  constructor(resampler, frameSamples) {
    this.#resampler = resampler;
    this.#framer = new PcmFramer(frameSamples);
  }

  /**
   * @param {Float32Array} block input samples at the resampler's input rate
   * @returns {{ pcm: Int16Array, level: number }[]} completed frames and their RMS level (0..1)
   */
  push(block) {
    const resampled = this.#resampler.process(block);
    if (resampled.length === 0) return [];
    return this.#framer.push(floatToInt16(resampled)).map((pcm) => ({ pcm, level: rms(pcm, 0x8000) }));
  }

  /** Drops partial state (after a pause). */
  reset() {
    this.#resampler.reset();
    this.#framer.flush();
  }
}
