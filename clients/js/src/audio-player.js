// Playback of the model's 24 kHz PCM16 through an AudioContext, with a small jitter buffer that
// can be dropped at once when the user interrupts.
import { PlaybackScheduler } from './playback-scheduler.js';
import { int16ToFloat, sumOfSquares16 } from './pcm.js';

export class AudioPlayer {
  /** @type {Set<{ source: AudioBufferSourceNode, samples: number, squares: number, flushed: boolean }>} */
  #sources = new Set();
  #context;
  #scheduler;
  #output;
  #sampleRate;

  /** Samples handed to `enqueue`. */
  samplesReceived = 0;
  /** Samples that finished playing (not counting chunks dropped by `flush`). */
  samplesPlayed = 0;
  /** Sum of squares of the played samples, scaled to [-1, 1). */
  squaresPlayed = 0;
  /** Samples that were queued and then dropped by `flush`. */
  samplesDropped = 0;
  /** Number of `flush` calls that dropped something. */
  flushes = 0;

  /**
   * @param {AudioContext} context
   * @param {{ sampleRate?: number, leadSeconds?: number, destination?: AudioNode }} [options]
   */
  constructor(context, options = {}) {
    this.#context = context;
    this.#sampleRate = options.sampleRate ?? 24000;
    this.#scheduler = new PlaybackScheduler({ leadSeconds: options.leadSeconds ?? 0.1 });
    this.#output = context.createGain();
    this.#output.connect(options.destination ?? context.destination);
  }

  /** Milliseconds of audio queued and not yet played. */
  get queuedMs() {
    return this.#sources.size === 0 ? 0 : this.#scheduler.queuedSeconds(this.#context.currentTime) * 1000;
  }

  /** Number of chunks scheduled and not yet ended. */
  get activeSources() {
    return this.#sources.size;
  }

  /** RMS (0..1) of everything played so far. */
  get playedRms() {
    return this.samplesPlayed === 0 ? 0 : Math.sqrt(this.squaresPlayed / this.samplesPlayed);
  }

  /**
   * Queues one chunk of PCM16 for playback right after what is already queued.
   * @param {Int16Array} samples
   */
  enqueue(samples) {
    if (samples.length === 0) return;
    this.samplesReceived += samples.length;
    const buffer = this.#context.createBuffer(1, samples.length, this.#sampleRate);
    buffer.copyToChannel(int16ToFloat(samples), 0);
    const source = this.#context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.#output);
    const entry = { source, samples: samples.length, squares: sumOfSquares16(samples), flushed: false };
    source.onended = () => {
      this.#sources.delete(entry);
      source.disconnect();
      if (!entry.flushed) {
        this.samplesPlayed += entry.samples;
        this.squaresPlayed += entry.squares;
      }
    };
    this.#sources.add(entry);
    source.start(this.#scheduler.schedule(this.#context.currentTime, buffer.duration));
  }

  /**
   * Stops everything queued at once.
   * @returns {number} milliseconds of audio dropped
   */
  flush() {
    const droppedMs = this.queuedMs;
    for (const entry of this.#sources) {
      entry.flushed = true;
      this.samplesDropped += entry.samples;
      try {
        entry.source.stop();
      } catch {
        // never started: nothing to stop
      }
      entry.source.disconnect();
    }
    if (this.#sources.size > 0) this.flushes++;
    this.#sources.clear();
    this.#scheduler.reset();
    return droppedMs;
  }

  /** Stops playback and disconnects from the context. */
  close() {
    this.flush();
    this.#output.disconnect();
  }
}
