// VoiceChat browser client (client protocol v1).
export { VoiceChatClient, VoiceChatError } from './voicechat-client.js';
export { AudioPlayer } from './audio-player.js';
export { Microphone } from './microphone.js';
export { Camera } from './camera.js';
export { StreamingResampler } from './resampler.js';
export { PcmFramer, MicrophoneFramer, floatToInt16, int16ToFloat, decodePcm16, encodePcm16, rms } from './pcm.js';
export { PlaybackScheduler } from './playback-scheduler.js';
export { TranscriptAssembler } from './transcripts.js';
export { shouldReconnect, backoffDelay } from './reconnect.js';
export * from './messages.js';
