import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shouldReconnect, backoffDelay } from '../src/reconnect.js';

const base = { userStopped: false, sessionEnded: false, goingAway: false, closeCode: 1006, fatalErrorCode: null };

test('reconnects after a drop, going_away and transient server failures', () => {
  assert.equal(shouldReconnect(base), true);
  assert.equal(shouldReconnect({ ...base, goingAway: true, closeCode: 1001 }), true);
  assert.equal(shouldReconnect({ ...base, closeCode: 1001 }), true);
  for (const code of ['upstream_unavailable', 'upstream_internal', 'upstream_timeout', 'server_busy', 'internal_error']) {
    assert.equal(shouldReconnect({ ...base, fatalErrorCode: code }), true, code);
  }
});

test('does not reconnect after stop, session_ended or a permanent refusal', () => {
  assert.equal(shouldReconnect({ ...base, userStopped: true }), false);
  assert.equal(shouldReconnect({ ...base, sessionEnded: true, closeCode: 1000 }), false);
  assert.equal(shouldReconnect({ ...base, closeCode: 1000 }), false);
  assert.equal(shouldReconnect({ ...base, closeCode: 1008 }), false);
  for (const code of ['upstream_auth_failed', 'model_not_found', 'max_duration', 'idle_timeout', 'frame_too_large', 'quota_exhausted']) {
    assert.equal(shouldReconnect({ ...base, fatalErrorCode: code }), false, code);
  }
});

test('backoff grows exponentially within [ceiling/2, ceiling] and is capped', () => {
  const low = () => 0;
  const high = () => 1;
  assert.equal(backoffDelay(0, { random: low }), 125);
  assert.equal(backoffDelay(0, { random: high }), 250);
  assert.equal(backoffDelay(3, { random: high }), 2000);
  assert.equal(backoffDelay(10, { random: high }), 5000);
  assert.equal(backoffDelay(10, { random: low }), 2500);
  assert.equal(backoffDelay(0, { immediateFirst: true }), 0);
  assert.ok(backoffDelay(1, { immediateFirst: true, random: low }) > 0);
});
