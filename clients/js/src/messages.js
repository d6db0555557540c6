// Encoding and decoding of the JSON text frames of client protocol v1 (docs/protocol.md).

/** The protocol's supported microphone sample rates. */
export const INPUT_SAMPLE_RATES = Object.freeze([8000, 16000, 24000, 48000]);

/** Sample rate of the model's audio (binary frames from the server). */
export const OUTPUT_SAMPLE_RATE = 24000;

/**
 * @typedef {object} StartSessionOptions
 * @property {string} [userId] `user_id`; may be omitted when the endpoint authenticates the user
 * @property {string} [sessionId] `session_id`
 * @property {string} [resumeToken] `resume_token` from an earlier `session_started`
 * @property {number} [received] `received`: numbered server messages received so far (0 for a new
 *   session); sending it makes the client a counting client
 * @property {string} [voice] `voice`
 * @property {string} [language] `language` (BCP-47)
 * @property {number} [inputSampleRate] `input_sample_rate` (8000, 16000, 24000 or 48000)
 * @property {Record<string, string>} [metadata] `metadata`
 * @property {boolean} [video] `video`: the client will send camera frames (`video_frame`)
 */

/**
 * Builds a `start_session` message; absent options are left out of the JSON.
 * @param {StartSessionOptions} options
 * @returns {string}
 */
export function encodeStartSession(options = {}) {
  /** @type {Record<string, unknown>} */
  const msg = { type: 'start_session' };
  if (options.userId !== undefined) msg.user_id = requireIdentifier(options.userId, 'userId');
  if (options.sessionId !== undefined) msg.session_id = requireIdentifier(options.sessionId, 'sessionId');
  if (options.resumeToken !== undefined && options.resumeToken !== null) msg.resume_token = String(options.resumeToken);
  if (options.received !== undefined) {
    if (!Number.isSafeInteger(options.received) || options.received < 0) throw new RangeError('received must be a whole number, 0 or more.');
    msg.received = options.received;
  }
  if (options.voice !== undefined) msg.voice = String(options.voice);
  if (options.language !== undefined) msg.language = String(options.language);
  if (options.inputSampleRate !== undefined) {
    if (!INPUT_SAMPLE_RATES.includes(options.inputSampleRate)) {
      throw new RangeError(`inputSampleRate must be one of ${INPUT_SAMPLE_RATES.join(', ')}.`);
    }
    msg.input_sample_rate = options.inputSampleRate;
  }
  if (options.video === true) msg.video = true;
  if (options.metadata !== undefined) {
    /** @type {Record<string, string>} */
    const metadata = {};
    for (const [k, v] of Object.entries(options.metadata)) metadata[k] = String(v);
    msg.metadata = metadata;
  }
  return JSON.stringify(msg);
}

/**
 * @param {unknown} value
 * @param {string} name
 * @returns {string}
 */
function requireIdentifier(value, name) {
  if (typeof value !== 'string' || value.length < 1 || value.length > 128) {
    throw new RangeError(`${name} must be a string of 1–128 characters.`);
  }
  return value;
}

/**
 * @param {string} text
 * @returns {string}
 */
export function encodeText(text) {
  return JSON.stringify({ type: 'text', text: String(text) });
}

/**
 * @param {string} [id]
 * @returns {string}
 */
export function encodePing(id) {
  return JSON.stringify(id === undefined ? { type: 'ping' } : { type: 'ping', id: String(id) });
}

/** @returns {string} */
export function encodeEndSession() {
  return '{"type":"end_session"}';
}

/**
 * The count of numbered server messages received (`ack`).
 * @param {number} received
 * @returns {string}
 */
export function encodeAck(received) {
  return JSON.stringify({ type: 'ack', received });
}

/** The image types a `video_frame` may carry. */
export const VIDEO_FRAME_TYPES = Object.freeze(['image/jpeg', 'image/png']);

/**
 * A camera frame or picture (`video_frame`): JPEG or PNG bytes, sent base64-encoded.
 * @param {Uint8Array} image
 * @param {string} [mimeType] 'image/jpeg' (default) or 'image/png'
 * @returns {string}
 */
export function encodeVideoFrame(image, mimeType = 'image/jpeg') {
  if (!VIDEO_FRAME_TYPES.includes(mimeType)) throw new RangeError(`mimeType must be one of ${VIDEO_FRAME_TYPES.join(', ')}.`);
  return JSON.stringify({ type: 'video_frame', mime_type: mimeType, data: bytesToBase64(image) });
}

/**
 * @param {Uint8Array} bytes
 * @returns {string}
 */
function bytesToBase64(bytes) {
  // btoa takes a binary string; built in slices so that a large image does not overflow the argument list.
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, /** @type {any} */ (bytes.subarray(i, i + 0x8000)));
  }
  return btoa(binary);
}

/** @returns {string} */
export function encodeAudioStreamEnd() {
  return '{"type":"audio_stream_end"}';
}

/** @returns {string} */
export function encodeActivityStart() {
  return '{"type":"activity_start"}';
}

/** @returns {string} */
export function encodeActivityEnd() {
  return '{"type":"activity_end"}';
}

/** Server message types that are numbered for resuming (binary audio frames are numbered too). */
export const NUMBERED_SERVER_TYPES = Object.freeze(['transcript', 'interrupted', 'turn_complete', 'tool_call']);

/**
 * @typedef {{type:'session_started', sessionId:string, resumeToken:string|null, inputSampleRate:number, outputSampleRate:number, resumed:boolean,
 *     received:number|null, replayFrom:number|null, resumeFailed:string|null, videoFramesPerSecond:number|null}
 *   | {type:'ack', received:number}
 *   | {type:'transcript', role:'user'|'assistant', text:string, final:boolean}
 *   | {type:'interrupted'} | {type:'turn_complete'}
 *   | {type:'tool_call', name:string, status:string}
 *   | {type:'going_away', reason:string}
 *   | {type:'error', code:string, message:string, fatal:boolean}
 *   | {type:'session_ended', reason:string}
 *   | {type:'pong', id:string|null}
 *   | {type:'unknown', raw:Record<string, unknown>}} ServerMessage
 */

/**
 * Parses a server text frame into a camelCase message. Unknown fields are ignored; an unknown
 * `type` gives `{type:'unknown'}` so newer servers do not break this client.
 * @param {string} text
 * @returns {ServerMessage}
 * @throws {SyntaxError} when the frame is not a JSON object
 */
export function decodeServerMessage(text) {
  const raw = JSON.parse(text);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SyntaxError('A server text frame must be a JSON object.');
  }
  const str = (/** @type {unknown} */ v, fallback = '') => (typeof v === 'string' ? v : fallback);
  const count = (/** @type {unknown} */ v) => (Number.isSafeInteger(v) && /** @type {number} */ (v) >= 0 ? /** @type {number} */ (v) : null);
  switch (raw.type) {
    case 'session_started':
      return {
        type: 'session_started',
        sessionId: str(raw.session_id),
        resumeToken: typeof raw.resume_token === 'string' ? raw.resume_token : null,
        inputSampleRate: typeof raw.input_sample_rate === 'number' ? raw.input_sample_rate : 16000,
        outputSampleRate: typeof raw.output_sample_rate === 'number' ? raw.output_sample_rate : OUTPUT_SAMPLE_RATE,
        resumed: raw.resumed === true,
        received: count(raw.received),
        replayFrom: count(raw.replay_from),
        resumeFailed: typeof raw.resume_failed === 'string' ? raw.resume_failed : null,
        videoFramesPerSecond: typeof raw.video_frames_per_second === 'number' && raw.video_frames_per_second > 0 ? raw.video_frames_per_second : null,
      };
    case 'ack':
      return { type: 'ack', received: count(raw.received) ?? 0 };
    case 'transcript':
      return {
        type: 'transcript',
        role: raw.role === 'user' ? 'user' : 'assistant',
        text: str(raw.text),
        final: raw.final === true,
      };
    case 'interrupted':
      return { type: 'interrupted' };
    case 'turn_complete':
      return { type: 'turn_complete' };
    case 'tool_call':
      return { type: 'tool_call', name: str(raw.name), status: str(raw.status) };
    case 'going_away':
      return { type: 'going_away', reason: str(raw.reason) };
    case 'error':
      return { type: 'error', code: str(raw.code, 'unknown'), message: str(raw.message), fatal: raw.fatal === true };
    case 'session_ended':
      return { type: 'session_ended', reason: str(raw.reason) };
    case 'pong':
      return { type: 'pong', id: typeof raw.id === 'string' ? raw.id : null };
    default:
      return { type: 'unknown', raw };
  }
}
