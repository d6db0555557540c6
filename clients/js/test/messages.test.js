import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeStartSession, encodeText, encodePing, encodeEndSession, encodeAudioStreamEnd,
  encodeActivityStart, encodeActivityEnd, encodeAck, decodeServerMessage,
} from '../src/messages.js';

test('start_session carries only the fields given, in snake_case', () => {
  assert.deepEqual(JSON.parse(encodeStartSession({ userId: 'u1' })), { type: 'start_session', user_id: 'u1' });
  assert.deepEqual(JSON.parse(encodeStartSession({
    userId: 'u1', sessionId: 's1', resumeToken: 'tok', voice: 'Puck', language: 'en-US',
    inputSampleRate: 16000, metadata: { app_version: '1.2.3' },
  })), {
    type: 'start_session', user_id: 'u1', session_id: 's1', resume_token: 'tok', voice: 'Puck',
    language: 'en-US', input_sample_rate: 16000, metadata: { app_version: '1.2.3' },
  });
  assert.deepEqual(JSON.parse(encodeStartSession()), { type: 'start_session' });
});

test('start_session refuses values the protocol refuses', () => {
  assert.throws(() => encodeStartSession({ inputSampleRate: 44100 }), RangeError);
  assert.throws(() => encodeStartSession({ userId: '' }), RangeError);
  assert.throws(() => encodeStartSession({ sessionId: 'x'.repeat(129) }), RangeError);
});

test('client messages', () => {
  assert.deepEqual(JSON.parse(encodeText('hi')), { type: 'text', text: 'hi' });
  assert.deepEqual(JSON.parse(encodePing('42')), { type: 'ping', id: '42' });
  assert.deepEqual(JSON.parse(encodePing()), { type: 'ping' });
  assert.deepEqual(JSON.parse(encodeEndSession()), { type: 'end_session' });
  assert.deepEqual(JSON.parse(encodeAudioStreamEnd()), { type: 'audio_stream_end' });
  assert.deepEqual(JSON.parse(encodeActivityStart()), { type: 'activity_start' });
  assert.deepEqual(JSON.parse(encodeActivityEnd()), { type: 'activity_end' });
  assert.deepEqual(JSON.parse(encodeAck(25)), { type: 'ack', received: 25 });
  assert.deepEqual(JSON.parse(encodeStartSession({ userId: 'u1', resumeToken: 't', received: 25 })), { type: 'start_session', user_id: 'u1', resume_token: 't', received: 25 });
  assert.throws(() => encodeStartSession({ received: -1 }), RangeError);
});

test('server messages decode to camelCase, ignoring unknown fields', () => {
  assert.deepEqual(
    decodeServerMessage('{"type":"session_started","session_id":"s1","resume_token":"t","input_sample_rate":16000,"output_sample_rate":24000,"resumed":false,"future":1}'),
    { type: 'session_started', sessionId: 's1', resumeToken: 't', inputSampleRate: 16000, outputSampleRate: 24000, resumed: false, received: null, replayFrom: null, resumeFailed: null, videoFramesPerSecond: null });
  assert.deepEqual(
    decodeServerMessage('{"type":"session_started","session_id":"s1","resume_token":"t2","input_sample_rate":16000,"output_sample_rate":24000,"resumed":true,"received":40,"replay_from":26}'),
    { type: 'session_started', sessionId: 's1', resumeToken: 't2', inputSampleRate: 16000, outputSampleRate: 24000, resumed: true, received: 40, replayFrom: 26, resumeFailed: null, videoFramesPerSecond: null });
  assert.equal(decodeServerMessage('{"type":"session_started","session_id":"s2","resumed":false,"resume_failed":"token_not_found"}').resumeFailed, 'token_not_found');
  assert.deepEqual(decodeServerMessage('{"type":"ack","received":120}'), { type: 'ack', received: 120 });
  assert.deepEqual(decodeServerMessage('{"type":"transcript","role":"user","text":"what","final":false}'),
    { type: 'transcript', role: 'user', text: 'what', final: false });
  assert.deepEqual(decodeServerMessage('{"type":"transcript","role":"assistant","text":"It is sunny.","final":true}'),
    { type: 'transcript', role: 'assistant', text: 'It is sunny.', final: true });
  assert.deepEqual(decodeServerMessage('{"type":"interrupted"}'), { type: 'interrupted' });
  assert.deepEqual(decodeServerMessage('{"type":"turn_complete"}'), { type: 'turn_complete' });
  assert.deepEqual(decodeServerMessage('{"type":"tool_call","name":"get_weather","status":"started"}'),
    { type: 'tool_call', name: 'get_weather', status: 'started' });
  assert.deepEqual(decodeServerMessage('{"type":"going_away","reason":"server_shutting_down"}'),
    { type: 'going_away', reason: 'server_shutting_down' });
  assert.deepEqual(decodeServerMessage('{"type":"error","code":"invalid_json","message":"m","fatal":false}'),
    { type: 'error', code: 'invalid_json', message: 'm', fatal: false });
  assert.deepEqual(decodeServerMessage('{"type":"session_ended","reason":"client_ended"}'),
    { type: 'session_ended', reason: 'client_ended' });
  assert.deepEqual(decodeServerMessage('{"type":"pong","id":"42"}'), { type: 'pong', id: '42' });
  assert.deepEqual(decodeServerMessage('{"type":"pong"}'), { type: 'pong', id: null });
});

test('an unknown type is kept as unknown; non-objects throw', () => {
  assert.equal(decodeServerMessage('{"type":"something_new"}').type, 'unknown');
  assert.throws(() => decodeServerMessage('[1]'), SyntaxError);
  assert.throws(() => decodeServerMessage('nope'), SyntaxError);
  assert.throws(() => decodeServerMessage('null'), SyntaxError);
});
