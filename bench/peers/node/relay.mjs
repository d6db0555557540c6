// Baseline relay for the VoiceChat benchmark, the way a Node team would write it: the `ws` server for
// the app side and Google's official `@google/genai` Live client for the model side. It implements
// the audio path of client protocol v1 (docs/protocol.md): start_session → session_started, binary
// PCM16 both ways, end_session → session_ended + close 1000, ping → pong, and the errors that path
// needs. Tools, transcripts, resumption and authentication are out of scope for the comparison.
//
//   node relay.mjs --port 8081 --gemini-base-url http://127.0.0.1:9000 [--host 127.0.0.1] [--model ID]
import { WebSocketServer } from 'ws';
import { GoogleGenAI, Modality } from '@google/genai';

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const host = option('host', '127.0.0.1');
const port = Number(option('port', '8081'));
const baseUrl = option('gemini-base-url', process.env.VOICECHAT_GEMINI_BASE_URL ?? 'http://127.0.0.1:9000');
const model = option('model', 'gemini-3.8-live'); // VoiceChat's default model, so every relay asks for the same one
const maxFrameBytes = 64 * 1024;
const sampleRates = new Set([8000, 16000, 24000, 48000]);

const ai = new GoogleGenAI({ apiKey: process.env.VOICECHAT_GEMINI_API_KEY ?? 'bench', httpOptions: { baseUrl } });

const wss = new WebSocketServer({ host, port, maxPayload: maxFrameBytes, perMessageDeflate: false });

wss.on('connection', (ws, request) => {
  const path = new URL(request.url, 'http://localhost').pathname;
  if (path !== '/voice' && path !== '/') {
    ws.close(1008, 'unknown path');
    return;
  }

  let state = 'new'; // new → starting → started → ended
  let live = null;
  let mimeType = 'audio/pcm;rate=16000';

  const sendJson = (message) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  const error = (code, message, fatal = false, closeCode = 1011) => {
    sendJson({ type: 'error', code, message, fatal });
    if (fatal) {
      state = 'ended';
      ws.close(closeCode);
      live?.close();
    }
  };

  const onUpstream = (message) => {
    const content = message.serverContent;
    if (!content) return;
    const parts = content.modelTurn?.parts;
    if (parts) {
      for (const part of parts) {
        const data = part.inlineData?.data;
        if (data && ws.readyState === ws.OPEN) ws.send(Buffer.from(data, 'base64'), { binary: true });
      }
    }
    if (content.interrupted) sendJson({ type: 'interrupted' });
    if (content.turnComplete) sendJson({ type: 'turn_complete' });
  };

  const start = async (request) => {
    if (typeof request.user_id !== 'string' || request.user_id.length < 1 || request.user_id.length > 128) {
      error('invalid_message', 'user_id is required.');
      return;
    }
    const rate = request.input_sample_rate ?? 16000;
    if (!sampleRates.has(rate)) {
      error('unsupported_sample_rate', 'input_sample_rate must be 8000, 16000, 24000 or 48000.');
      return;
    }
    mimeType = `audio/pcm;rate=${rate}`;
    state = 'starting';
    try {
      live = await ai.live.connect({
        model,
        config: { responseModalities: [Modality.AUDIO] },
        callbacks: {
          onmessage: onUpstream,
          onerror: () => {},
          onclose: () => {
            if (state === 'started' || state === 'starting') error('upstream_unavailable', 'The model service closed the conversation.', true, 4005);
          },
        },
      });
    } catch {
      error('upstream_unavailable', 'The model service cannot be reached.', true, 4005);
      return;
    }
    if (state !== 'starting') {
      live.close();
      return;
    }
    state = 'started';
    sendJson({
      type: 'session_started',
      session_id: request.session_id ?? crypto.randomUUID().replaceAll('-', ''),
      resume_token: '',
      input_sample_rate: rate,
      output_sample_rate: 24000,
      resumed: false,
    });
  };

  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      if (state !== 'started') return error('not_started', 'Send start_session first.');
      if (data.length % 2 !== 0) return error('invalid_audio', 'An audio frame must hold whole PCM16 samples.');
      live.sendRealtimeInput({ audio: { data: data.toString('base64'), mimeType } });
      return;
    }
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return error('invalid_json', 'The text frame is not valid JSON.');
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) return error('invalid_json', 'The text frame is not a JSON object.');
    switch (message.type) {
      case 'start_session':
        if (state !== 'new') return error('already_started', 'The session has already started.');
        start(message);
        return;
      case 'end_session':
        if (state !== 'started') return error('not_started', 'Send start_session first.');
        state = 'ended';
        live.close();
        sendJson({ type: 'session_ended', reason: 'client_ended' });
        ws.close(1000);
        return;
      case 'ping':
        sendJson(message.id === undefined ? { type: 'pong' } : { type: 'pong', id: message.id });
        return;
      default:
        return error('unknown_type', 'Unknown message type.');
    }
  });

  ws.on('close', () => {
    if (state !== 'ended') {
      state = 'ended';
      live?.close();
    }
  });
  ws.on('error', () => {});
});

wss.on('listening', () => console.log(`node peer listening on ws://${host}:${port}/voice, model service ${baseUrl}`));
const stop = () => wss.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
