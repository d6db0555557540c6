// Browser microphone capture: getUserMedia → AudioWorklet → PCM16 frames at the target rate.

/**
 * @typedef {object} MicrophoneOptions
 * @property {number} [targetRate] sample rate of the frames (16000)
 * @property {number} [frameMs] duration of one frame (20)
 * @property {MediaTrackConstraints} [constraints] audio constraints for getUserMedia
 * @property {(pcm: Int16Array, level: number) => void} onFrame called for every frame
 */

export class Microphone {
  /** @type {MediaStream | null} */
  #stream = null;
  /** @type {MediaStreamAudioSourceNode | null} */
  #source = null;
  /** @type {AudioWorkletNode | null} */
  #node = null;
  #context;
  #options;

  /**
   * @param {AudioContext} context
   * @param {MicrophoneOptions} options
   */
  constructor(context, options) {
    this.#context = context;
    this.#options = options;
  }

  /** Whether capture is running. */
  get active() {
    return this.#node !== null;
  }

  /** Asks for the microphone and starts capture. */
  async start() {
    if (this.#node) return;
    const constraints = {
      channelCount: 1,
      echoCancellation: true,
      noiseSuppression: true,
      autoGainControl: true,
      ...this.#options.constraints,
    };
    this.#stream = await navigator.mediaDevices.getUserMedia({ audio: constraints });
    try {
      await this.#context.audioWorklet.addModule(new URL('./capture-worklet.js', import.meta.url));
      this.#source = this.#context.createMediaStreamSource(this.#stream);
      this.#node = new AudioWorkletNode(this.#context, 'voicechat-capture', {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        processorOptions: { targetRate: this.#options.targetRate ?? 16000, frameMs: this.#options.frameMs ?? 20 },
      });
      this.#node.port.onmessage = (event) => this.#options.onFrame(event.data.pcm, event.data.level);
      this.#source.connect(this.#node);
      // The processor writes nothing to its output; the connection keeps the graph pulling it.
      this.#node.connect(this.#context.destination);
    } catch (error) {
      this.stop();
      throw error;
    }
  }

  /**
   * Pauses or resumes sending frames without releasing the device.
   * @param {boolean} enabled
   */
  setEnabled(enabled) {
    this.#node?.port.postMessage({ type: 'enabled', value: enabled });
  }

  /** Stops capture and releases the device. */
  stop() {
    this.#node?.port.close();
    this.#node?.disconnect();
    this.#source?.disconnect();
    for (const track of this.#stream?.getTracks() ?? []) track.stop();
    this.#node = null;
    this.#source = null;
    this.#stream = null;
  }
}
