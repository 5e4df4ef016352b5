import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConferenceBridge } from '../../../../firmware/src/media/port/conference-bridge.js';
import type { MediaPort } from '../../../../firmware/src/media/port/media-port.js';
import { ToneGenerator, UK_DIAL } from '../../../../firmware/src/media/port/tone-generator.js';
import { WavRecorder } from '../../../../firmware/src/media/port/wav-recorder.js';
import { FakeClock } from '../../../../firmware/src/util/clock.js';

/** A member that speaks a constant and remembers what it heard. */
class Talker implements MediaPort {
  readonly sampleRate = 8000;
  readonly samplesPerFrame = 160;
  heard: number[] = [];
  constructor(private readonly level: number) {}
  getFrame(out: Int16Array): boolean {
    out.fill(this.level);
    return this.level !== 0;
  }
  putFrame(frame: Int16Array): void {
    this.heard.push(frame[0]!);
  }
}

test('N − 1 mixing: each member hears everyone but itself, saturated', () => {
  const bridge = new ConferenceBridge();
  const a = new Talker(100);
  const b = new Talker(20);
  const c = new Talker(3);
  bridge.add(a);
  bridge.add(b);
  const idC = bridge.add(c);
  bridge.tick();
  assert.equal([a.heard[0], b.heard[0], c.heard[0]], [23, 103, 120]);
  bridge.remove(idC);
  bridge.tick();
  assert.equal([a.heard[1], b.heard[1]], [20, 100]);
  const loud1 = new Talker(30000);
  const loud2 = new Talker(30000);
  const ear = new Talker(0);
  const b2 = new ConferenceBridge();
  [loud1, loud2, ear].forEach((p) => b2.add(p));
  b2.tick();
  assert.is(ear.heard[0], 32767);
});

test('a prompt to a call: tone generator and recorder as members, ticking on the clock', () => {
  const clock = new FakeClock();
  const bridge = new ConferenceBridge();
  const rec = new WavRecorder();
  bridge.add(new ToneGenerator({ spec: UK_DIAL }));
  bridge.add(rec);
  bridge.start(clock);
  clock.advance(1000);
  bridge.stop();
  assert.is(rec.audio().samples.length, 8000);
  assert.ok(rec.audio().samples.some((v) => Math.abs(v) > 1000));
  clock.advance(1000);
  assert.is(rec.audio().samples.length, 8000, 'stopped');
  assert.is(clock.pending(), 0);
  assert.throws(() => bridge.add(new ToneGenerator({ spec: UK_DIAL, sampleRate: 16000 })), /does not match/);
});

test.run();
