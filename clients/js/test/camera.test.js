// Video frames: the message, the camera's pacing, and the client's camera API (no devices: a grab function).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeStartSession, encodeVideoFrame, decodeServerMessage } from '../src/messages.js';
import { Camera } from '../src/camera.js';
import { FakeWebSocket, newClient, stopQuietly, until } from './fake-websocket.js';

const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);

test('video_frame carries the image base64-encoded with its type', () => {
  assert.deepEqual(JSON.parse(encodeVideoFrame(JPEG)), { type: 'video_frame', mime_type: 'image/jpeg', data: '/9j/4AECAw==' });
  assert.equal(JSON.parse(encodeVideoFrame(new Uint8Array([0x89, 0x50]), 'image/png')).mime_type, 'image/png');
  assert.throws(() => encodeVideoFrame(JPEG, 'image/gif'), RangeError);
  const large = new Uint8Array(200_000).fill(7);
  assert.deepEqual(Buffer.from(JSON.parse(encodeVideoFrame(large)).data, 'base64'), Buffer.from(large));
});

test('start_session declares video only when asked, and session_started gives the rate', () => {
  assert.equal(JSON.parse(encodeStartSession({ userId: 'u1', video: true })).video, true);
  assert.equal('video' in JSON.parse(encodeStartSession({ userId: 'u1' })), false);
  const started = { type: 'session_started', session_id: 's', resume_token: 't', resumed: false };
  assert.equal(decodeServerMessage(JSON.stringify({ ...started, video_frames_per_second: 2 })).videoFramesPerSecond, 2);
  assert.equal(decodeServerMessage(JSON.stringify(started)).videoFramesPerSecond, null);
});

test('the camera takes one frame at once, then one per period, and none after stop', async () => {
  let grabs = 0;
  /** @type {Uint8Array[]} */
  const frames = [];
  const camera = new Camera({ framesPerSecond: 50, grab: async () => { grabs++; return JPEG; }, onFrame: (image) => frames.push(image) });
  await camera.start();
  assert.equal(camera.active, true);
  await until(() => frames.length >= 3);
  camera.stop();
  const taken = frames.length;
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(frames.length, taken, 'no frame after stop');
  assert.equal(camera.active, false);
  assert.deepEqual(frames[0], JPEG);
});

test('a slow encoder makes the camera skip ticks instead of queueing frames', async () => {
  /** @type {(() => void)[]} */
  const pending = [];
  const camera = new Camera({
    framesPerSecond: 200,
    grab: () => new Promise((resolve) => pending.push(() => resolve(JPEG))),
    onFrame: () => {},
  });
  await camera.start();
  await until(() => camera.stats.skipped >= 3);
  assert.equal(pending.length, 1, 'one frame in flight at a time');
  camera.stop();
  pending[0]();
});

test('startCamera sends video_frame messages at the server rate, not numbered', async () => {
  const { client, events } = newClient();
  const connecting = client.connect('ws://test/voice', { userId: 'u1', video: true });
  const ws = FakeWebSocket.instances[0];
  ws.open();
  assert.equal(ws.messages[0].video, true);
  ws.receive({ type: 'session_started', session_id: 's1', resume_token: 't', input_sample_rate: 16000, output_sample_rate: 24000, resumed: false, video_frames_per_second: 40 });
  await connecting;
  assert.equal(client.videoFramesPerSecond, 40);
  assert.equal(events.find((e) => e.type === 'session_started')?.detail.videoFramesPerSecond, 40);

  await client.startCamera({ grab: async () => JPEG });
  assert.equal(client.cameraActive, true);
  await until(() => ws.messages.filter((m) => m.type === 'video_frame').length >= 2);
  client.stopCamera();
  assert.equal(client.cameraActive, false);

  const frames = ws.messages.filter((m) => m.type === 'video_frame');
  assert.deepEqual(frames[0], { type: 'video_frame', mime_type: 'image/jpeg', data: '/9j/4AECAw==' });
  assert.equal(client.stats.videoFramesSent, frames.length);
  assert.equal(client.unacknowledged, 0, 'frames are not kept for a resume');
  await stopQuietly(client);
});

test('startCamera needs a session that takes video', async () => {
  const { client } = newClient();
  const connecting = client.connect('ws://test/voice', { userId: 'u1', video: true });
  const ws = FakeWebSocket.instances[0];
  ws.open();
  ws.receive({ type: 'session_started', session_id: 's1', resume_token: 't', input_sample_rate: 16000, output_sample_rate: 24000, resumed: false });
  await connecting;
  await assert.rejects(client.startCamera({ grab: async () => JPEG }), (e) => e.code === 'video_not_enabled');
  assert.equal(client.sendVideoFrame(JPEG), true, 'a picture may still be sent; the server answers video_not_enabled');
  await stopQuietly(client);
  assert.equal(client.sendVideoFrame(JPEG), false, 'no session, no frame');
});
