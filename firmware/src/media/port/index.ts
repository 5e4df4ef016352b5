/** Media ports: tones, WAV players and recorders, a conference bridge, and a jitter buffer. */
export type { MediaPort } from './media-port.js';
export { frameSamples } from './media-port.js';
export type { ToneSpec } from './tone-generator.js';
export { ToneGenerator, UK_RINGBACK, UK_BUSY, UK_DIAL, UK_NU, dbm0ToAmplitude } from './tone-generator.js';
export type { PcmAudio } from './wav.js';
export { parseWav, writeWav } from './wav.js';
export { WavPlayer, convertRate } from './wav-player.js';
export { WavRecorder } from './wav-recorder.js';
export { ConferenceBridge } from './conference-bridge.js';
export type { JitterFrame, JitterStats } from './jitter-buffer.js';
export { JitterBuffer } from './jitter-buffer.js';
