// One voice turn against a VoiceChat server: start_session, 2 s of a speech-like tone, then silence
// until the model's turn completes. Succeeds when turn_complete arrives after non-empty binary audio.
// Usage: node --experimental-websocket voice-turn.mjs ws://127.0.0.1:PORT/voice [timeoutSeconds]
const url = process.argv[2];
const timeoutSeconds = Number(process.argv[3] ?? 45);
if (!url || !/^wss?:\/\/(127\.0\.0\.1|\[::1\]|localhost)[:/]/.test(url)) {
  console.error('usage: voice-turn.mjs ws://127.0.0.1:PORT/path [timeoutSeconds] (loopback only)');
  process.exit(2);
}

const sampleRate = 16000;
const frameSamples = sampleRate / 50; // 20 ms
const toneFrames = 100;               // 2 s of "speech"
const maxSilenceFrames = 500;         // then at most 10 s of silence
let sentFrames = 0;
let audioBytes = 0;
let pump;
const events = [];

function finish(code, message) {
  clearInterval(pump);
  clearTimeout(deadline);
  console.log(JSON.stringify({ result: code === 0 ? 'ok' : 'failed', message, audioBytes, events }));
  try { ws.close(1000); } catch { /* already closed */ }
  process.exit(code);
}

// A voiced sound: a 180 Hz fundamental with harmonics, its loudness varying at a syllable rate.
function frame(index) {
  const pcm = new Int16Array(frameSamples);
  if (index < toneFrames) {
    for (let i = 0; i < frameSamples; i++) {
      const t = (index * frameSamples + i) / sampleRate;
      const envelope = 0.6 + 0.4 * Math.sin(2 * Math.PI * 4 * t);
      const voice = Math.sin(2 * Math.PI * 180 * t) + 0.5 * Math.sin(2 * Math.PI * 360 * t) + 0.25 * Math.sin(2 * Math.PI * 540 * t);
      pcm[i] = Math.round(6000 * envelope * voice);
    }
  }
  return pcm.buffer;
}

const deadline = setTimeout(() => finish(1, `no turn_complete with audio within ${timeoutSeconds} s`), timeoutSeconds * 1000);
const ws = new WebSocket(url);
ws.binaryType = 'arraybuffer';
ws.onopen = () => ws.send(JSON.stringify({ type: 'start_session', user_id: 'packaging-test', input_sample_rate: sampleRate }));
ws.onerror = () => finish(1, 'websocket error');
ws.onclose = (e) => finish(1, `closed before the turn completed (${e.code} ${e.reason})`);
ws.onmessage = (e) => {
  if (typeof e.data !== 'string') {
    audioBytes += e.data.byteLength;
    return;
  }
  const message = JSON.parse(e.data);
  events.push(message.type);
  if (message.type === 'session_started') {
    pump = setInterval(() => {
      if (sentFrames >= toneFrames + maxSilenceFrames) { clearInterval(pump); return; }
      ws.send(frame(sentFrames++));
    }, 20);
  } else if (message.type === 'turn_complete') {
    if (audioBytes > 0) {
      ws.onclose = null;
      finish(0, 'turn complete');
    } else {
      finish(1, 'turn_complete without model audio');
    }
  } else if (message.type === 'error' && message.fatal !== false) {
    finish(1, `error: ${e.data}`);
  }
};
