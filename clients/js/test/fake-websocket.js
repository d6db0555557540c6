// A scripted in-process WebSocket and helpers for the client's protocol tests (no audio devices).
import { VoiceChatClient } from '../src/voicechat-client.js';

export class FakeWebSocket {
  /** @type {FakeWebSocket[]} */
  static instances = [];
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;

  /**
   * @param {string} url
   * @param {string[]} [protocols]
   * @param {{ headers?: Record<string, string> }} [options] what Node's `ws` takes; browsers take no headers
   */
  constructor(url, protocols, options) {
    this.url = url;
    this.options = options;
    this.readyState = 0;
    this.binaryType = 'blob';
    /** @type {(string|ArrayBuffer)[]} */
    this.sent = [];
    this.closeCode = /** @type {number|null} */ (null);
    this.onopen = null; this.onmessage = null; this.onclose = null; this.onerror = null;
    FakeWebSocket.instances.push(this);
  }

  /** @param {string|ArrayBuffer} data */
  send(data) {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(data);
  }

  close(code = 1005) {
    if (this.readyState >= 2) return;
    this.closeCode = code;
    this.readyState = 2;
    queueMicrotask(() => this.serverClose(code));
  }

  // ---- the server side ----
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }

  /** @param {object|ArrayBuffer} msg */
  receive(msg) {
    this.onmessage?.({ data: msg instanceof ArrayBuffer ? msg : JSON.stringify(msg) });
  }

  serverClose(code, reason = '') {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** JSON messages the client sent. */
  get messages() {
    return this.sent.filter((d) => typeof d === 'string').map((d) => JSON.parse(/** @type {string} */ (d)));
  }
}

export const tick = () => new Promise((r) => setTimeout(r, 0));

/** Waits until `fn()` is truthy (bounded). */
export async function until(fn, ms = 3000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function newClient(extra = {}) {
  FakeWebSocket.instances = [];
  const client = new VoiceChatClient({ audio: false, WebSocket: /** @type {any} */ (FakeWebSocket), reconnect: { baseMs: 1, maxMs: 4 }, ...extra });
  /** @type {{type:string, detail:any}[]} */
  const events = [];
  for (const type of ['statechange', 'session_started', 'transcript', 'turn_complete', 'interrupted', 'tool_call',
    'going_away', 'session_ended', 'error', 'reconnecting', 'closed', 'audio', 'pong', 'gap', 'resume_failed']) {
    client.addEventListener(type, (e) => events.push({ type, detail: /** @type {CustomEvent} */ (e).detail }));
  }
  return { client, events };
}

/** Connects and answers start_session; returns the socket. */
export async function started(client, session = { userId: 'u1' }) {
  const connecting = client.connect('ws://test/voice', session);
  const ws = FakeWebSocket.instances.at(-1);
  ws.open();
  ws.receive({ type: 'session_started', session_id: 's1', resume_token: 'tok1', input_sample_rate: 16000, output_sample_rate: 24000, resumed: false });
  const result = await connecting;
  return { ws, result };
}

/** Stops a client whose fake socket will not answer end_session. */
export async function stopQuietly(client) {
  await client.stop({ timeoutMs: 10 });
}
