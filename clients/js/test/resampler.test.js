import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamingResampler } from '../src/resampler.js';
import { rms } from '../src/pcm.js';

/** @returns {Float32Array} a sine of `freq` Hz, `seconds` long, at `rate` */
function sine(freq, rate, seconds, amplitude = 0.5) {
  const out = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * freq * i) / rate);
  return out;
}

/** Zero crossings per second of a signal at `rate`. */
function crossingsPerSecond(samples, rate) {
  let n = 0;
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1] < 0) !== (samples[i] < 0)) n++;
  return n / (samples.length / rate);
}

/** Feeds `input` in blocks of `block` samples and concatenates the output. */
function run(resampler, input, block) {
  const parts = [];
  for (let i = 0; i < input.length; i += block) parts.push(resampler.process(input.subarray(i, i + block)));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

for (const inputRate of [8000, 16000, 22050, 24000, 44100, 48000, 96000]) {
  test(`${inputRate} Hz → 16 kHz keeps duration, frequency and level of a 440 Hz sine`, () => {
    const input = sine(440, inputRate, 2);
    const out = run(new StreamingResampler(inputRate, 16000), input, 128);
    assert.ok(Math.abs(out.length - 32000) <= 1, `length ${out.length}`);
    const crossings = crossingsPerSecond(out, 16000);
    assert.ok(Math.abs(crossings - 880) < 10, `zero crossings/s ${crossings}`);
    const level = rms(out);
    assert.ok(Math.abs(level - 0.5 / Math.SQRT2) < 0.02, `rms ${level}`);
  });
}

test('16 kHz → 16 kHz is the identity', () => {
  const input = sine(1000, 16000, 0.1);
  const out = run(new StreamingResampler(16000, 16000), input, 100);
  assert.deepEqual(Array.from(out), Array.from(input));
});

test('block size does not change the output', () => {
  const input = sine(300, 44100, 0.5);
  const a = run(new StreamingResampler(44100, 16000), input, 128);
  const b = run(new StreamingResampler(44100, 16000), input, 37);
  const c = run(new StreamingResampler(44100, 16000), input, input.length);
  assert.equal(a.length, c.length);
  assert.equal(b.length, c.length);
  for (let i = 0; i < c.length; i++) {
    assert.ok(Math.abs(a[i] - c[i]) < 1e-6 && Math.abs(b[i] - c[i]) < 1e-6, `sample ${i}`);
  }
});

test('48 kHz → 16 kHz averages each group of three samples', () => {
  const out = new StreamingResampler(48000, 16000).process(new Float32Array([0.3, 0.6, 0.9, -0.3, -0.3, -0.3, 1]));
  assert.equal(out.length, 2);
  assert.ok(Math.abs(out[0] - 0.6) < 1e-6);
  assert.ok(Math.abs(out[1] + 0.3) < 1e-6);
});

test('downsampling attenuates a tone above the new Nyquist frequency', () => {
  const out = run(new StreamingResampler(48000, 16000), sine(15000, 48000, 1), 128);
  assert.ok(rms(out) < 0.2, `rms ${rms(out)} of a 15 kHz tone after resampling`);
});

test('a long stream does not drift (integer time accounting)', () => {
  const r = new StreamingResampler(44100, 16000);
  let total = 0;
  const block = new Float32Array(128);
  const blocks = Math.round((44100 * 600) / 128); // ten minutes
  for (let i = 0; i < blocks; i++) total += r.process(block).length;
  const expected = Math.floor((blocks * 128 * 16000) / 44100);
  assert.equal(total, expected);
});

test('rejects rates that are not positive integers', () => {
  assert.throws(() => new StreamingResampler(0, 16000), RangeError);
  assert.throws(() => new StreamingResampler(44100.5, 16000), RangeError);
});
