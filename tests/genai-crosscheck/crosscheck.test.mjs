// Google's official JS SDK (@google/genai) against the VoiceChat Live API emulator.
// The emulator must already run (eng/suites/20-genai-crosscheck.sh starts it with the "tools" scenario:
// a tool call when the user's text mentions the weather); its address comes from VOICECHAT_EMULATOR_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Behavior, FunctionResponseScheduling, GoogleGenAI, MediaResolution, Modality, TurnCoverage } from '@google/genai';
import { OAuth2Client } from 'google-auth-library';

const baseUrl = process.env.VOICECHAT_EMULATOR_URL;
if (!baseUrl) {
  throw new Error('Set VOICECHAT_EMULATOR_URL to the emulator, for example http://127.0.0.1:9871');
}

const DEV_MODEL = 'gemini-2.5-flash-native-audio-preview-12-2025';
const VERTEX_MODEL = 'gemini-live-2.5-flash-native-audio';
const LIVE_38_MODEL = 'gemini-3.8-live'; // the relay's default
const WAIT_MS = 30_000;

const weatherTool = {
  functionDeclarations: [{
    name: 'get_weather',
    description: 'The weather in a city',
    parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  }],
};

/** A 300 Hz tone whose loudness moves at a syllable rate: speech, to an energy detector. PCM16 LE mono. */
function speech(seconds, rate = 16000) {
  const samples = Math.round(seconds * rate);
  const pcm = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    const t = i / rate;
    const envelope = 0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * t);
    pcm.writeInt16LE(Math.round(Math.sin(2 * Math.PI * 300 * t) * envelope * 10000), i * 2);
  }
  return pcm;
}

const silence = (seconds, rate = 16000) => Buffer.alloc(Math.round(seconds * rate) * 2);

/** Collects server messages; waitFor resolves with the messages up to the first match. */
class Inbox {
  constructor() {
    this.messages = [];
    this.cursor = 0;
    this.waiters = [];
    this.closed = null;
  }

  push(message) {
    this.messages.push(message);
    this.wake();
  }

  close(event) {
    this.closed = { code: event.code, reason: event.reason };
    this.wake();
  }

  wake() {
    for (const waiter of [...this.waiters]) waiter();
  }

  waitFor(predicate, what) {
    return new Promise((resolve, reject) => {
      const check = () => {
        while (this.cursor < this.messages.length) {
          const message = this.messages[this.cursor++];
          if (predicate(message)) {
            done();
            resolve(this.messages.slice(start, this.cursor));
            return;
          }
        }
        if (this.closed) {
          done();
          reject(new Error(`closed (${this.closed.code} ${this.closed.reason}) while waiting for ${what}`));
        }
      };
      const start = this.cursor;
      const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${what}`)); }, WAIT_MS);
      const done = () => { clearTimeout(timer); this.waiters = this.waiters.filter(w => w !== check); };
      this.waiters.push(check);
      check();
    });
  }
}

const isTurnComplete = m => m.serverContent?.turnComplete === true;
const outputText = messages => messages.map(m => m.serverContent?.outputTranscription?.text ?? '').join('');
const inputText = messages => messages.map(m => m.serverContent?.inputTranscription?.text ?? '').join('');
const audioBytes = messages => messages.reduce((n, m) => n + (m.data ? Buffer.from(m.data, 'base64').length : 0), 0);

async function connect(ai, model, inbox, extraConfig = {}) {
  return ai.live.connect({
    model,
    config: {
      responseModalities: [Modality.AUDIO],
      inputAudioTranscription: {},
      outputAudioTranscription: {},
      tools: [weatherTool],
      ...extraConfig,
    },
    callbacks: {
      onmessage: m => inbox.push(m),
      onerror: () => {},
      onclose: e => inbox.close(e),
    },
  });
}

test('Developer API: speech in, audio and both transcripts out, then a tool call round trip', { timeout: 90_000 }, async () => {
  const ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl } });
  const inbox = new Inbox();
  const session = await connect(ai, DEV_MODEL, inbox);
  try {
    const pcm = Buffer.concat([speech(1.5), silence(0.8)]);
    const chunk = 3200; // 100 ms at 16 kHz
    for (let offset = 0; offset < pcm.length; offset += chunk) {
      session.sendRealtimeInput({ audio: { data: pcm.subarray(offset, offset + chunk).toString('base64'), mimeType: 'audio/pcm;rate=16000' } });
    }

    const turn = await inbox.waitFor(isTurnComplete, 'the spoken turn');
    assert.equal(inputText(turn), '[heard 1.5 s of audio]');
    assert.match(outputText(turn), /^Turn 1: I heard 1\.5 seconds of audio\.$/);
    const bytes = audioBytes(turn);
    assert.ok(bytes > 1.3 * 48000 && bytes < 1.7 * 48000, `1.5 s of 24 kHz audio back, got ${bytes} bytes`);
    assert.ok(turn.some(m => m.serverContent?.generationComplete === true), 'generationComplete');
    assert.ok(turn.at(-1).usageMetadata?.totalTokenCount > 0, 'usage with turnComplete');

    session.sendRealtimeInput({ text: 'What is the weather in Paris?' });
    const untilCall = await inbox.waitFor(m => m.toolCall, 'the tool call');
    const call = untilCall.at(-1).toolCall.functionCalls[0];
    assert.equal(call.name, 'get_weather');
    assert.match(call.id, /^function-call-\d+$/);

    // Gemini 2.5 completes the turn right after a tool call; the answer comes in the next turn.
    await inbox.waitFor(isTurnComplete, 'the turn of the tool call');
    session.sendToolResponse({ functionResponses: [{ id: call.id, name: call.name, response: { output: 'sunny, 21 C' } }] });
    const reply = await inbox.waitFor(isTurnComplete, 'the reply after the tool response');
    assert.equal(outputText(reply), 'Turn 2: get_weather returned {"output":"sunny, 21 C"}.');
    assert.ok(audioBytes(reply) > 0, 'spoken reply');
  } finally {
    session.close();
  }
});

test('Vertex AI: bearer token, project model path, candidates usage mapped by the SDK', { timeout: 60_000 }, async () => {
  // A pre-set token: the SDK adds "Authorization: Bearer test-token" without any credential lookup.
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'test-token', expiry_date: Date.now() + 3_600_000 });
  const ai = new GoogleGenAI({
    vertexai: true,
    project: 'test-project',
    location: 'us-central1',
    googleAuthOptions: { authClient },
    httpOptions: { baseUrl, headers: { Authorization: 'Bearer test-token' } },
  });
  const inbox = new Inbox();
  const session = await connect(ai, VERTEX_MODEL, inbox);
  try {
    session.sendRealtimeInput({ text: 'Hello from Vertex' });
    const turn = await inbox.waitFor(isTurnComplete, 'the text turn');
    assert.equal(outputText(turn), 'Turn 1: you said "Hello from Vertex".');
    assert.ok(audioBytes(turn) > 0, 'audio');
    assert.ok(turn.at(-1).usageMetadata?.responseTokenCount > 0, 'candidatesTokenCount arrives as responseTokenCount');
  } finally {
    session.close();
  }
});

test('Developer API: a resumed session continues the conversation', { timeout: 60_000 }, async () => {
  const ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl } });
  const inbox = new Inbox();
  const session = await connect(ai, DEV_MODEL, inbox, { sessionResumption: {} });
  let handle;
  try {
    session.sendRealtimeInput({ text: 'one' });
    await inbox.waitFor(isTurnComplete, 'the first turn');
    const update = (await inbox.waitFor(m => m.sessionResumptionUpdate?.newHandle, 'a resumption handle')).at(-1).sessionResumptionUpdate;
    assert.equal(update.resumable, true);
    handle = update.newHandle;
  } finally {
    session.close();
  }

  await inbox.waitFor(() => false, 'the close').catch(() => {});
  const resumedInbox = new Inbox();
  const resumed = await connect(ai, DEV_MODEL, resumedInbox, { sessionResumption: { handle } });
  try {
    resumed.sendRealtimeInput({ text: 'two' });
    const turn = await resumedInbox.waitFor(isTurnComplete, 'a turn on the resumed session');
    assert.equal(outputText(turn), 'Turn 2: you said "two".');
  } finally {
    resumed.close();
  }
});

test('An unknown model is refused with 1008 and Google\'s text', { timeout: 30_000 }, async () => {
  const ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl } });
  const inbox = new Inbox();
  // connect() waits for setupComplete, which never comes: watch the close instead.
  connect(ai, 'gemini-unknown', inbox).catch(() => {});
  await inbox.waitFor(() => false, 'the close').catch(() => {});
  assert.equal(inbox.closed?.code, 1008);
  assert.match(inbox.closed.reason, /^models\/gemini-unknown is not found for API version v1beta/);
});

test('Developer API: a NON_BLOCKING function is called while the model keeps talking, and its WHEN_IDLE result is spoken after', { timeout: 60_000 }, async () => {
  const ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl } });
  const inbox = new Inbox();
  const nonBlockingWeather = { functionDeclarations: [{ ...weatherTool.functionDeclarations[0], behavior: Behavior.NON_BLOCKING }] };
  const session = await connect(ai, DEV_MODEL, inbox, { tools: [nonBlockingWeather] });
  try {
    session.sendRealtimeInput({ text: 'What is the weather in Paris?' });
    const untilCall = await inbox.waitFor(m => m.toolCall, 'the tool call');
    const call = untilCall.at(-1).toolCall.functionCalls[0];
    assert.equal(call.name, 'get_weather');

    // The same turn goes on with speech: the model does not wait for a non-blocking call.
    const sameTurn = await inbox.waitFor(isTurnComplete, 'the rest of the turn of the call');
    assert.ok(audioBytes(sameTurn) > 0, 'audio after the tool call, before turnComplete');
    assert.match(outputText(sameTurn), /I asked get_weather/);

    // The SDK's own encoding: scheduling as a field of the FunctionResponse.
    session.sendToolResponse({
      functionResponses: [{ id: call.id, name: call.name, response: { output: 'sunny' }, scheduling: FunctionResponseScheduling.WHEN_IDLE }],
    });
    const result = await inbox.waitFor(isTurnComplete, 'the turn that speaks the result');
    assert.match(outputText(result), /get_weather returned \{"output":"sunny"\}\.$/);
    assert.ok(audioBytes(result) > 0, 'spoken result');
    assert.ok(!result.some(m => m.serverContent?.interrupted), 'WHEN_IDLE does not interrupt');
  } finally {
    session.close();
  }
});

// A JPEG start (SOI) and a baseline start-of-frame of a 64x48 image: what the emulator reads the size from.
const JPEG_64x48 = Buffer.from([
  0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x30, 0x00, 0x40, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xd9,
]);

test('Developer API: video frames sent with sendRealtimeInput({ video }) are accepted and named in the reply', { timeout: 60_000 }, async () => {
  const ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl } });
  const inbox = new Inbox();
  const session = await connect(ai, DEV_MODEL, inbox, {
    mediaResolution: MediaResolution.MEDIA_RESOLUTION_LOW,
    realtimeInputConfig: { turnCoverage: TurnCoverage.TURN_INCLUDES_ALL_INPUT },
    contextWindowCompression: { slidingWindow: {} },
  });
  try {
    for (let i = 0; i < 3; i++) {
      session.sendRealtimeInput({ video: { data: JPEG_64x48.toString('base64'), mimeType: 'image/jpeg' } });
    }
    session.sendRealtimeInput({ text: 'What does the sign say?' });
    const turn = await inbox.waitFor(isTurnComplete, 'the reply about the frames');
    assert.equal(outputText(turn), 'Turn 1: you said "What does the sign say?". I saw 3 frames (image/jpeg 64x48).');
    assert.equal(inbox.closed, null, 'the session stays open');
  } finally {
    session.close();
  }
});

test('Developer API: gemini-3.8-live runs a function without a behavior non-blocking, and refuses a thinkingConfig', { timeout: 60_000 }, async () => {
  const ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl } });
  const inbox = new Inbox();
  const session = await connect(ai, LIVE_38_MODEL, inbox);
  try {
    session.sendRealtimeInput({ text: 'What is the weather in Paris?' });
    const untilCall = await inbox.waitFor(m => m.toolCall, 'the tool call');
    assert.equal(untilCall.at(-1).toolCall.functionCalls[0].name, 'get_weather');
    const sameTurn = await inbox.waitFor(isTurnComplete, 'the rest of the turn of the call');
    assert.match(outputText(sameTurn), /I asked get_weather/, 'non-blocking is the model\'s default');
  } finally {
    session.close();
  }

  const refusedInbox = new Inbox();
  connect(ai, LIVE_38_MODEL, refusedInbox, { thinkingConfig: { thinkingBudget: 1024 } }).catch(() => {});
  await refusedInbox.waitFor(() => false, 'the close').catch(() => {});
  assert.equal(refusedInbox.closed?.code, 1007);
  assert.match(refusedInbox.closed.reason, /^thinking_config is not supported for gemini-3\.8-live/);
});
