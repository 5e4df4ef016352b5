import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { JitterBuffer } from '../../../../firmware/src/media/port/jitter-buffer.js';
import type { JitterFrame } from '../../../../firmware/src/media/port/jitter-buffer.js';

const p = (n: number): Uint8Array => Uint8Array.from([n]);
const show = (f: JitterFrame): string => (f.kind === 'frame' ? `f${f.seq}:${f.payload[0]}` : f.kind === 'lost' ? `lost${f.seq}` : 'empty');

test('reorders, waits for prefetch, reports losses, drops late packets, wraps', () => {
  const jb = new JitterBuffer({ prefetch: 3 });
  assert.is(show(jb.get()), 'empty');
  jb.put(65534, 0, p(1));
  jb.put(0, 320, p(3));
  assert.is(show(jb.get()), 'empty', 'still prefetching');
  jb.put(65535, 160, p(2));
  jb.put(2, 640, p(5));
  const out = [jb.get(), jb.get(), jb.get(), jb.get(), jb.get()].map(show);
  assert.equal(out, ['f65534:1', 'f65535:2', 'f0:3', 'lost1', 'f2:5']);
  jb.put(1, 480, p(4)); // too late now
  assert.is(jb.stats.late, 1);
  assert.is(jb.stats.lost, 1);
  assert.is(show(jb.get()), 'empty', 'ran dry: rebuffers');
});

test('payloads are copied; a jump far ahead restarts', () => {
  const jb = new JitterBuffer({ prefetch: 1, capacity: 10 });
  const buf = Uint8Array.from([7]);
  jb.put(10, 0, buf);
  buf[0] = 99;
  const f = jb.get();
  assert.ok(f.kind === 'frame' && f.payload[0] === 7);
  jb.put(11, 0, p(1));
  jb.put(500, 0, p(2));
  assert.is(jb.stats.overflow, 1);
  assert.is(show(jb.get()), 'f500:2');
});

test.run();
