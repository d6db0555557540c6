// Demo page for the VoiceChat sample server: one button to talk, live transcripts, typed turns.
import { VoiceChatClient } from './lib/voicechat/index.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const talk = /** @type {HTMLButtonElement} */ ($('talk'));
const talkLabel = $('talk-label');
const statePill = $('state');
const meterFill = $('meter-fill');
const meter = /** @type {HTMLElement} */ (meterFill.parentElement);
const activity = $('activity');
const errors = $('errors');
const transcript = $('transcript');
const form = /** @type {HTMLFormElement} */ ($('text-form'));
const input = /** @type {HTMLInputElement} */ ($('text-input'));
const send = /** @type {HTMLButtonElement} */ ($('send'));
const camera = /** @type {HTMLButtonElement} */ ($('camera'));
const preview = /** @type {HTMLVideoElement} */ ($('preview'));

const params = new URLSearchParams(location.search);
const endpoint = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/voice`;
// `?aec=0` turns off the browser's echo cancellation and noise suppression (for test rigs whose
// microphone is a file); keep them on with real speakers and microphones.
const processing = params.get('aec') !== '0';

const STATE_LABELS = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  closing: 'Ending…',
  closed: 'Not connected',
};

/** @type {VoiceChatClient | null} */
let client = null;
/** @type {Map<number, HTMLLIElement>} */
const bubbles = new Map();
/** The assistant's latest utterance while its turn is going on (to mark it when interrupted). */
let speakingUtteranceId = /** @type {number | null} */ (null);

/**
 * State for people and for the end-to-end test (read with `window.voiceChatDemo`).
 */
const demo = {
  state: 'idle',
  sessionId: /** @type {string|null} */ (null),
  /** @type {{ droppedMs: number, queuedMsAfter: number, activeSourcesAfter: number }[]} */
  interruptions: [],
  /** @type {{ role: string, text: string, final: boolean }[]} */
  transcripts: [],
  /** @type {{ code: string, message: string, source: string }[]} */
  errors: [],
  /** every state the page showed, in order */
  /** @type {string[]} */
  states: [],
  /** `session_started` of each connection: resumed or not, and the server's counts */
  /** @type {{ sessionId: string, resumed: boolean, received: number|null, replayFrom: number|null }[]} */
  starts: [],
  /** @type {{ direction: string, from: number, to: number, missed: number }[]} */
  gaps: [],
  turnsCompleted: 0,
  /** @returns {object} counters of the current (or last) client */
  stats() {
    const p = client?.playback ?? lastPlayback;
    return {
      bytesSent: client?.stats.bytesSent ?? 0,
      framesSent: client?.stats.framesSent ?? 0,
      bytesReceived: client?.stats.bytesReceived ?? 0,
      samplesPlayed: p?.samplesPlayed ?? 0,
      playedRms: p?.playedRms ?? 0,
      samplesDropped: p?.samplesDropped ?? 0,
      queuedMs: p?.queuedMs ?? 0,
      inputLevel: client?.inputLevel ?? 0,
      microphoneActive: client?.microphoneActive ?? false,
      received: client?.received ?? 0,
      reconnects: client?.stats.reconnects ?? 0,
      messagesResent: client?.stats.messagesResent ?? 0,
      messagesDiscarded: client?.stats.messagesDiscarded ?? 0,
      duplicatesSkipped: client?.stats.duplicatesSkipped ?? 0,
      cameraActive: client?.cameraActive ?? false,
      videoFramesSent: client?.stats.videoFramesSent ?? 0,
    };
  },
  get client() {
    return client;
  },
};
/** @type {import('./lib/voicechat/index.js').AudioPlayer | null} */
let lastPlayback = null;
Object.defineProperty(window, 'voiceChatDemo', { value: demo });

function userId() {
  let id = localStorage.getItem('voicechat-demo-user');
  if (!id) {
    id = `web-${crypto.randomUUID().slice(0, 8)}`;
    localStorage.setItem('voicechat-demo-user', id);
  }
  return id;
}

/** @param {string} state */
function showState(state) {
  demo.state = state;
  demo.states.push(state);
  document.body.dataset.state = state;
  statePill.dataset.state = state;
  statePill.textContent = STATE_LABELS[/** @type {keyof STATE_LABELS} */ (state)] ?? state;
  const active = state === 'connecting' || state === 'live' || state === 'reconnecting';
  talk.setAttribute('aria-pressed', String(active));
  talkLabel.textContent = active ? 'Stop' : 'Start talking';
  talk.disabled = state === 'closing';
  // While reconnecting a typed turn is kept and sent after the resume.
  input.disabled = send.disabled = state !== 'live' && state !== 'reconnecting';
  camera.disabled = state !== 'live' || client?.videoFramesPerSecond === null;
  if (!active) showCamera(false);
  if (!active) activity.textContent = '';
  if (state === 'reconnecting') activity.textContent = 'Connection lost, reconnecting…';
}

/**
 * @param {string} code
 * @param {string} message
 * @param {string} source
 */
function showError(code, message, source) {
  demo.errors.push({ code, message, source });
  const p = document.createElement('p');
  p.textContent = message ? `${message} (${code})` : code;
  errors.append(p);
  while (errors.childElementCount > 3) errors.firstElementChild?.remove();
}

/** @param {string} role */
function newBubble(role) {
  transcript.querySelector('.hint')?.remove();
  const li = document.createElement('li');
  li.className = 'utterance';
  li.dataset.role = role;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = role === 'user' ? 'You' : 'Assistant';
  li.append(who, document.createElement('span'));
  transcript.append(li);
  return li;
}

/** @param {{ id: number, role: string, text: string, final: boolean }} u */
function showUtterance(u) {
  let li = bubbles.get(u.id);
  if (!li) {
    li = newBubble(u.role);
    bubbles.set(u.id, li);
  }
  li.dataset.final = String(u.final);
  /** @type {HTMLElement} */ (li.lastElementChild).textContent = u.text;
  li.scrollIntoView({ block: 'end' });
}

/** @param {VoiceChatClient} c */
function wire(c) {
  c.addEventListener('statechange', (e) => showState(/** @type {CustomEvent} */ (e).detail.state));
  c.addEventListener('session_started', (e) => {
    const { sessionId, resumed, received, replayFrom } = /** @type {CustomEvent} */ (e).detail;
    demo.sessionId = sessionId;
    demo.starts.push({ sessionId, resumed, received, replayFrom });
    activity.textContent = resumed ? 'Conversation resumed.' : 'Listening…';
  });
  c.addEventListener('gap', (e) => {
    const gap = /** @type {CustomEvent} */ (e).detail;
    demo.gaps.push(gap);
    activity.textContent = gap.direction === 'received' ? 'Part of the reply was lost while reconnecting.' : 'Part of what you said was lost while reconnecting.';
  });
  c.addEventListener('resume_failed', () => {
    activity.textContent = 'The conversation could not be resumed; a new one has started.';
  });
  c.addEventListener('transcript', (e) => {
    const { role, text, final, utterance } = /** @type {CustomEvent} */ (e).detail;
    demo.transcripts.push({ role, text, final });
    showUtterance(utterance);
    if (role === 'assistant') {
      speakingUtteranceId = utterance.id;
      activity.textContent = 'Speaking…';
    }
  });
  c.addEventListener('interrupted', (e) => {
    demo.interruptions.push({
      droppedMs: /** @type {CustomEvent} */ (e).detail.droppedMs,
      queuedMsAfter: c.playback?.queuedMs ?? 0,
      activeSourcesAfter: c.playback?.activeSources ?? 0,
    });
    const cut = speakingUtteranceId === null ? undefined : bubbles.get(speakingUtteranceId);
    if (cut) cut.dataset.interrupted = 'true';
    speakingUtteranceId = null;
    activity.textContent = 'Listening…';
  });
  c.addEventListener('turn_complete', () => {
    demo.turnsCompleted++;
    speakingUtteranceId = null;
    activity.textContent = 'Listening…';
  });
  c.addEventListener('tool_call', (e) => {
    const { name, status } = /** @type {CustomEvent} */ (e).detail;
    activity.textContent = status === 'started' ? `Looking that up (${name})…` : '';
  });
  c.addEventListener('reconnecting', (e) => {
    const { attempt } = /** @type {CustomEvent} */ (e).detail;
    activity.textContent = attempt === 1 ? 'Connection lost, reconnecting…' : `Connection lost, reconnecting (attempt ${attempt})…`;
  });
  c.addEventListener('error', (e) => {
    const { code, message, source } = /** @type {CustomEvent} */ (e).detail;
    showError(code, message, source);
  });
}

async function start() {
  errors.replaceChildren();
  client = new VoiceChatClient({
    microphone: processing ? {} : { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  wire(client);
  lastPlayback = null;
  try {
    await client.connect(endpoint, { userId: userId(), metadata: { client: 'web-demo' }, video: true });
    camera.disabled = client.videoFramesPerSecond === null;
    lastPlayback = client.playback;
    await client.startMicrophone();
  } catch (error) {
    // connect() failures arrive as error events too; show the rest.
    if (!demo.errors.length) showError(error?.code ?? 'connect_failed', error?.message ?? String(error), 'client');
    if (client.state !== 'closed') await client.stop();
  }
}

async function stop() {
  const c = client;
  if (!c) return;
  lastPlayback = c.playback;
  await c.stop();
}

talk.addEventListener('click', () => {
  const state = client?.state ?? 'idle';
  if (state === 'idle' || state === 'closed') void start();
  else void stop();
});

/** @param {boolean} on */
function showCamera(on) {
  camera.setAttribute('aria-pressed', String(on));
  preview.hidden = !on;
  if (!on) preview.srcObject = null;
}

camera.addEventListener('click', async () => {
  const c = client;
  if (!c || c.state !== 'live') return;
  if (c.cameraActive) {
    c.stopCamera();
    showCamera(false);
    return;
  }
  try {
    await c.startCamera();
    preview.srcObject = c.cameraStream;
    showCamera(true);
  } catch (error) {
    // startCamera reports camera_unavailable as an error event too; show the rest.
    if (error?.code !== 'camera_unavailable') showError(error?.code ?? 'camera_failed', error?.message ?? String(error), 'camera');
  }
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text || (client?.state !== 'live' && client?.state !== 'reconnecting')) return;
  client.sendText(text);
  input.value = '';
  // Typed turns have no transcript from the server: show them as sent.
  const li = newBubble('user');
  li.dataset.final = 'true';
  li.dataset.typed = 'true';
  /** @type {HTMLElement} */ (li.lastElementChild).textContent = text;
  li.scrollIntoView({ block: 'end' });
});

function renderMeter() {
  const level = client?.inputLevel ?? 0;
  // dBFS from -60 to 0 across the bar.
  const db = level > 0 ? 20 * Math.log10(level) : -100;
  const percent = Math.max(0, Math.min(100, ((db + 60) / 60) * 100));
  meterFill.style.width = `${percent.toFixed(0)}%`;
  meter.setAttribute('aria-valuenow', percent.toFixed(0));
  const s = demo.stats();
  $('stat-sent').textContent = `${(s.bytesSent / 1024).toFixed(0)} kB`;
  $('stat-played').textContent = `${(s.samplesPlayed / 24000).toFixed(1)} s`;
  $('stat-interruptions').textContent = String(demo.interruptions.length);
  requestAnimationFrame(renderMeter);
}
requestAnimationFrame(renderMeter);
showState('idle');
