// End to end: Debian's Chromium opens the sample server's demo page, a WAV file is the
// microphone, the server answers through its Gemini Live emulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startCutProxy } from './support/cut-proxy.js';
import { startSampleServer } from './support/sample-server.js';
import { makeConversationWav } from './support/speech.js';
import { makeCameraY4m } from './support/camera.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const resultsDir = path.join(process.env.VOICECHAT_RESULTS ?? path.join(repoRoot, 'artifacts', 'test-results'), 'browser');
const workDir = mkdtempSync(path.join(os.tmpdir(), 'voicechat-browser-'));

/** @type {Awaited<ReturnType<typeof startSampleServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {ReturnType<typeof makeConversationWav>} */
let speech;
/** @type {ReturnType<typeof makeCameraY4m>} */
let camera;

before(async () => {
  mkdirSync(resultsDir, { recursive: true });
  speech = makeConversationWav(workDir);
  camera = makeCameraY4m(workDir);
  server = await startSampleServer(repoRoot);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${speech.file}%noloop`,
      `--use-file-for-fake-video-capture=${camera.file}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

/**
 * A phone-sized page for the demo, with its errors collected.
 * @param {RegExp} [expectedConsoleErrors] console errors the test expects (left out of `pageErrors`)
 */
async function openPhonePage(expectedConsoleErrors) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  /** @type {string[]} */
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !expectedConsoleErrors?.test(m.text())) pageErrors.push(m.text()); });
  return { context, page, pageErrors };
}

/**
 * Opens the demo from `baseUrl` and presses the talk button; returns once the session is live.
 * @param {import('playwright-core').Page} page
 * @param {string} baseUrl
 */
async function startTalking(page, baseUrl) {
  await page.goto(`${baseUrl}/?aec=0`);
  await page.locator('#talk').click();
  await page.waitForFunction(() => window.voiceChatDemo.state === 'live', null, { timeout: 20000 });
}

/**
 * Types a turn and waits for the assistant's next final transcript.
 * @param {import('playwright-core').Page} page
 * @param {string} text
 */
async function typeAndAwaitAnswer(page, text) {
  const assistantFinals = () => window.voiceChatDemo.transcripts.filter((x) => x.role === 'assistant' && x.final).length;
  const before = await page.evaluate(assistantFinals);
  await page.locator('#text-input').fill(text);
  await page.locator('#send').click();
  await page.waitForFunction((n) => window.voiceChatDemo.transcripts.filter((x) => x.role === 'assistant' && x.final).length > n,
    before, { timeout: 30000 });
}

test('GET / serves the demo page and the client library as JavaScript modules', async () => {
  const page = await fetch(`${server.url}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<button id="talk"/);
  for (const file of ['index.js', 'voicechat-client.js', 'capture-worklet.js']) {
    const res = await fetch(`${server.url}/lib/voicechat/${file}`);
    assert.equal(res.status, 200, file);
    assert.match(res.headers.get('content-type') ?? '', /javascript/, file);
  }
});

test('talking to the demo page: speech reaches the model, the answer plays, barge-in flushes playback', async (t) => {
  const { context, page, pageErrors } = await openPhonePage();

  try {
    await startTalking(page, server.url);

    // The whole script: first answer, barge-in, second answer. Generous: CI machines are slow.
    await page.waitForFunction(() => {
      const d = window.voiceChatDemo;
      const finals = (/** @type {string} */ role) => d.transcripts.filter((x) => x.role === role && x.final).length;
      return d.interruptions.length >= 1 && finals('user') >= 2 && finals('assistant') >= 2 && d.turnsCompleted >= 2;
    }, null, { timeout: 90000, polling: 250 });

    const demo = await page.evaluate(() => {
      const d = window.voiceChatDemo;
      return { state: d.state, interruptions: d.interruptions, transcripts: d.transcripts, errors: d.errors, turns: d.turnsCompleted, stats: d.stats() };
    });
    t.diagnostic(JSON.stringify({ speech, ...demo }));

    // The server heard the speech: the emulator reports how much audio made up the utterance.
    assert.ok(demo.stats.bytesSent > 32000, `bytes sent ${demo.stats.bytesSent}`);
    const heard = demo.transcripts
      .filter((x) => x.role === 'user')
      .map((x) => Number(/heard ([\d.]+) s/.exec(x.text)?.[1] ?? 0));
    assert.ok(Math.max(0, ...heard) >= 1.0, `user transcripts: ${JSON.stringify(demo.transcripts.filter((x) => x.role === 'user'))}`);

    // The page played the model's answer, and it was not silence.
    assert.ok(demo.stats.samplesPlayed > 24000 * 0.5, `samples played ${demo.stats.samplesPlayed}`);
    assert.ok(demo.stats.playedRms > 0.005, `RMS of played audio ${demo.stats.playedRms}`);

    // Barge-in: `interrupted` dropped the queued answer at once.
    const first = demo.interruptions[0];
    assert.equal(first.queuedMsAfter, 0);
    assert.equal(first.activeSourcesAfter, 0);
    assert.ok(demo.stats.samplesDropped > 0, 'the interruption dropped queued audio');

    // Both sides' transcripts are on the page.
    const userText = await page.locator('.utterance[data-role="user"]').allTextContents();
    const assistantText = await page.locator('.utterance[data-role="assistant"]').allTextContents();
    assert.ok(userText.some((s) => /heard/.test(s)), `user bubbles: ${JSON.stringify(userText)}`);
    assert.ok(assistantText.some((s) => s.replace(/^Assistant/, '').trim().length > 0), `assistant bubbles: ${JSON.stringify(assistantText)}`);

    assert.deepEqual(demo.errors, []);
    assert.deepEqual(pageErrors, []);
    assert.equal(demo.state, 'live');

    // A typed turn gets an answer too.
    await typeAndAwaitAnswer(page, 'What is the weather in Paris?');
    assert.equal(await page.locator('#text-input').inputValue(), '');
    assert.equal(await page.locator('.utterance[data-typed="true"]').last().textContent(), 'YouWhat is the weather in Paris?');

    // Stop: the session ends cleanly and the page returns to its idle look.
    await page.screenshot({ path: path.join(resultsDir, 'demo-phone.png'), fullPage: true });
    await page.locator('#talk').click();
    await page.waitForFunction(() => window.voiceChatDemo.state === 'closed', null, { timeout: 10000 });
    assert.equal(await page.evaluate(() => window.voiceChatDemo.stats().microphoneActive), false);
  } catch (error) {
    await page.screenshot({ path: path.join(resultsDir, 'demo-phone-failure.png'), fullPage: true }).catch(() => {});
    t.diagnostic(`server output:\n${server.output().slice(-4000)}`);
    throw error;
  } finally {
    await context.close();
  }
});

test('a connection dropped mid-reply: the page shows reconnecting…, resumes and the conversation goes on', async (t) => {
  const proxy = await startCutProxy(server.url);
  // Chromium logs each reconnect attempt refused while the network is down; those are expected.
  const { context, page, pageErrors } = await openPhonePage(/^WebSocket connection to .* failed/);
  const demoState = () => page.evaluate(() => {
    const d = window.voiceChatDemo;
    return { state: d.state, states: d.states, starts: d.starts, gaps: d.gaps, errors: d.errors, transcripts: d.transcripts, turns: d.turnsCompleted, stats: d.stats() };
  });

  try {
    // The page goes through the relay, so the test can cut its WebSocket like a lost network.
    await startTalking(page, proxy.url);

    // Mid-reply: the model has started answering the first utterance and has not finished.
    await page.waitForFunction(() => {
      const d = window.voiceChatDemo;
      return d.turnsCompleted === 0 && d.transcripts.some((x) => x.role === 'assistant' && !x.final);
    }, null, { timeout: 60000, polling: 20 });
    const beforeCut = await demoState();

    // The network goes away for a while: the connection is reset and reconnect attempts fail.
    proxy.refuse(true);
    assert.equal(proxy.cutWebSockets(), 1, 'one WebSocket went through the relay');
    await page.waitForFunction(() => window.voiceChatDemo.state === 'reconnecting', null, { timeout: 10000 });
    await assert.doesNotReject(page.locator('#state', { hasText: /reconnecting…/i }).waitFor({ timeout: 5000 }));
    assert.match(await page.locator('#activity').textContent() ?? '', /reconnecting/i);
    await page.screenshot({ path: path.join(resultsDir, 'demo-reconnecting.png'), fullPage: true });
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the microphone keeps capturing meanwhile
    proxy.refuse(false);

    // The session resumes on a new connection: the same session, nothing missing on either side.
    await page.waitForFunction(() => window.voiceChatDemo.state === 'live', null, { timeout: 30000 });
    let demo = await demoState();
    const resumedStart = demo.starts.at(-1);
    assert.equal(demo.starts.length, 2, JSON.stringify(demo.starts));
    assert.equal(resumedStart?.resumed, true, JSON.stringify(demo.starts));
    assert.equal(resumedStart?.sessionId, demo.starts[0].sessionId);
    assert.ok(demo.states.includes('reconnecting'));
    assert.deepEqual(demo.gaps, []);
    assert.ok(demo.stats.messagesResent > 0, 'the microphone frames captured while reconnecting were sent after the resume');
    assert.equal(demo.stats.messagesDiscarded, 0);

    // The conversation carries on: the reply under way is finished or interrupted, the second
    // utterance (captured partly while offline) is heard and answered.
    await page.waitForFunction((n) => {
      const d = window.voiceChatDemo;
      return d.turnsCompleted >= 1 && d.transcripts.filter((x) => x.role === 'assistant' && x.final).length > n;
    }, beforeCut.transcripts.filter((x) => x.role === 'assistant' && x.final).length, { timeout: 60000, polling: 250 });
    demo = await demoState();
    t.diagnostic(JSON.stringify({ beforeCut: { transcripts: beforeCut.transcripts, stats: beforeCut.stats }, after: demo }));
    assert.ok(demo.stats.received > beforeCut.stats.received);
    assert.ok(demo.stats.samplesPlayed > beforeCut.stats.samplesPlayed, 'audio played after the resume');

    // A typed turn after the resume gets an answer.
    await typeAndAwaitAnswer(page, 'Are you still there?');
    assert.match(await page.locator('#state').textContent() ?? '', /live/i);

    demo = await demoState();
    assert.deepEqual(demo.errors, [], 'a resumed drop is not an error');
    assert.deepEqual(pageErrors, []);
    await page.screenshot({ path: path.join(resultsDir, 'demo-resumed.png'), fullPage: true });
    await page.locator('#talk').click();
    await page.waitForFunction(() => window.voiceChatDemo.state === 'closed', null, { timeout: 10000 });
  } catch (error) {
    await page.screenshot({ path: path.join(resultsDir, 'demo-reconnect-failure.png'), fullPage: true }).catch(() => {});
    t.diagnostic(`page: ${JSON.stringify(await demoState().catch(() => null))}`);
    t.diagnostic(`server output:\n${server.output().slice(-4000)}`);
    throw error;
  } finally {
    await context.close();
    await proxy.close();
  }
});

test('the camera on the demo page: frames from a fake camera reach the model, whose answer names them', async (t) => {
  const { context, page, pageErrors } = await openPhonePage();
  const demoState = () => page.evaluate(() => {
    const d = window.voiceChatDemo;
    return { state: d.state, errors: d.errors, transcripts: d.transcripts, stats: d.stats() };
  });

  try {
    await startTalking(page, server.url);
    assert.equal(await page.locator('#camera').isDisabled(), false, 'the session takes video');

    await page.locator('#camera').click();
    await page.waitForFunction(() => window.voiceChatDemo.stats().videoFramesSent >= 2, null, { timeout: 20000 });
    assert.equal(await page.locator('#camera').getAttribute('aria-pressed'), 'true');
    assert.equal(await page.locator('#preview').isVisible(), true, 'the preview shows the camera');
    await page.waitForFunction(() => /** @type {HTMLVideoElement} */ (document.getElementById('preview')).videoWidth > 0, null, { timeout: 10000 });

    // Asked about the picture, the model (the emulator) names the frames it received since the last
    // turn. Spoken turns from the microphone may take some of them: any answer that names frames counts.
    await typeAndAwaitAnswer(page, 'What does the sign say?');
    const seen = new RegExp(`I saw (\\d+) frames? \\(image/jpeg ${camera.width}x${camera.height}\\)`);
    await page.waitForFunction((source) => window.voiceChatDemo.transcripts.some((x) => x.role === 'assistant' && x.final && new RegExp(source).test(x.text)),
      seen.source, { timeout: 30000 });
    const demo = await demoState();
    t.diagnostic(JSON.stringify({ camera, ...demo }));
    const answers = demo.transcripts.filter((x) => x.role === 'assistant' && x.final && seen.test(x.text));
    const frames = answers.reduce((sum, x) => sum + Number(seen.exec(x.text)?.[1] ?? 0), 0);
    assert.ok(frames >= 1 && frames <= demo.stats.videoFramesSent, `frames named ${frames}, sent ${demo.stats.videoFramesSent}`);
    const shown = await page.locator('.utterance[data-role="assistant"]').allTextContents();
    assert.ok(shown.some((text) => seen.test(text)), `assistant bubbles: ${JSON.stringify(shown)}`);

    // The camera stops; the session goes on.
    await page.screenshot({ path: path.join(resultsDir, 'demo-camera.png'), fullPage: true });
    await page.locator('#camera').click();
    assert.equal(await page.evaluate(() => window.voiceChatDemo.stats().cameraActive), false);
    assert.equal(await page.locator('#preview').isVisible(), false);
    assert.deepEqual(demo.errors.filter((e) => e.code !== 'video_frames_dropped'), []);
    assert.deepEqual(pageErrors, []);
    await page.locator('#talk').click();
    await page.waitForFunction(() => window.voiceChatDemo.state === 'closed', null, { timeout: 10000 });
  } catch (error) {
    await page.screenshot({ path: path.join(resultsDir, 'demo-camera-failure.png'), fullPage: true }).catch(() => {});
    t.diagnostic(`page: ${JSON.stringify(await demoState().catch(() => null))}`);
    t.diagnostic(`server output:\n${server.output().slice(-4000)}`);
    throw error;
  } finally {
    await context.close();
  }
});
