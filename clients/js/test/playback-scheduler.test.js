import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlaybackScheduler } from '../src/playback-scheduler.js';

test('the first chunk starts after the lead; the next ones follow back to back', () => {
  const s = new PlaybackScheduler({ leadSeconds: 0.1 });
  assert.equal(s.schedule(10, 0.2), 10.1);
  assert.ok(Math.abs(s.schedule(10.05, 0.2) - 10.3) < 1e-9);
  assert.ok(Math.abs(s.queuedSeconds(10.05) - 0.45) < 1e-9);
});

test('a chunk arriving after the queue ran dry restarts with the lead', () => {
  const s = new PlaybackScheduler({ leadSeconds: 0.1 });
  s.schedule(0, 0.04); // ends at 0.14
  assert.equal(s.queuedSeconds(0.5), 0);
  assert.ok(Math.abs(s.schedule(0.5, 0.04) - 0.6) < 1e-9);
});

test('reset drops what is queued', () => {
  const s = new PlaybackScheduler({ leadSeconds: 0.1 });
  s.schedule(1, 1);
  assert.ok(s.queuedSeconds(1.2) > 0.8);
  s.reset();
  assert.equal(s.queuedSeconds(1.2), 0);
  assert.ok(Math.abs(s.schedule(1.2, 0.1) - 1.3) < 1e-9);
});

test('lead must be non-negative', () => {
  assert.throws(() => new PlaybackScheduler({ leadSeconds: -1 }), RangeError);
  assert.equal(new PlaybackScheduler().leadSeconds, 0.1);
});
