// The client's protocol behaviour against a scripted in-process WebSocket (no audio devices).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VoiceChatClient } from '../src/voicechat-client.js';
import { FakeWebSocket, newClient, started, stopQuietly, tick, until } from './fake-websocket.js';

test('connect sends start_session first and resolves on session_started', async () => {
  const { client, events } = newClient();
  const connecting = client.connect('ws://test/voice', { userId: 'u1', voice: 'Puck', language: 'en-US', metadata: { app: 'demo' } });
  assert.equal(client.state, 'connecting');
  const ws = FakeWebSocket.instances[0];
  assert.equal(ws.url, 'ws://test/voice');
  ws.open();
  assert.equal(ws.binaryType, 'arraybuffer');
  assert.deepEqual(ws.messages, [{ type: 'start_session', user_id: 'u1', received: 0, voice: 'Puck', language: 'en-US', input_sample_rate: 16000, metadata: { app: 'demo' } }]);
  ws.receive({ type: 'session_started', session_id: 'abc', resume_token: 'tok', input_sample_rate: 16000, output_sample_rate: 24000, resumed: false });
  assert.deepEqual(await connecting, { sessionId: 'abc', resumed: false });
  assert.equal(client.state, 'live');
  assert.equal(client.sessionId, 'abc');
  assert.equal(client.resumeToken, 'tok');
  assert.deepEqual(events.filter((e) => e.type === 'statechange').map((e) => e.detail.state), ['connecting', 'live']);
});

test('a refused start_session rejects connect with the error code', async () => {
  const { client, events } = newClient();
  const connecting = client.connect('ws://test/voice', { userId: 'u1' });
  const ws = FakeWebSocket.instances[0];
  ws.open();
  ws.receive({ type: 'error', code: 'user_mismatch', message: 'no', fatal: false });
  await assert.rejects(connecting, (e) => e.code === 'user_mismatch');
  assert.equal(client.state, 'closed');
  assert.ok(events.some((e) => e.type === 'error' && e.detail.code === 'user_mismatch' && e.detail.source === 'server'));
});

test('a connection that closes before session_started rejects connect', async () => {
  const { client } = newClient();
  const connecting = client.connect('ws://test/voice', { userId: 'u1' });
  FakeWebSocket.instances[0].serverClose(1006);
  await assert.rejects(connecting, (e) => e.code === 'connection_failed');
  assert.equal(client.state, 'closed');
});

test('transcripts, turn_complete, tool_call and interrupted become events', async () => {
  const { client, events } = newClient();
  const { ws } = await started(client);
  ws.receive({ type: 'transcript', role: 'user', text: 'hello ', final: false });
  ws.receive({ type: 'transcript', role: 'user', text: 'there', final: false });
  ws.receive({ type: 'transcript', role: 'user', text: 'Hello there.', final: true });
  ws.receive({ type: 'tool_call', name: 'get_weather', status: 'started' });
  ws.receive({ type: 'transcript', role: 'assistant', text: 'Sunny.', final: true });
  ws.receive({ type: 'interrupted' });
  ws.receive({ type: 'turn_complete' });
  ws.receive({ type: 'something_from_the_future', x: 1 });
  const transcripts = events.filter((e) => e.type === 'transcript').map((e) => e.detail);
  assert.deepEqual(transcripts.map((t) => t.utterance.text), ['hello ', 'hello there', 'Hello there.', 'Sunny.']);
  assert.deepEqual(transcripts.map((t) => t.final), [false, false, true, true]);
  assert.deepEqual(events.find((e) => e.type === 'tool_call')?.detail, { name: 'get_weather', status: 'started' });
  assert.equal(client.stats.interruptions, 1);
  assert.equal(client.stats.turnsCompleted, 1);
  assert.equal(client.state, 'live');
});

test('binary frames are decoded as PCM16 and counted', async () => {
  const { client, events } = newClient();
  const { ws } = await started(client);
  ws.receive(new Int16Array([1, 2, 3, -4]).buffer);
  const audio = events.find((e) => e.type === 'audio');
  assert.deepEqual(Array.from(audio?.detail.samples), [1, 2, 3, -4]);
  assert.equal(client.stats.bytesReceived, 8);
});

test('sendAudio sends binary frames once a session is live; sendText and ping send JSON', async () => {
  const { client, events } = newClient();
  assert.equal(client.sendAudio(new Int16Array(320)), false);
  assert.equal(client.stats.framesDropped, 1);
  const { ws } = await started(client);
  assert.equal(client.sendAudio(new Int16Array(320)), true);
  const binary = ws.sent.filter((d) => d instanceof ArrayBuffer);
  assert.equal(binary.length, 1);
  assert.equal(/** @type {ArrayBuffer} */ (binary[0]).byteLength, 640);
  assert.equal(client.stats.bytesSent, 640);
  client.sendText('What time is it?');
  assert.deepEqual(ws.messages.at(-1), { type: 'text', text: 'What time is it?' });
  const ping = client.ping();
  const sentPing = ws.messages.at(-1);
  assert.equal(sentPing.type, 'ping');
  ws.receive({ type: 'pong', id: sentPing.id });
  assert.ok((await ping) >= 0);
  assert.ok(events.some((e) => e.type === 'pong'));
});

test('stop sends end_session, waits for the close and ends closed', async () => {
  const { client, events } = newClient();
  const { ws } = await started(client);
  const stopping = client.stop();
  assert.equal(client.state, 'closing');
  assert.deepEqual(ws.messages.at(-1), { type: 'end_session' });
  ws.receive({ type: 'session_ended', reason: 'client_ended' });
  ws.serverClose(1000);
  await stopping;
  assert.equal(client.state, 'closed');
  assert.equal(FakeWebSocket.instances.length, 1, 'no reconnect after stop');
  assert.ok(events.some((e) => e.type === 'session_ended' && e.detail.reason === 'client_ended'));
});

test('going_away: reconnects at once with the resume_token and the same session_id', async () => {
  const { client, events } = newClient();
  const { ws } = await started(client);
  ws.receive({ type: 'going_away', reason: 'server_shutting_down' });
  ws.serverClose(1001);
  assert.equal(client.state, 'reconnecting');
  await until(() => FakeWebSocket.instances.length === 2);
  const ws2 = FakeWebSocket.instances[1];
  ws2.open();
  assert.deepEqual(ws2.messages[0], { type: 'start_session', user_id: 'u1', session_id: 's1', resume_token: 'tok1', received: 0, input_sample_rate: 16000 });
  ws2.receive({ type: 'session_started', session_id: 's1', resume_token: 'tok2', input_sample_rate: 16000, output_sample_rate: 24000, resumed: true, received: 0, replay_from: 1 });
  await until(() => client.state === 'live');
  assert.equal(client.resumeToken, 'tok2');
  assert.equal(client.stats.reconnects, 1);
  assert.equal(events.find((e) => e.type === 'reconnecting')?.detail.delayMs, 0);
  assert.ok(!events.some((e) => e.type === 'error'), 'going_away is not an error');
  assert.equal(events.filter((e) => e.type === 'session_started').at(-1)?.detail.resumed, true);
  await stopQuietly(client);
});

test('an unexpected drop is not an error: the client reconnects with backoff', async () => {
  const { client, events } = newClient();
  const { ws } = await started(client);
  ws.serverClose(1006);
  assert.equal(client.state, 'reconnecting');
  assert.ok(!events.some((e) => e.type === 'error'), 'a drop that is resumed is not an error');
  await until(() => FakeWebSocket.instances.length === 2);
  FakeWebSocket.instances[1].serverClose(1006); // first attempt fails
  await until(() => FakeWebSocket.instances.length === 3);
  const ws3 = FakeWebSocket.instances[2];
  ws3.open();
  assert.equal(ws3.messages[0].resume_token, 'tok1');
  ws3.receive({ type: 'session_started', session_id: 's1', resume_token: 'tok3', input_sample_rate: 16000, output_sample_rate: 24000, resumed: true, received: 0, replay_from: 1 });
  await until(() => client.state === 'live');
  assert.deepEqual(events.filter((e) => e.type === 'reconnecting').map((e) => [e.detail.attempt, e.detail.cause, e.detail.closeCode]),
    [[1, 'connection_lost', 1006], [2, 'connection_lost', 1006]]);
  await stopQuietly(client);
});

test('reconnecting is bounded: after maxAttempts the client closes with reconnect_failed', async () => {
  const { client, events } = newClient({ reconnect: { maxAttempts: 3, baseMs: 1, maxMs: 2 } });
  const { ws } = await started(client);
  ws.serverClose(1006);
  for (let n = 2; n <= 4; n++) {
    await until(() => FakeWebSocket.instances.length === n);
    FakeWebSocket.instances[n - 1].serverClose(1006);
  }
  await until(() => client.state === 'closed');
  await tick();
  assert.equal(FakeWebSocket.instances.length, 4);
  assert.ok(events.some((e) => e.type === 'error' && e.detail.code === 'reconnect_failed' && e.detail.fatal));
  assert.ok(events.some((e) => e.type === 'closed'));
});

test('a fatal permanent error ends the session without reconnecting', async () => {
  const { client, events } = newClient();
  const { ws } = await started(client);
  ws.receive({ type: 'error', code: 'max_duration', message: 'too long', fatal: true });
  ws.serverClose(4003);
  await tick();
  assert.equal(client.state, 'closed');
  assert.equal(FakeWebSocket.instances.length, 1);
  assert.deepEqual(events.filter((e) => e.type === 'error').map((e) => [e.detail.code, e.detail.fatal]), [['max_duration', true]]);
});

test('session_ended from the server (upstream_ended) ends without reconnecting', async () => {
  const { client } = newClient();
  const { ws } = await started(client);
  ws.receive({ type: 'session_ended', reason: 'upstream_ended' });
  ws.serverClose(1000);
  await tick();
  assert.equal(client.state, 'closed');
  assert.equal(FakeWebSocket.instances.length, 1);
});

test('a closed client can connect again', async () => {
  const { client } = newClient();
  const { ws } = await started(client);
  ws.receive({ type: 'session_ended', reason: 'upstream_ended' });
  ws.serverClose(1000);
  await tick();
  const again = await started(client, { userId: 'u1' });
  assert.equal(again.result.sessionId, 's1');
  assert.equal(FakeWebSocket.instances.at(-1).messages[0].resume_token, undefined, 'a new connect starts fresh');
  await stopQuietly(client);
});

test('bad options are refused at once, not after the start timeout', async () => {
  assert.throws(() => new VoiceChatClient({ audio: false, inputSampleRate: 22050 }), RangeError);
  assert.throws(() => new VoiceChatClient({ audio: false, frameMs: 5 }), RangeError);
  assert.throws(() => new VoiceChatClient({ audio: false, keepAliveMs: -1 }), RangeError);
  const { client } = newClient();
  await assert.rejects(client.connect('ws://test/voice', { userId: 'x'.repeat(129) }), RangeError);
  assert.equal(FakeWebSocket.instances.length, 0, 'no socket was opened');
  assert.equal(client.state, 'idle');
});

test('a live session that sends nothing pings, so the server does not close it as idle', async () => {
  const { client } = newClient({ keepAliveMs: 60 });
  const { ws } = await started(client);
  await new Promise((resolve) => setTimeout(resolve, 250));
  const pings = ws.messages.filter((m) => m.type === 'ping');
  assert.ok(pings.length >= 1, `expected a keep-alive ping, got ${JSON.stringify(ws.messages)}`);
  assert.ok(pings.every((p) => typeof p.id === 'string' && p.id.length > 0));
  await stopQuietly(client);
  const after = ws.messages.length;
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(ws.messages.length, after, 'no ping after stop');
});

/** A ticket endpoint that answers tickets t1, t2, … (or `status`), recording each request. */
function ticketEndpoint(status = 200) {
  /** @type {{ url: string, init: RequestInit }[]} */
  const calls = [];
  /** @type {typeof fetch} */
  const fetchImpl = async (url, init) => {
    calls.push({ url: String(url), init: /** @type {RequestInit} */ (init) });
    return new Response(JSON.stringify({ ticket: `t/${calls.length}`, expires_in: 30 }), { status });
  };
  return { calls, fetch: fetchImpl };
}

test('with ticketUrl every socket gets a fresh ticket in its URL, fetched with the bearer token', async () => {
  const endpoint = ticketEndpoint();
  const { client } = newClient({ ticketUrl: '/voice/ticket', fetch: endpoint.fetch, getToken: async () => 'id-token', ticketHeaders: () => ({ 'X-App': 'demo' }) });
  const connecting = client.connect('ws://test/voice', {});
  await until(() => FakeWebSocket.instances.length === 1);
  const ws = FakeWebSocket.instances[0];
  assert.equal(ws.url, 'ws://test/voice?ticket=t%2F1');
  assert.equal(ws.options, undefined, 'a browser WebSocket gets no headers');
  assert.equal(endpoint.calls[0].url, '/voice/ticket');
  assert.equal(endpoint.calls[0].init.method, 'POST');
  assert.equal(endpoint.calls[0].init.credentials, 'same-origin');
  assert.deepEqual(endpoint.calls[0].init.headers, { 'X-App': 'demo', Authorization: 'Bearer id-token' });
  ws.open();
  ws.receive({ type: 'session_started', session_id: 's1', resume_token: 'tok1', input_sample_rate: 16000, output_sample_rate: 24000, resumed: false });
  await connecting;

  ws.serverClose(1006);
  await until(() => FakeWebSocket.instances.length === 2);
  assert.equal(FakeWebSocket.instances[1].url, 'ws://test/voice?ticket=t%2F2', 'a ticket is single-use: reconnects fetch another');
  await client.stop();
});

test('a ticket endpoint that refuses the user fails connect with unauthorized and opens no socket', async () => {
  const endpoint = ticketEndpoint(401);
  const { client } = newClient({ ticketUrl: 'https://app.test/voice/ticket', fetch: endpoint.fetch, ticketCredentials: 'include' });
  await assert.rejects(client.connect('wss://app.test/voice', {}), (e) => e.code === 'unauthorized');
  assert.equal(FakeWebSocket.instances.length, 0);
  assert.equal(endpoint.calls[0].init.credentials, 'include');
  assert.equal(client.state, 'closed');
});

test('without ticketUrl, getToken sends the bearer token as a header to a WebSocket that takes headers', async () => {
  const { client } = newClient({ getToken: () => 'native-token' });
  const connecting = client.connect('ws://test/voice', {});
  await until(() => FakeWebSocket.instances.length === 1);
  const ws = FakeWebSocket.instances[0];
  assert.equal(ws.url, 'ws://test/voice');
  assert.deepEqual(ws.options, { headers: { Authorization: 'Bearer native-token' } });
  ws.open();
  ws.receive({ type: 'session_started', session_id: 's1', resume_token: 'tok1', input_sample_rate: 16000, output_sample_rate: 24000, resumed: false });
  await connecting;
  await client.stop();
});
