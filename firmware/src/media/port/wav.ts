/**
 * WAV (RIFF) files for prompts and recordings: 16-bit linear PCM, and the
 * G.711 forms (format 6 A-law, 7 µ-law) that telephony prompts often come in,
 * mono. Reading walks the chunks (so LIST/fact chunks are skipped); writing
 * makes the canonical 44-byte header.
 */
import { PgwError } from '../../util/errors.js';
import { alawDecode, ulawDecode } from '../codec/g711.js';

export interface PcmAudio {
  sampleRate: number;
  samples: Int16Array;
}

const WAVE_PCM = 1;
const WAVE_ALAW = 6;
const WAVE_MULAW = 7;
const WAVE_EXTENSIBLE = 0xfffe;

function bad(message: string): never {
  // A prompt file is configuration: an unreadable one is a config problem.
  throw new PgwError('PGW_E_CONFIG_READ', `WAV: ${message}`);
}

export function parseWav(buf: Uint8Array): PcmAudio {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 12 || b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') bad('not a RIFF/WAVE file');
  let off = 12;
  let format = -1;
  let channels = 0;
  let sampleRate = 0;
  let bits = 0;
  let data: Buffer | null = null;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    const body = b.subarray(off + 8, Math.min(b.length, off + 8 + size));
    if (id === 'fmt ') {
      if (body.length < 16) bad('short fmt chunk');
      format = body.readUInt16LE(0);
      channels = body.readUInt16LE(2);
      sampleRate = body.readUInt32LE(4);
      bits = body.readUInt16LE(14);
      if (format === WAVE_EXTENSIBLE && body.length >= 26) format = body.readUInt16LE(24);
    } else if (id === 'data') {
      data = body;
    }
    off += 8 + size + (size & 1); // chunks are word-aligned
  }
  if (format < 0) bad('no fmt chunk');
  if (data === null) bad('no data chunk');
  if (channels !== 1) bad(`${channels} channels; prompts must be mono`);
  let samples: Int16Array;
  if (format === WAVE_PCM && bits === 16) {
    samples = new Int16Array(data.length >> 1);
    for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(2 * i);
  } else if ((format === WAVE_ALAW || format === WAVE_MULAW) && bits === 8) {
    samples = new Int16Array(data.length);
    (format === WAVE_ALAW ? alawDecode : ulawDecode)(data, 0, data.length, samples);
  } else {
    bad(`format ${format} with ${bits} bits is not supported (16-bit PCM, A-law or µ-law)`);
  }
  return { sampleRate, samples };
}

export function writeWav(audio: PcmAudio): Buffer {
  const dataBytes = audio.samples.length * 2;
  const b = Buffer.alloc(44 + dataBytes);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(WAVE_PCM, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(audio.sampleRate, 24);
  b.writeUInt32LE(audio.sampleRate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < audio.samples.length; i++) b.writeInt16LE(audio.samples[i]!, 44 + 2 * i);
  return b;
}
