import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StreamRenumberer } from '../../../../firmware/src/media/relay/stream-renumberer.js';
import { buildRtp, parseRtp } from '../../../../firmware/src/media/rtp/rtp-header.js';

function pkt(ssrc: number, seq: number, ts: number): Buffer {
  return buildRtp({ marker: false, payloadType: 0, sequence: seq, timestamp: ts, ssrc, csrc: [], extension: null }, new Uint8Array(4));
}

function run(r: StreamRenumberer, ssrc: number, seq: number, ts: number, now: number): [number, number, number, boolean] {
  const b = pkt(ssrc, seq, ts);
  r.rewrite(b, now);
  const p = parseRtp(b)!;
  return [p.ssrc, p.sequence, p.timestamp, p.marker];
}

test('first source passes unchanged; a new source continues the stream with wrap-around', () => {
  const r = new StreamRenumberer();
  assert.equal(run(r, 1, 65534, 0xffffff00, 0), [1, 65534, 0xffffff00, false]);
  assert.equal(run(r, 1, 65535, 0xffffffa0, 20), [1, 65535, 0xffffffa0, false]);
  assert.not.ok(r.isRewriting);
  // New source 1 s later: seq 0 (wrapped), ts + 8000.
  assert.equal(run(r, 2, 100, 5000, 1020), [1, 0, (0xffffffa0 + 8000) >>> 0, true]);
  assert.equal(run(r, 2, 101, 5160, 1040), [1, 1, (0xffffffa0 + 8160) >>> 0, false]);
  assert.ok(r.isRewriting);
  // A reordered older packet of the same source maps consistently and does not move the high-water mark back.
  assert.equal(run(r, 2, 99, 4840, 1041), [1, 65535, (0xffffffa0 + 7840) >>> 0, false]);
});

test('an immediate switch still advances the timestamp by at least one frame', () => {
  const r = new StreamRenumberer();
  run(r, 7, 10, 1000, 0);
  const [, seq, ts] = run(r, 8, 500, 77, 0);
  assert.is(seq, 11);
  assert.is(ts, 1160);
});

test('sourceChanged forces renumbering even when the SSRC is the same', () => {
  const r = new StreamRenumberer();
  run(r, 5, 10, 1000, 0);
  r.sourceChanged();
  assert.equal(run(r, 5, 3, 50, 40), [5, 11, 1320, true]);
  // Before any packet, sourceChanged is a no-op: the first source still passes unchanged.
  const fresh = new StreamRenumberer();
  fresh.sourceChanged();
  assert.equal(run(fresh, 9, 9, 9, 0), [9, 9, 9, false]);
});

test.run();
