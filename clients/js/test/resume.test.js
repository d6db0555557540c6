// Resuming a session (docs/protocol.md, "Resuming a session"): counting, acknowledgements, the
// keep-until-acknowledged buffer, resend, dedupe of a replay, gaps and failed resumes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReceivedMessages, SentMessages } from '../src/resume.js';
import { FakeWebSocket, newClient, started, stopQuietly, until } from './fake-websocket.js';

const audio = (/** @type {number} */ value, samples = 4) => new Int16Array(samples).fill(value).buffer;

/** The binary frames a socket carried, as the first sample of each (the tests mark frames by value). */
const framesOn = (/** @type {FakeWebSocket} */ ws) => ws.sent.filter((d) => d instanceof ArrayBuffer).map((d) => new Int16Array(/** @type {ArrayBuffer} */ (d))[0]);

/** Everything a socket carried in order: frames as their first sample, JSON messages by type (and text). */
const trafficOn = (/** @type {FakeWebSocket} */ ws) => ws.sent.map((d) => {
  if (d instanceof ArrayBuffer) return new Int16Array(d)[0];
  const msg = JSON.parse(/** @type {string} */ (d));
  return msg.type === 'text' ? `text:${msg.text}` : msg.type;
});

/** Drops the connection (no close frame) and answers the next one with `session_started` as given. */
async function dropAndResume(client, answer) {
  const before = FakeWebSocket.instances.length;
  FakeWebSocket.instances.at(-1).serverClose(1006);
  await until(() => FakeWebSocket.instances.length === before + 1);
  const ws = FakeWebSocket.instances.at(-1);
  ws.open();
  const start = ws.messages[0];
  ws.receive({ type: 'session_started', session_id: 's1', resume_token: 'tok2', input_sample_rate: 16000, output_sample_rate: 24000, ...answer(start) });
  await until(() => client.state === 'live');
  return { ws, start };
}

test('numbered server messages are counted and acknowledged every few messages; unnumbered ones are not counted', async () => {
  const { client } = newClient({ resume: { ackEvery: 4, ackIntervalMs: 60_000 } });
  const { ws } = await started(client);
  ws.receive(audio(1));
  ws.receive({ type: 'transcript', role: 'assistant', text: 'Hi', final: false });
  ws.receive({ type: 'pong', id: 'x' });
  ws.receive({ type: 'ack', received: 0 });
  ws.receive({ type: 'error', code: 'invalid_json', message: 'no', fatal: false });
  ws.receive({ type: 'tool_call', name: 'get_weather', status: 'started' });
  assert.equal(client.received, 3);
  assert.deepEqual(ws.messages.filter((m) => m.type === 'ack'), [], 'no ack before the fourth numbered message');
  ws.receive({ type: 'interrupted' });
  ws.receive({ type: 'turn_complete' });
  assert.equal(client.received, 5);
  assert.deepEqual(ws.messages.filter((m) => m.type === 'ack'), [{ type: 'ack', received: 4 }]);
  await stopQuietly(client);
});

test('fewer messages than ackEvery are acknowledged after ackIntervalMs', async () => {
  const { client } = newClient({ resume: { ackEvery: 100, ackIntervalMs: 20 } });
  const { ws } = await started(client);
  ws.receive(audio(1));
  ws.receive(audio(2));
  await until(() => ws.messages.some((m) => m.type === 'ack'));
  assert.deepEqual(ws.messages.filter((m) => m.type === 'ack'), [{ type: 'ack', received: 2 }]);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(ws.messages.filter((m) => m.type === 'ack').length, 1, 'nothing new, no second ack');
  await stopQuietly(client);
});

test('sent messages are kept until the server acknowledges them', async () => {
  const { client } = newClient();
  const { ws } = await started(client);
  for (let i = 1; i <= 5; i++) client.sendAudio(new Int16Array(4).fill(i));
  client.sendText('hello');
  client.setMicrophoneEnabled(false); // audio_stream_end, numbered too
  assert.equal(client.unacknowledged, 7);
  ws.receive({ type: 'ack', received: 4 });
  assert.equal(client.unacknowledged, 3);
  ws.receive({ type: 'ack', received: 7 });
  assert.equal(client.unacknowledged, 0);
  await stopQuietly(client);
});

test('a resume sends the token and count, then resends what the server lacks, in order, before new audio', async () => {
  const { client, events } = newClient();
  const { ws } = await started(client);
  for (let i = 1; i <= 5; i++) client.sendAudio(new Int16Array(4).fill(i));
  ws.receive({ type: 'ack', received: 2 });
  ws.receive(audio(100));
  ws.receive({ type: 'transcript', role: 'assistant', text: 'Hel', final: false });
  ws.serverClose(1006);
  assert.equal(client.state, 'reconnecting');
  // Captured while reconnecting: kept, sent after the resume.
  assert.equal(client.sendAudio(new Int16Array(4).fill(6)), true);
  client.sendText('still there?');
  assert.equal(client.stats.framesDropped, 0);
  assert.deepEqual(framesOn(ws), [1, 2, 3, 4, 5], 'nothing more on the dropped socket');

  await until(() => FakeWebSocket.instances.length === 2);
  const ws2 = FakeWebSocket.instances[1];
  ws2.open();
  assert.deepEqual(ws2.messages[0], { type: 'start_session', user_id: 'u1', session_id: 's1', resume_token: 'tok1', received: 2, input_sample_rate: 16000 });
  ws2.receive({ type: 'session_started', session_id: 's1', resume_token: 'tok2', input_sample_rate: 16000, output_sample_rate: 24000, resumed: true, received: 3, replay_from: 3 });
  assert.equal(client.state, 'live');
  client.sendAudio(new Int16Array(4).fill(8));
  assert.deepEqual(trafficOn(ws2), ['start_session', 4, 5, 6, 'text:still there?', 8]);
  assert.equal(client.stats.messagesResent, 4);
  assert.equal(client.resumeToken, 'tok2');
  assert.equal(events.find((e) => e.type === 'session_started' && e.detail.resumed)?.detail.replayFrom, 3);
  // The numbering goes on over the connections: the server's ack of 7 covers all but the last frame.
  ws2.receive({ type: 'ack', received: 7 });
  assert.equal(client.unacknowledged, 1);
  await stopQuietly(client);
});

test('a replayed message the client already has is skipped, so audio never plays twice', async () => {
  const { client, events } = newClient();
  const { ws } = await started(client);
  ws.receive(audio(1));
  ws.receive(audio(2));
  ws.receive({ type: 'transcript', role: 'assistant', text: 'One ', final: false });
  assert.equal(client.received, 3);
  const { ws: ws2, start } = await dropAndResume(client, () => ({ resumed: true, received: 0, replay_from: 2 }));
  assert.equal(start.received, 3);
  ws2.receive(audio(2)); // #2 again
  ws2.receive({ type: 'transcript', role: 'assistant', text: 'One ', final: false }); // #3 again
  ws2.receive(audio(4)); // #4: new
  ws2.receive({ type: 'transcript', role: 'assistant', text: 'two.', final: false });
  assert.deepEqual(events.filter((e) => e.type === 'audio').map((e) => e.detail.samples[0]), [1, 2, 4]);
  assert.equal(client.received, 5);
  assert.equal(client.stats.duplicatesSkipped, 2);
  // The open utterance carried on across the drop.
  assert.deepEqual(client.transcripts.utterances.map((u) => u.text), ['One two.']);
  await stopQuietly(client);
});

test('a replay that starts after the count is a gap: reported, and counting follows the server numbers', async () => {
  const { client, events } = newClient({ resume: { ackEvery: 1 } });
  const { ws } = await started(client);
  ws.receive(audio(1));
  ws.receive(audio(2));
  const { ws: ws2 } = await dropAndResume(client, () => ({ resumed: true, received: 0, replay_from: 6 }));
  assert.deepEqual(events.find((e) => e.type === 'gap')?.detail, { direction: 'received', from: 3, to: 5, missed: 3 });
  ws2.receive(audio(6));
  assert.equal(client.received, 6);
  assert.deepEqual(ws2.messages.filter((m) => m.type === 'ack'), [{ type: 'ack', received: 6 }]);
  await stopQuietly(client);
});

test('resume_failed: a fresh session starts, counts start again and the kept messages are let go', async () => {
  const { client, events } = newClient({ resume: { ackEvery: 1 } });
  const { ws } = await started(client);
  ws.receive(audio(1));
  client.sendAudio(new Int16Array(4).fill(1));
  ws.serverClose(1006);
  client.sendAudio(new Int16Array(4).fill(2));
  await until(() => FakeWebSocket.instances.length === 2);
  const ws2 = FakeWebSocket.instances[1];
  ws2.open();
  assert.equal(ws2.messages[0].received, 1);
  ws2.receive({ type: 'session_started', session_id: 's2', resume_token: 'tok9', input_sample_rate: 16000, output_sample_rate: 24000, resumed: false, resume_failed: 'token_not_found' });
  assert.equal(client.state, 'live');
  assert.deepEqual(events.find((e) => e.type === 'resume_failed')?.detail, { reason: 'token_not_found', discarded: 2 });
  assert.equal(client.sessionId, 's2');
  assert.deepEqual(framesOn(ws2), [], 'the old conversation is not resent into the new one');
  assert.equal(client.unacknowledged, 0);
  ws2.receive(audio(1));
  assert.deepEqual(ws2.messages.filter((m) => m.type === 'ack'), [{ type: 'ack', received: 1 }], 'counting starts again from 1');
  await stopQuietly(client);
});

test('going_away: reconnects at once and resumes with the token and count', async () => {
  const { client, events } = newClient({ reconnect: { baseMs: 10_000, maxMs: 10_000 } });
  const { ws } = await started(client);
  ws.receive(audio(1));
  ws.receive({ type: 'going_away', reason: 'server_shutting_down' });
  ws.serverClose(1001);
  await until(() => FakeWebSocket.instances.length === 2, 1000);
  assert.deepEqual(events.filter((e) => e.type === 'reconnecting').map((e) => e.detail), [{ attempt: 1, delayMs: 0, cause: 'going_away', closeCode: 1001 }]);
  const ws2 = FakeWebSocket.instances[1];
  ws2.open();
  assert.equal(ws2.messages[0].resume_token, 'tok1');
  assert.equal(ws2.messages[0].received, 1);
  await stopQuietly(client);
});

test('the keep buffer is bounded: past maxBufferBytes the oldest go, and a resume that needs them reports a gap', async () => {
  // 8-byte frames, 40 bytes kept at most: five frames.
  const { client, events } = newClient({ resume: { maxBufferBytes: 40 } });
  const { ws } = await started(client);
  ws.serverClose(1006);
  for (let i = 1; i <= 12; i++) assert.equal(client.sendAudio(new Int16Array(4).fill(i)), true);
  assert.equal(client.unacknowledged, 5);
  assert.equal(client.stats.messagesDiscarded, 7);
  await until(() => FakeWebSocket.instances.length === 2);
  const ws2 = FakeWebSocket.instances[1];
  ws2.open();
  ws2.receive({ type: 'session_started', session_id: 's1', resume_token: 'tok2', input_sample_rate: 16000, output_sample_rate: 24000, resumed: true, received: 0, replay_from: 1 });
  assert.deepEqual(framesOn(ws2), [8, 9, 10, 11, 12]);
  assert.deepEqual(events.find((e) => e.type === 'gap')?.detail, { direction: 'sent', from: 1, to: 7, missed: 7 });
  // The kept frames are numbered after the server's count now: its ack of 5 covers them all.
  ws2.receive({ type: 'ack', received: 5 });
  assert.equal(client.unacknowledged, 0);
  await stopQuietly(client);
});

test('SentMessages: numbers, acknowledges, resumes and stays within its bound', () => {
  const sent = new SentMessages(10);
  assert.equal(sent.add('aaaa'), 0);
  assert.equal(sent.add('bbbb'), 0);
  assert.equal(sent.add('cccc'), 1, 'the oldest goes past 10 bytes');
  assert.equal(sent.last, 3);
  assert.equal(sent.bytes, 8);
  assert.deepEqual(sent.resume(0), { resend: ['bbbb', 'cccc'], lost: 1 });
  assert.equal(sent.last, 2, 'renumbered after the server count');
  assert.deepEqual(sent.resume(1), { resend: ['cccc'], lost: 0 });
  sent.acknowledge(2);
  assert.equal(sent.length, 0);
  assert.deepEqual(sent.resume(2), { resend: [], lost: 0 });
  assert.equal(sent.add(new ArrayBuffer(20)), 0, 'one message over the bound is still kept');
  assert.equal(sent.reset(), 1);
  assert.equal(sent.last, 0);
});

test('ReceivedMessages: a replay from before the count is skipped; one from after it is a gap', () => {
  const received = new ReceivedMessages();
  assert.equal(received.accept(), true);
  assert.equal(received.accept(), true);
  assert.equal(received.resume(2), null);
  assert.deepEqual([received.accept(), received.accept()], [false, true]);
  assert.equal(received.count, 3);
  assert.deepEqual(received.resume(7), { from: 4, to: 6 });
  assert.equal(received.count, 6);
  assert.equal(received.accept(), true);
  assert.equal(received.count, 7);
  received.reset();
  assert.equal(received.count, 0);
});
