// Builds the fake microphone's WAV: spoken English from espeak-ng, shaped with sox.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * @param {string} dir
 * @param {string} name
 * @param {string} text
 * @returns {string} a 16 kHz mono PCM16 WAV of the text
 */
function speak(dir, name, text) {
  const raw = path.join(dir, `${name}-raw.wav`);
  const out = path.join(dir, `${name}.wav`);
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', raw, text]);
  execFileSync('sox', [raw, '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', out]);
  return out;
}

/**
 * @param {string} dir
 * @param {string} name
 * @param {number} seconds
 */
function silence(dir, name, seconds) {
  const out = path.join(dir, `${name}.wav`);
  execFileSync('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', out, 'trim', '0', String(seconds)]);
  return out;
}

/** @param {string} file */
export function durationSeconds(file) {
  return Number(execFileSync('soxi', ['-D', file]).toString().trim());
}

/**
 * The microphone script: a first utterance, a pause long enough for the model to answer, and a
 * second utterance that starts while the answer (the first utterance played back) is still
 * playing, so it barges in; then silence for the model's second answer.
 * @param {string} dir
 * @returns {{ file: string, first: number, gap: number, second: number }}
 */
export function makeConversationWav(dir) {
  // No sentence punctuation: a long pause inside the first utterance would end it early.
  const first = speak(dir, 'first', 'Hello there this is a test of the voice chat demo page speaking into a fake microphone');
  const second = speak(dir, 'second', 'Sorry to interrupt you but I have another question');
  const gapSeconds = 1.5;
  const parts = [silence(dir, 'lead', 0.5), first, silence(dir, 'gap', gapSeconds), second, silence(dir, 'tail', 8)];
  const file = path.join(dir, 'conversation.wav');
  execFileSync('sox', [...parts, file]);
  return { file, first: durationSeconds(first), gap: gapSeconds, second: durationSeconds(second) };
}
