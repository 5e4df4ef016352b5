/** Codecs: G.711 A-law/µ-law, G.722 SB-ADPCM, 8↔16 kHz resampling and in-place payload transcoding. */
export {
  ulawEncodeSample,
  ulawDecodeSample,
  alawEncodeSample,
  alawDecodeSample,
  ulawEncode,
  ulawDecode,
  alawEncode,
  alawDecode,
  alawToUlawInPlace,
  ulawToAlawInPlace,
  ULAW_SILENCE,
  ALAW_SILENCE,
} from './g711.js';
export { G722Encoder } from './g722-encoder.js';
export { G722Decoder } from './g722-decoder.js';
export { Upsampler2x, Downsampler2x } from './resample.js';
export type { TranscodableCodec, PayloadTranscoder } from './transcoder.js';
export { TRANSCODABLE, asTranscodable, createTranscoder } from './transcoder.js';
