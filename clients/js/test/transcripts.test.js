import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TranscriptAssembler } from '../src/transcripts.js';

test('fragments append; a final replaces them and closes the utterance', () => {
  const t = new TranscriptAssembler();
  assert.equal(t.apply('user', 'what is', false).text, 'what is');
  const u = t.apply('user', ' the weather', false);
  assert.equal(u.text, 'what is the weather');
  assert.equal(u.final, false);
  const f = t.apply('user', "What's the weather?", true);
  assert.equal(f.id, u.id);
  assert.equal(f.text, "What's the weather?");
  assert.equal(f.final, true);
  const next = t.apply('user', 'and', false);
  assert.notEqual(next.id, u.id);
  assert.deepEqual(t.utterances.map((x) => [x.role, x.text, x.final]), [
    ['user', "What's the weather?", true],
    ['user', 'and', false],
  ]);
});

test('roles are assembled independently and interleave by first fragment', () => {
  const t = new TranscriptAssembler();
  t.apply('user', 'Hi', false);
  t.apply('assistant', 'Hel', false);
  t.apply('user', 'Hi there', true);
  t.apply('assistant', 'lo', false);
  t.apply('assistant', 'Hello!', true);
  assert.deepEqual(t.utterances.map((x) => [x.role, x.text, x.final]), [
    ['user', 'Hi there', true],
    ['assistant', 'Hello!', true],
  ]);
});

test('a final without fragments is a whole utterance', () => {
  const t = new TranscriptAssembler();
  const u = t.apply('assistant', 'Done.', true);
  assert.equal(u.final, true);
  assert.equal(t.utterances.length, 1);
});

test('closeOpen finalises what is open as it is; history is bounded', () => {
  const t = new TranscriptAssembler({ maxUtterances: 3 });
  t.apply('user', 'cut o', false);
  t.closeOpen();
  assert.deepEqual(t.utterances.map((x) => [x.text, x.final]), [['cut o', true]]);
  for (let i = 0; i < 5; i++) t.apply('user', `u${i}`, true);
  assert.deepEqual(t.utterances.map((x) => x.text), ['u2', 'u3', 'u4']);
});
