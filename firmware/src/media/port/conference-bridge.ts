/**
 * A conference bridge of ports (PJMEDIA's conference bridge, reduced):
 * every tick (20 ms on the injected clock) it takes one frame from each
 * member and gives each member the sum of everyone else's (N − 1 mixing, so
 * nobody hears themselves), saturated to 16 bits. A prompt to a call is a
 * player and the call's port as two members; a three-way call is three.
 */
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { MediaPort } from './media-port.js';
import { frameSamples, saturate } from './media-port.js';

interface Member {
  port: MediaPort;
  frame: Int16Array;
  active: boolean;
}

export class ConferenceBridge {
  readonly sampleRate: number;
  readonly samplesPerFrame: number;
  readonly ptimeMs: number;
  private readonly members = new Map<number, Member>();
  private readonly sum: Float64Array;
  private nextId = 1;
  private timer: TimerHandle | null = null;

  constructor(options: { sampleRate?: number; ptimeMs?: number } = {}) {
    this.sampleRate = options.sampleRate ?? 8000;
    this.ptimeMs = options.ptimeMs ?? 20;
    this.samplesPerFrame = frameSamples(this.sampleRate, this.ptimeMs);
    this.sum = new Float64Array(this.samplesPerFrame);
  }

  /** Add a port; returns its member id. Ports must run at the bridge's rate and frame size. */
  add(port: MediaPort): number {
    if (port.sampleRate !== this.sampleRate || port.samplesPerFrame !== this.samplesPerFrame) {
      throw new RangeError(`port at ${port.sampleRate} Hz × ${port.samplesPerFrame} does not match the bridge (${this.sampleRate} Hz × ${this.samplesPerFrame})`);
    }
    const id = this.nextId++;
    this.members.set(id, { port, frame: new Int16Array(this.samplesPerFrame), active: false });
    return id;
  }

  remove(id: number): void {
    this.members.delete(id);
  }

  get size(): number {
    return this.members.size;
  }

  /** Mix one frame. */
  tick(): void {
    const n = this.samplesPerFrame;
    const sum = this.sum;
    sum.fill(0);
    for (const m of this.members.values()) {
      m.active = m.port.getFrame(m.frame);
      if (m.active) for (let i = 0; i < n; i++) sum[i] = sum[i]! + m.frame[i]!;
    }
    for (const m of this.members.values()) {
      const out = m.frame; // reuse: this member's own input is no longer needed once summed
      for (let i = 0; i < n; i++) out[i] = saturate(sum[i]! - (m.active ? out[i]! : 0));
      m.port.putFrame(out);
    }
  }

  /** Tick every ptime on the clock until stop(). */
  start(clock: Clock): void {
    if (this.timer) return;
    const loop = (): void => {
      this.timer = clock.setTimer(this.ptimeMs, loop);
      this.tick();
    };
    this.timer = clock.setTimer(this.ptimeMs, loop);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
