// AudioWorklet processor: microphone → 16 kHz PCM16 frames posted to the main thread.
// Loaded with `audioWorklet.addModule(new URL('./capture-worklet.js', import.meta.url))`.
/* global AudioWorkletProcessor, registerProcessor, sampleRate */
import { StreamingResampler } from './resampler.js';
import { MicrophoneFramer } from './pcm.js';

class VoiceChatCaptureProcessor extends AudioWorkletProcessor {
  /** @param {{ processorOptions?: { targetRate?: number, frameMs?: number } }} options */
  constructor(options) {
    super();
    const { targetRate = 16000, frameMs = 20 } = options.processorOptions ?? {};
    this.framer = new MicrophoneFramer(
      new StreamingResampler(sampleRate, targetRate),
      Math.round((targetRate * frameMs) / 1000),
    );
    this.enabled = true;
    this.mono = new Float32Array(128);
    this.port.onmessage = (event) => {
      if (event.data && event.data.type === 'enabled') {
        this.enabled = Boolean(event.data.value);
        if (!this.enabled) this.framer.reset();
      }
    };
  }

  /** @param {Float32Array[][]} inputs */
  process(inputs) {
    const channels = inputs[0];
    if (!this.enabled || !channels || channels.length === 0) return true;
    let block = channels[0];
    if (channels.length > 1) {
      // Mix down to mono: a stereo microphone must not lose one side.
      if (this.mono.length !== block.length) this.mono = new Float32Array(block.length);
      const mono = this.mono;
      mono.fill(0);
      for (const channel of channels) {
        for (let i = 0; i < channel.length; i++) mono[i] += channel[i];
      }
      for (let i = 0; i < mono.length; i++) mono[i] /= channels.length;
      block = mono;
    }
    for (const frame of this.framer.push(block)) {
      this.port.postMessage(frame, [frame.pcm.buffer]);
    }
    return true;
  }
}

registerProcessor('voicechat-capture', VoiceChatCaptureProcessor);
