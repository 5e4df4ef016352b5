/** A recorder port: keeps the frames put into it, up to a limit, and writes them out as a WAV file. */
import type { MediaPort } from './media-port.js';
import { frameSamples } from './media-port.js';
import type { PcmAudio } from './wav.js';
import { writeWav } from './wav.js';

export class WavRecorder implements MediaPort {
  readonly sampleRate: number;
  readonly samplesPerFrame: number;
  private readonly chunks: Int16Array[] = [];
  private total = 0;
  private readonly maxSamples: number;

  constructor(options: { sampleRate?: number; maxSeconds?: number } = {}) {
    this.sampleRate = options.sampleRate ?? 8000;
    this.samplesPerFrame = frameSamples(this.sampleRate);
    this.maxSamples = Math.floor((options.maxSeconds ?? 3600) * this.sampleRate);
  }

  get seconds(): number {
    return this.total / this.sampleRate;
  }

  getFrame(out: Int16Array): boolean {
    out.fill(0, 0, this.samplesPerFrame);
    return false;
  }

  putFrame(frame: Int16Array): void {
    const room = this.maxSamples - this.total;
    if (room <= 0) return;
    const n = Math.min(room, this.samplesPerFrame, frame.length);
    this.chunks.push(frame.slice(0, n));
    this.total += n;
  }

  audio(): PcmAudio {
    const samples = new Int16Array(this.total);
    let o = 0;
    for (const c of this.chunks) {
      samples.set(c, o);
      o += c.length;
    }
    return { sampleRate: this.sampleRate, samples };
  }

  toWav(): Buffer {
    return writeWav(this.audio());
  }
}
