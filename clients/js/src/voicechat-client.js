// VoiceChatClient: one voice session over client protocol v1 (docs/protocol.md).
import {
  decodeServerMessage,
  encodeAck,
  encodeActivityEnd,
  encodeActivityStart,
  encodeAudioStreamEnd,
  encodeEndSession,
  encodePing,
  encodeStartSession,
  encodeText,
  encodeVideoFrame,
  INPUT_SAMPLE_RATES,
  NUMBERED_SERVER_TYPES,
  OUTPUT_SAMPLE_RATE,
} from './messages.js';
import { decodePcm16, encodePcm16 } from './pcm.js';
import { TranscriptAssembler } from './transcripts.js';
import { backoffDelay, shouldReconnect } from './reconnect.js';
import { ReceivedMessages, SentMessages } from './resume.js';
import { AudioPlayer } from './audio-player.js';
import { Microphone } from './microphone.js';
import { Camera } from './camera.js';

/**
 * @typedef {'idle'|'connecting'|'live'|'reconnecting'|'closing'|'closed'} ClientState
 */

/**
 * @typedef {object} ClientOptions
 * @property {number} [inputSampleRate] microphone rate sent to the server (16000)
 * @property {number} [frameMs] microphone frame duration, 20–100 (20)
 * @property {number} [leadMs] playback jitter buffer: how far ahead the first chunk is scheduled (100)
 * @property {boolean} [audio] create an AudioContext for playback and capture (true); false for
 *   text-only use or custom audio handling through the `audio` event
 * @property {AudioContext} [audioContext] use this context instead of creating one
 * @property {MediaTrackConstraints} [microphone] extra getUserMedia audio constraints
 * @property {{ maxAttempts?: number, baseMs?: number, maxMs?: number }} [reconnect] bounded reconnects (8 attempts, 250 ms
 *   doubling to 5 s: about 23 s at most, within the server's default resume window of 30 s)
 * @property {{ ackEvery?: number, ackIntervalMs?: number, maxBufferBytes?: number }} [resume] counting for resumes:
 *   `ack` after `ackEvery` numbered server messages (8) or `ackIntervalMs` after the first unacknowledged one (250);
 *   numbered messages sent or captured while reconnecting are kept until the server acknowledges them, up to
 *   `maxBufferBytes` (1 MiB, about 32 s of 16 kHz microphone audio); past it the oldest are let go
 * @property {number} [startTimeoutMs] how long `connect` waits for `session_started` (15000)
 * @property {number} [keepAliveMs] send a `ping` after this long without sending anything, so a muted
 *   session is not closed for idleness by the server (20000; 0 turns it off)
 * @property {typeof WebSocket} [WebSocket] WebSocket constructor (the global one by default)
 * @property {string} [ticketUrl] the server's ticket endpoint (`MapVoiceChatTickets`, e.g. `/voice/ticket`):
 *   before every socket (reconnects included, a ticket is single-use) the client POSTs there and opens
 *   the voice URL with `?ticket=`. For browsers, which cannot set headers on a WebSocket.
 * @property {RequestCredentials} [ticketCredentials] `credentials` of the ticket request ('same-origin';
 *   'include' sends cookies to a ticket endpoint on another origin)
 * @property {() => (Record<string, string> | Promise<Record<string, string>>)} [ticketHeaders] extra headers of the ticket request
 * @property {() => (string | null | Promise<string | null>)} [getToken] the user's bearer token (for example a
 *   Firebase ID token), asked for before every socket: sent in `Authorization: Bearer` to `ticketUrl`, or,
 *   without one, to the WebSocket itself where the WebSocket constructor takes headers (Node's `ws`; not browsers)
 * @property {typeof fetch} [fetch] fetch implementation for the ticket request (the global one by default)
 */

/**
 * @typedef {object} SessionOptions
 * @property {string} [userId]
 * @property {string} [sessionId]
 * @property {string} [voice]
 * @property {string} [language]
 * @property {Record<string, string>} [metadata]
 * @property {boolean} [video] declare that the session sends camera frames (`startCamera`, `sendVideoFrame`)
 */

/** An error with a protocol or client error code. */
export class VoiceChatError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {boolean} [fatal]
   */
  constructor(code, message, fatal = true) {
    super(message);
    this.name = 'VoiceChatError';
    this.code = code;
    this.fatal = fatal;
  }
}

const OPEN = 1;

/**
 * A voice session client. Events (all `CustomEvent`s, data in `detail`):
 * `statechange` {state}, `session_started` {sessionId, resumed, inputSampleRate, outputSampleRate, videoFramesPerSecond},
 * `transcript` {role, text, final, utterance}, `turn_complete`, `interrupted` {droppedMs},
 * `tool_call` {name, status}, `going_away` {reason}, `session_ended` {reason},
 * `error` {code, message, fatal, source: 'server'|'socket'|'microphone'|'camera'|'client'},
 * `reconnecting` {attempt, delayMs}, `audio` {samples}, `inputlevel` {level}, `pong` {id, rttMs},
 * `closed` {code, reason}.
 */
export class VoiceChatClient extends EventTarget {
  /** @type {ClientState} */
  #state = 'idle';
  #options;
  /** @type {string | null} */
  #url = null;
  /** @type {SessionOptions} */
  #session = {};
  /** @type {Connection | null} */
  #conn = null;
  #userStopped = false;
  /** @type {(() => void) | null} */
  #cancelWait = null;
  /** @type {AudioContext | null} */
  #context = null;
  #ownsContext = false;
  /** @type {Microphone | null} */
  #microphone = null;
  /** @type {Camera | null} */
  #camera = null;
  #micEnabled = true;
  #pingCounter = 0;
  #lastSentAt = 0;
  /** @type {ReturnType<typeof setInterval> | null} */
  #keepAlive = null;
  /** @type {Map<string, { sentAt: number, resolve: (ms: number) => void, timer: ReturnType<typeof setTimeout> }>} */
  #pings = new Map();
  /** Numbered messages sent, kept until the server acknowledges them. */
  #sent;
  /** Numbered server messages received. */
  #received = new ReceivedMessages();
  #ackedCount = 0;
  #sinceAck = 0;
  /** @type {ReturnType<typeof setTimeout> | null} */
  #ackTimer = null;

  /** Id of the session (the client's or the server's). */
  sessionId = /** @type {string | null} */ (null);
  /** The latest `resume_token`; sent again when reconnecting. */
  resumeToken = /** @type {string | null} */ (null);
  /** Model audio playback, or null when `audio:false` or before `connect`. */
  playback = /** @type {AudioPlayer | null} */ (null);
  /** Transcript utterances assembled from fragments and finals. */
  transcripts = new TranscriptAssembler();
  /** The server's `video_frames_per_second` for this session; null when the session takes no video. */
  videoFramesPerSecond = /** @type {number | null} */ (null);
  /** RMS level (0..1) of the latest microphone frame. */
  inputLevel = 0;
  /** Counters, for display and tests. */
  stats = {
    bytesSent: 0,
    framesSent: 0,
    /** microphone frames dropped because there was no session (before the first `session_started`, after the end) */
    framesDropped: 0,
    bytesReceived: 0,
    framesReceived: 0,
    interruptions: 0,
    turnsCompleted: 0,
    reconnects: 0,
    /** numbered messages sent again after a resume (the server had not received them) */
    messagesResent: 0,
    /** kept messages let go unsent: past `resume.maxBufferBytes`, or when a resume failed */
    messagesDiscarded: 0,
    /** replayed server messages the client already had, skipped */
    duplicatesSkipped: 0,
    /** `video_frame`s sent */
    videoFramesSent: 0,
  };

  /** @param {ClientOptions} [options] */
  constructor(options = {}) {
    super();
    this.#options = {
      inputSampleRate: 16000,
      frameMs: 20,
      leadMs: 100,
      audio: true,
      startTimeoutMs: 15000,
      keepAliveMs: 20000,
      ...options,
      reconnect: { maxAttempts: 8, baseMs: 250, maxMs: 5000, ...options.reconnect },
      resume: { ackEvery: 8, ackIntervalMs: 250, maxBufferBytes: 1024 * 1024, ...options.resume },
    };
    const { inputSampleRate, frameMs, keepAliveMs } = this.#options;
    if (!INPUT_SAMPLE_RATES.includes(inputSampleRate)) {
      throw new RangeError(`inputSampleRate must be one of ${INPUT_SAMPLE_RATES.join(', ')}.`);
    }
    if (typeof frameMs !== 'number' || !(frameMs >= 20 && frameMs <= 100)) {
      throw new RangeError('frameMs must be a number from 20 to 100.');
    }
    if (typeof keepAliveMs !== 'number' || !(keepAliveMs >= 0)) {
      throw new RangeError('keepAliveMs must be 0 or a positive number of milliseconds.');
    }
    const { ackEvery, ackIntervalMs, maxBufferBytes } = this.#options.resume;
    if (!Number.isInteger(ackEvery) || ackEvery < 1 || !(ackIntervalMs > 0) || !(maxBufferBytes > 0)) {
      throw new RangeError('resume needs ackEvery ≥ 1, ackIntervalMs > 0 and maxBufferBytes > 0.');
    }
    this.#sent = new SentMessages(maxBufferBytes);
  }

  /** @returns {ClientState} */
  get state() {
    return this.#state;
  }

  /** The AudioContext used for playback and capture, if any. */
  get audioContext() {
    return this.#context;
  }

  /** Numbered server messages received in this session (what `ack` and a resume's `start_session` carry). */
  get received() {
    return this.#received.count;
  }

  /** Numbered messages sent (or captured while reconnecting) that the server has not acknowledged yet. */
  get unacknowledged() {
    return this.#sent.length;
  }

  /** Whether the microphone is capturing. */
  get microphoneActive() {
    return this.#microphone?.active === true;
  }

  /**
   * Opens the socket, sends `start_session` and resolves on `session_started`.
   * Call it from a user gesture (a click) so that the browser lets audio play.
   * @param {string} url `ws://` or `wss://` address of the voice endpoint
   * @param {SessionOptions} [session]
   * @returns {Promise<{ sessionId: string, resumed: boolean }>}
   */
  async connect(url, session = {}) {
    if (this.#state !== 'idle' && this.#state !== 'closed') {
      throw new VoiceChatError('invalid_state', `connect() needs an idle or closed client (state: ${this.#state}).`);
    }
    // Bad session options fail here, not later inside the socket's open handler.
    encodeStartSession({ ...session, inputSampleRate: this.#options.inputSampleRate });
    this.#url = url;
    this.#session = { ...session };
    this.#userStopped = false;
    this.resumeToken = null;
    this.sessionId = session.sessionId ?? null;
    this.#startCounting();
    if (this.#options.audio && !this.#context) {
      this.#ownsContext = !this.#options.audioContext;
      this.#context = this.#options.audioContext ?? new AudioContext({ latencyHint: 'interactive' });
      this.playback = new AudioPlayer(this.#context, { sampleRate: OUTPUT_SAMPLE_RATE, leadSeconds: this.#options.leadMs / 1000 });
    }
    // Started inside the user gesture, before any await, so autoplay policies allow it.
    const resumed = this.#context?.resume();
    this.#setState('connecting');
    try {
      const [started] = await Promise.all([this.#open(), resumed]);
      return { sessionId: started.sessionId, resumed: started.resumed };
    } catch (error) {
      this.#release();
      this.#setState('closed');
      throw error;
    }
  }

  /**
   * Starts the microphone (asks for permission) and streams it while the session is live.
   * @returns {Promise<void>}
   */
  async startMicrophone() {
    if (!this.#context) throw new VoiceChatError('no_audio', 'The client was created with audio:false or is not connected.');
    if (this.#microphone?.active) {
      this.setMicrophoneEnabled(true);
      return;
    }
    this.#micEnabled = true;
    this.#microphone = new Microphone(this.#context, {
      targetRate: this.#options.inputSampleRate,
      frameMs: this.#options.frameMs,
      constraints: this.#options.microphone,
      onFrame: (pcm, level) => this.#onMicrophoneFrame(pcm, level),
    });
    try {
      await this.#microphone.start();
    } catch (error) {
      this.#microphone = null;
      const message = error instanceof Error ? error.message : String(error);
      this.#emit('error', { code: 'microphone_unavailable', message, fatal: false, source: 'microphone' });
      throw new VoiceChatError('microphone_unavailable', message, false);
    }
  }

  /**
   * Mutes (false) or unmutes (true) the microphone. Muting sends `audio_stream_end`.
   * @param {boolean} enabled
   */
  setMicrophoneEnabled(enabled) {
    if (enabled === this.#micEnabled) return;
    this.#micEnabled = enabled;
    this.#microphone?.setEnabled(enabled);
    if (!enabled) {
      this.inputLevel = 0;
      this.#sendNumbered(encodeAudioStreamEnd());
    }
  }

  /** Stops the microphone and releases the device; the session goes on. */
  stopMicrophone() {
    if (!this.#microphone) return;
    this.#microphone.stop();
    this.#microphone = null;
    this.inputLevel = 0;
    this.#sendNumbered(encodeAudioStreamEnd());
  }

  /** Whether the camera is taking frames. */
  get cameraActive() {
    return this.#camera?.active === true;
  }

  /** The camera's MediaStream while it runs (for a preview), else null. */
  get cameraStream() {
    return this.#camera?.stream ?? null;
  }

  /**
   * Starts the camera (asks for permission) and sends JPEG frames at the server's rate while the
   * session is live. The session must have been connected with `video: true`.
   * @param {Omit<import('./camera.js').CameraOptions, 'framesPerSecond' | 'onFrame'>} [options]
   * @returns {Promise<void>}
   */
  async startCamera(options = {}) {
    if (this.#camera?.active) return;
    if (this.videoFramesPerSecond === null) {
      throw new VoiceChatError('video_not_enabled', 'The session takes no video: connect with video:true to a server that takes video.', false);
    }
    const camera = new Camera({
      ...options,
      framesPerSecond: this.videoFramesPerSecond,
      onFrame: (image, mimeType) => void this.sendVideoFrame(image, mimeType),
    });
    this.#camera = camera;
    try {
      await camera.start();
    } catch (error) {
      this.#camera = null;
      const message = error instanceof Error ? error.message : String(error);
      this.#emit('error', { code: 'camera_unavailable', message, fatal: false, source: 'camera' });
      throw new VoiceChatError('camera_unavailable', message, false);
    }
  }

  /** Stops the camera and releases the device; the session goes on. */
  stopCamera() {
    this.#camera?.stop();
    this.#camera = null;
  }

  /**
   * Sends one picture yourself (`video_frame`): JPEG or PNG bytes. Frames are not numbered: one sent
   * while there is no live socket is dropped, not kept for a resume.
   * @param {Uint8Array} image
   * @param {string} [mimeType] 'image/jpeg' (default) or 'image/png'
   * @returns {boolean} false when the frame was dropped (no live session)
   */
  sendVideoFrame(image, mimeType = 'image/jpeg') {
    const message = encodeVideoFrame(image, mimeType);
    const ws = this.#liveSocket();
    if (!ws) return false;
    ws.send(message);
    this.#lastSentAt = performance.now();
    this.stats.videoFramesSent++;
    return true;
  }

  /**
   * Sends PCM16 samples at `inputSampleRate` yourself (instead of, or besides, the microphone).
   * While the client reconnects the frame is kept and sent after the resume.
   * @param {Int16Array} samples
   * @returns {boolean} false when there is no session (the samples are dropped)
   */
  sendAudio(samples) {
    if (!this.#sendNumbered(encodePcm16(samples))) {
      this.stats.framesDropped++;
      return false;
    }
    return true;
  }

  /**
   * Sends a typed user turn (kept and sent after the resume while the client reconnects).
   * @param {string} text
   */
  sendText(text) {
    if (!this.#sendNumbered(encodeText(text))) throw new VoiceChatError('not_live', 'No session is live.', false);
  }

  /** Marks the start of the user's speech (`activity_start`; servers in manual activity detection only). */
  sendActivityStart() {
    if (!this.#sendNumbered(encodeActivityStart())) throw new VoiceChatError('not_live', 'No session is live.', false);
  }

  /** Marks the end of the user's speech (`activity_end`; servers in manual activity detection only). */
  sendActivityEnd() {
    if (!this.#sendNumbered(encodeActivityEnd())) throw new VoiceChatError('not_live', 'No session is live.', false);
  }

  /**
   * Application-level round trip.
   * @param {{ timeoutMs?: number }} [options]
   * @returns {Promise<number>} round-trip time in milliseconds
   */
  ping(options = {}) {
    if (!this.#liveSocket()) return Promise.reject(new VoiceChatError('not_live', 'No session is live.', false));
    const id = String(++this.#pingCounter);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pings.delete(id);
        reject(new VoiceChatError('ping_timeout', 'No pong in time.', false));
      }, options.timeoutMs ?? 5000);
      this.#pings.set(id, { sentAt: performance.now(), resolve, timer });
      this.#sendText(encodePing(id));
    });
  }

  /**
   * Ends the session (`end_session`, waits for `session_ended` or the close), closes the socket
   * and releases the microphone and the AudioContext.
   * @param {{ timeoutMs?: number }} [options]
   * @returns {Promise<void>}
   */
  async stop(options = {}) {
    this.#userStopped = true;
    this.#cancelWait?.();
    const conn = this.#conn;
    this.#microphone?.stop();
    this.#microphone = null;
    if (conn && conn.ws.readyState === OPEN && conn.started && !conn.ended) {
      this.#setState('closing');
      conn.ws.send(encodeEndSession());
      await Promise.race([conn.closed, delay(options.timeoutMs ?? 3000)]);
    }
    if (conn && conn.ws.readyState <= OPEN) conn.ws.close(1000);
    this.#release();
    this.#setState('closed');
  }

  // ---- internals ----

  /** @returns {WebSocket | null} */
  #liveSocket() {
    const conn = this.#conn;
    return conn && conn.started && !conn.ended && conn.ws.readyState === OPEN ? conn.ws : null;
  }

  /** @param {string} text */
  #sendText(text) {
    const ws = this.#liveSocket();
    if (ws) {
      ws.send(text);
      this.#lastSentAt = performance.now();
    }
  }

  /**
   * Numbers a message that carries the conversation, keeps it until the server acknowledges it and
   * sends it when the session is live; while reconnecting it is only kept (sent after the resume).
   * @param {string|ArrayBuffer} message
   * @returns {boolean} false when there is no session to send it in
   */
  #sendNumbered(message) {
    if (this.#state !== 'live' && this.#state !== 'reconnecting') return false;
    const discarded = this.#sent.add(message);
    this.stats.messagesDiscarded += discarded;
    // A socket that dropped a moment ago (its close not handled yet) gets nothing: the resume resends it.
    const ws = this.#liveSocket();
    if (ws) this.#transmit(ws, message);
    return true;
  }

  /**
   * @param {WebSocket} ws
   * @param {string|ArrayBuffer} message
   */
  #transmit(ws, message) {
    ws.send(message);
    this.#lastSentAt = performance.now();
    if (typeof message !== 'string') {
      this.stats.framesSent++;
      this.stats.bytesSent += message.byteLength;
    }
  }

  /** A new session (not a resume): both counts start from 0. */
  #startCounting() {
    this.stats.messagesDiscarded += this.#sent.reset();
    this.#received.reset();
    this.#ackedCount = 0;
    this.#sinceAck = 0;
    this.#clearAckTimer();
  }

  /**
   * Counts a numbered server message; acknowledges every `ackEvery` messages, or `ackIntervalMs`
   * after the first one not yet acknowledged.
   * @returns {boolean} false for a replayed message the client already had (to be skipped)
   */
  #countReceived() {
    if (!this.#received.accept()) {
      this.stats.duplicatesSkipped++;
      return false;
    }
    const { ackEvery, ackIntervalMs } = this.#options.resume;
    if (++this.#sinceAck >= ackEvery) {
      this.#sendAck();
    } else if (this.#ackTimer === null) {
      this.#ackTimer = setTimeout(() => this.#sendAck(), ackIntervalMs);
      /** @type {any} */ (this.#ackTimer).unref?.();
    }
    return true;
  }

  #sendAck() {
    this.#clearAckTimer();
    this.#sinceAck = 0;
    const count = this.#received.count;
    if (count > this.#ackedCount && this.#liveSocket()) {
      this.#ackedCount = count;
      this.#sendText(encodeAck(count));
    }
  }

  #clearAckTimer() {
    if (this.#ackTimer !== null) clearTimeout(this.#ackTimer);
    this.#ackTimer = null;
  }

  /**
   * @param {Int16Array} pcm
   * @param {number} level
   */
  #onMicrophoneFrame(pcm, level) {
    this.inputLevel = level;
    this.#emit('inputlevel', { level });
    if (this.#micEnabled) this.sendAudio(pcm);
  }

  /**
   * The URL and headers of the next socket: a fresh ticket in the URL (`ticketUrl`), else the bearer
   * token in a header (`getToken`), else the URL as given.
   * @returns {Promise<{ url: string, headers: Record<string, string> | null }>}
   */
  async #credentials() {
    const url = /** @type {string} */ (this.#url);
    const { ticketUrl, getToken } = this.#options;
    const token = getToken ? await getToken() : null;
    if (!ticketUrl) {
      return { url, headers: token ? { Authorization: `Bearer ${token}` } : null };
    }
    const fetchImpl = this.#options.fetch ?? globalThis.fetch;
    const headers = { ...(await this.#options.ticketHeaders?.()) };
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetchImpl(ticketUrl, { method: 'POST', credentials: this.#options.ticketCredentials ?? 'same-origin', headers });
    } catch {
      throw new VoiceChatError('connection_failed', 'The ticket endpoint could not be reached.');
    }
    if (response.status === 401 || response.status === 403) {
      throw new VoiceChatError('unauthorized', `The ticket endpoint refused the user (${response.status}).`);
    }
    if (!response.ok) {
      throw new VoiceChatError('connection_failed', `The ticket endpoint answered ${response.status}.`);
    }
    const { ticket } = await response.json();
    if (typeof ticket !== 'string' || ticket === '') {
      throw new VoiceChatError('connection_failed', 'The ticket endpoint answered without a ticket.');
    }
    const separator = url.includes('?') ? '&' : '?';
    return { url: `${url}${separator}ticket=${encodeURIComponent(ticket)}`, headers: null };
  }

  /**
   * Opens one socket and starts (or resumes) the session on it.
   * @returns {Promise<{ sessionId: string, resumed: boolean }>}
   */
  #open() {
    // Without credentials to fetch, the socket opens at once (inside the caller's user gesture).
    if (!this.#options.ticketUrl && !this.#options.getToken) {
      return this.#openSocket(/** @type {string} */ (this.#url), null);
    }
    return this.#credentials().then(({ url, headers }) => this.#openSocket(url, headers));
  }

  /**
   * @param {string} url
   * @param {Record<string, string> | null} headers
   * @returns {Promise<{ sessionId: string, resumed: boolean }>}
   */
  #openSocket(url, headers) {
    const WebSocketImpl = this.#options.WebSocket ?? globalThis.WebSocket;
    return new Promise((resolve, reject) => {
      // Only WebSocket implementations outside browsers (Node's `ws`) take headers, as a third argument.
      const ws = headers ? new /** @type {any} */ (WebSocketImpl)(url, [], { headers }) : new WebSocketImpl(url);
      ws.binaryType = 'arraybuffer';
      /** @type {Connection} */
      const conn = {
        ws, started: false, ended: false, goingAway: false, fatalErrorCode: null,
        closed: Promise.resolve(), resolveClosed: () => {},
      };
      conn.closed = new Promise((r) => { conn.resolveClosed = r; });
      this.#conn = conn;
      const timer = setTimeout(() => {
        fail(new VoiceChatError('start_timeout', 'No session_started in time.'));
        ws.close();
      }, this.#options.startTimeoutMs);
      let settled = false;
      /** @param {Error} error */
      const fail = (error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      };
      ws.onopen = () => {
        ws.send(encodeStartSession({
          userId: this.#session.userId,
          sessionId: this.sessionId ?? undefined,
          resumeToken: this.resumeToken ?? undefined,
          received: this.#received.count,
          voice: this.#session.voice,
          language: this.#session.language,
          inputSampleRate: this.#options.inputSampleRate,
          metadata: this.#session.metadata,
          video: this.#session.video,
        }));
      };
      ws.onmessage = (event) => {
        if (this.#conn !== conn) return;
        if (typeof event.data === 'string') {
          this.#onTextFrame(conn, event.data, (started) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve(started);
          }, fail);
        } else if (this.#countReceived()) {
          this.#onAudioFrame(event.data);
        }
      };
      ws.onclose = (event) => {
        conn.resolveClosed();
        if (this.#conn !== conn) return;
        if (!conn.started) {
          fail(new VoiceChatError(conn.fatalErrorCode ?? 'connection_failed',
            `The connection closed before the session started (code ${event.code}).`));
          return;
        }
        this.#onClosed(conn, event.code, event.reason);
      };
      // An error is always followed by a close; the close handles it.
      ws.onerror = () => {};
    });
  }

  /**
   * @param {Connection} conn
   * @param {string} text
   * @param {(started: { sessionId: string, resumed: boolean }) => void} onStarted
   * @param {(error: Error) => void} onStartFailed
   */
  #onTextFrame(conn, text, onStarted, onStartFailed) {
    let msg;
    try {
      msg = decodeServerMessage(text);
    } catch {
      this.#emit('error', { code: 'invalid_server_message', message: 'The server sent a text frame that is not a JSON object.', fatal: false, source: 'client' });
      return;
    }
    if (NUMBERED_SERVER_TYPES.includes(msg.type) && !this.#countReceived()) return;
    switch (msg.type) {
      case 'session_started':
        conn.started = true;
        this.sessionId = msg.sessionId;
        this.videoFramesPerSecond = msg.videoFramesPerSecond;
        this.resumeToken = msg.resumeToken;
        if (msg.resumed) {
          this.#onResumed(conn, msg.received, msg.replayFrom);
        } else {
          // A fresh session; after a token that did not resume, what was kept belonged to the old one.
          const discarded = this.#sent.length;
          this.#startCounting();
          if (msg.resumeFailed !== null) {
            this.transcripts.closeOpen();
            this.#emit('resume_failed', { reason: msg.resumeFailed, discarded });
          }
        }
        this.#setState('live');
        this.#emit('session_started', {
          sessionId: msg.sessionId, resumed: msg.resumed, inputSampleRate: msg.inputSampleRate, outputSampleRate: msg.outputSampleRate,
          received: msg.received, replayFrom: msg.replayFrom, videoFramesPerSecond: msg.videoFramesPerSecond,
        });
        onStarted({ sessionId: msg.sessionId, resumed: msg.resumed });
        break;
      case 'ack':
        this.#sent.acknowledge(msg.received);
        break;
      case 'transcript': {
        const utterance = this.transcripts.apply(msg.role, msg.text, msg.final);
        this.#emit('transcript', { role: msg.role, text: msg.text, final: msg.final, utterance });
        break;
      }
      case 'interrupted': {
        const droppedMs = this.playback?.flush() ?? 0;
        this.stats.interruptions++;
        this.#emit('interrupted', { droppedMs });
        break;
      }
      case 'turn_complete':
        this.stats.turnsCompleted++;
        this.#emit('turn_complete', {});
        break;
      case 'tool_call':
        this.#emit('tool_call', { name: msg.name, status: msg.status });
        break;
      case 'going_away':
        conn.goingAway = true;
        this.#emit('going_away', { reason: msg.reason });
        break;
      case 'error':
        if (msg.fatal) conn.fatalErrorCode = msg.code;
        this.#emit('error', { code: msg.code, message: msg.message, fatal: msg.fatal, source: 'server' });
        if (!conn.started && !msg.fatal) {
          // A refused start_session (user_mismatch, invalid_message, …): connect() fails.
          onStartFailed(new VoiceChatError(msg.code, msg.message, false));
          conn.ended = true;
          conn.ws.close(1000);
        }
        break;
      case 'session_ended':
        conn.ended = true;
        this.#emit('session_ended', { reason: msg.reason });
        break;
      case 'pong': {
        const pending = msg.id === null ? undefined : this.#pings.get(msg.id);
        if (pending && msg.id !== null) {
          this.#pings.delete(msg.id);
          clearTimeout(pending.timer);
          const rttMs = performance.now() - pending.sentAt;
          pending.resolve(rttMs);
          this.#emit('pong', { id: msg.id, rttMs });
        }
        break;
      }
      default:
        break; // a newer server's message type: ignored
    }
  }

  /**
   * A resume: what the server did not receive goes again, in order, before anything new; its
   * replay starts at `replayFrom` (a gap when the server dropped messages in between).
   * @param {Connection} conn
   * @param {number | null} serverReceived
   * @param {number | null} replayFrom
   */
  #onResumed(conn, serverReceived, replayFrom) {
    const gap = this.#received.resume(replayFrom);
    this.#ackedCount = this.#received.count;
    this.#sinceAck = 0;
    this.#clearAckTimer();
    const { resend, lost } = this.#sent.resume(serverReceived ?? this.#sent.last);
    for (const message of resend) this.#transmit(conn.ws, message);
    this.stats.messagesResent += resend.length;
    this.stats.messagesDiscarded += lost;
    if (gap) this.#emit('gap', { direction: 'received', from: gap.from, to: gap.to, missed: gap.to - gap.from + 1 });
    if (lost > 0) this.#emit('gap', { direction: 'sent', from: (serverReceived ?? 0) + 1, to: (serverReceived ?? 0) + lost, missed: lost });
  }

  /** @param {ArrayBuffer} data */
  #onAudioFrame(data) {
    const samples = decodePcm16(data);
    this.stats.framesReceived++;
    this.stats.bytesReceived += data.byteLength;
    this.playback?.enqueue(samples);
    this.#emit('audio', { samples });
  }

  /**
   * The socket of a started session closed.
   * @param {Connection} conn
   * @param {number} code
   * @param {string} reason
   */
  #onClosed(conn, code, reason) {
    this.#clearAckTimer();
    const reconnect = shouldReconnect({
      userStopped: this.#userStopped,
      sessionEnded: conn.ended,
      goingAway: conn.goingAway,
      closeCode: code,
      fatalErrorCode: conn.fatalErrorCode,
    });
    if (this.#userStopped) return; // stop() finishes the job
    if (reconnect) {
      // Not an error: the session goes on after the resume, and nothing sent or received is lost.
      void this.#reconnect(conn.goingAway ? 'going_away' : conn.fatalErrorCode ?? 'connection_lost', code);
      return;
    }
    if (!conn.ended && conn.fatalErrorCode === null) {
      this.#emit('error', { code: 'connection_lost', message: `The connection was lost (code ${code}).`, fatal: true, source: 'socket' });
    }
    this.transcripts.closeOpen();
    this.#emit('closed', { code, reason });
    this.#release();
    this.#setState('closed');
  }

  /**
   * Reconnects with back-off (at once after `going_away`) and resumes the session with its token
   * and count; bounded by `reconnect.maxAttempts`.
   * @param {string} cause `going_away`, `connection_lost` or the code of a fatal error worth retrying
   * @param {number} closeCode
   */
  async #reconnect(cause, closeCode) {
    this.#setState('reconnecting');
    const { maxAttempts, baseMs, maxMs } = this.#options.reconnect;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const delayMs = backoffDelay(attempt, { baseMs, maxMs, immediateFirst: cause === 'going_away' });
      this.#emit('reconnecting', { attempt: attempt + 1, delayMs, cause, closeCode });
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this.#cancelWait = () => { clearTimeout(timer); resolve(undefined); };
      });
      this.#cancelWait = null;
      if (this.#userStopped) return;
      try {
        await this.#open();
        this.stats.reconnects++;
        return;
      } catch (error) {
        if (this.#userStopped) return;
        const code = error instanceof VoiceChatError ? error.code : 'connection_failed';
        // A refusal that another attempt cannot change ends the loop.
        if (!shouldReconnect({ userStopped: false, sessionEnded: false, goingAway: false, closeCode: 1006, fatalErrorCode: code === 'connection_failed' || code === 'start_timeout' ? null : code })) break;
      }
    }
    if (this.#userStopped) return;
    this.transcripts.closeOpen();
    this.#emit('error', { code: 'reconnect_failed', message: 'Could not reconnect to the voice server.', fatal: true, source: 'socket' });
    this.#emit('closed', { code: 1006, reason: 'reconnect_failed' });
    this.#release();
    this.#setState('closed');
  }

  #release() {
    this.#clearAckTimer();
    this.#camera?.stop();
    this.#camera = null;
    this.#microphone?.stop();
    this.#microphone = null;
    this.inputLevel = 0;
    for (const pending of this.#pings.values()) clearTimeout(pending.timer);
    this.#pings.clear();
    if (this.#context) {
      this.playback?.close();
      if (this.#ownsContext) void this.#context.close();
      this.#context = null;
    }
  }

  /** @param {ClientState} state */
  #setState(state) {
    if (state === this.#state) return;
    this.#state = state;
    this.#updateKeepAlive();
    this.#emit('statechange', { state });
  }

  /** While live, a `ping` goes out after `keepAliveMs` without anything sent (the server's idle timeout counts client messages). */
  #updateKeepAlive() {
    const every = this.#options.keepAliveMs;
    if (this.#state === 'live' && every > 0) {
      if (this.#keepAlive) return;
      this.#lastSentAt = performance.now();
      this.#keepAlive = setInterval(() => {
        if (performance.now() - this.#lastSentAt >= every) this.#sendText(encodePing(`keepalive-${++this.#pingCounter}`));
      }, Math.max(every / 4, 50));
      // In Node, do not keep the process alive for this timer alone.
      /** @type {any} */ (this.#keepAlive).unref?.();
    } else if (this.#keepAlive) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = null;
    }
  }

  /**
   * @param {string} type
   * @param {object} detail
   */
  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/**
 * @typedef {object} Connection
 * @property {WebSocket} ws
 * @property {boolean} started `session_started` received
 * @property {boolean} ended `session_ended` received (or start refused)
 * @property {boolean} goingAway `going_away` received
 * @property {string | null} fatalErrorCode code of a fatal `error`, if one came
 * @property {Promise<void>} closed resolves when the socket closed
 * @property {() => void} resolveClosed
 */

/** @param {number} ms */
function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
