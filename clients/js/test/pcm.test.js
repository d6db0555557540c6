import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcmFramer, MicrophoneFramer, floatToInt16, int16ToFloat, decodePcm16, encodePcm16, rms, sumOfSquares16 } from '../src/pcm.js';
import { StreamingResampler } from '../src/resampler.js';

test('floatToInt16 clamps and maps the full range', () => {
  const out = floatToInt16([0, 1, -1, 0.5, -0.5, 2, -2, NaN]);
  assert.deepEqual(Array.from(out), [0, 32767, -32768, 16384, -16384, 32767, -32768, -32768]);
});

test('int16 → float → int16 round-trips', () => {
  const samples = Int16Array.from([0, 1, -1, 1234, -32768, 32767, -20000]);
  const back = floatToInt16(int16ToFloat(samples));
  for (let i = 0; i < samples.length; i++) assert.ok(Math.abs(back[i] - samples[i]) <= 1, `sample ${i}`);
});

test('binary frames are little-endian PCM16', () => {
  const frame = encodePcm16(Int16Array.from([1, -2, 0x1234]));
  assert.deepEqual(Array.from(new Uint8Array(frame)), [0x01, 0x00, 0xfe, 0xff, 0x34, 0x12]);
  assert.deepEqual(Array.from(decodePcm16(frame)), [1, -2, 0x1234]);
});

test('decodePcm16 reads views at odd offsets and ignores a trailing odd byte', () => {
  const bytes = new Uint8Array([9, 0x01, 0x00, 0xfe, 0xff, 0x7f]);
  assert.deepEqual(Array.from(decodePcm16(bytes.subarray(1))), [1, -2]);
});

test('encodePcm16 of a subarray sends only that part', () => {
  const all = Int16Array.from([1, 2, 3, 4]);
  assert.equal(encodePcm16(all.subarray(1, 3)).byteLength, 4);
  assert.deepEqual(Array.from(decodePcm16(encodePcm16(all.subarray(1, 3)))), [2, 3]);
});

test('rms of floats and of PCM16', () => {
  assert.equal(rms([]), 0);
  assert.ok(Math.abs(rms([0.5, -0.5, 0.5, -0.5]) - 0.5) < 1e-9);
  assert.ok(Math.abs(rms(Int16Array.from([16384, -16384]), 32768) - 0.5) < 1e-9);
  assert.ok(Math.abs(sumOfSquares16(Int16Array.from([16384, -16384])) - 0.5) < 1e-9);
});

test('PcmFramer emits whole frames in order and keeps the rest', () => {
  const framer = new PcmFramer(4);
  assert.equal(framer.push(Int16Array.from([1, 2, 3])).length, 0);
  const frames = framer.push(Int16Array.from([4, 5, 6, 7, 8, 9, 10]));
  assert.deepEqual(frames.map((f) => Array.from(f)), [[1, 2, 3, 4], [5, 6, 7, 8]]);
  assert.equal(framer.pending, 2);
  assert.deepEqual(Array.from(/** @type {Int16Array} */ (framer.flush())), [9, 10]);
  assert.equal(framer.flush(), null);
});

test('PcmFramer frames are independent arrays (safe to transfer)', () => {
  const framer = new PcmFramer(2);
  const [a, b] = framer.push(Int16Array.from([1, 2, 3, 4]));
  assert.notEqual(a.buffer, b.buffer);
  assert.throws(() => new PcmFramer(0), RangeError);
});

test('MicrophoneFramer: 128-sample blocks at 48 kHz become 20 ms frames at 16 kHz with levels', () => {
  const framer = new MicrophoneFramer(new StreamingResampler(48000, 16000), 320);
  const frames = [];
  const block = new Float32Array(128);
  for (let n = 0; n < 375; n++) { // one second
    for (let i = 0; i < 128; i++) block[i] = 0.25 * Math.sin((2 * Math.PI * 200 * (n * 128 + i)) / 48000);
    frames.push(...framer.push(block));
  }
  assert.equal(frames.length, 50);
  for (const f of frames) {
    assert.equal(f.pcm.length, 320);
    assert.ok(Math.abs(f.level - 0.25 / Math.SQRT2) < 0.01, `level ${f.level}`);
  }
});
