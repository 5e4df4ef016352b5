/**
 * Chunked transfer coding (RFC 9112 §7.1) decoded incrementally: the same
 * bytes give the same data however the input is split, extensions and
 * trailers are skipped, bad framing is refused, bytes after the message are left.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkedDecoder } from '../../../../ota/agent/chunked-decoder.js';

function decodeIn(pieces: Buffer[]): { data: string; done: boolean; used: number[] } {
  const d = new ChunkedDecoder();
  const out: Buffer[] = [];
  const used = pieces.map((p) => d.feed(p, (x) => out.push(Buffer.from(x))));
  return { data: Buffer.concat(out).toString('latin1'), done: d.done, used };
}

const WIRE = Buffer.from('4;name=value\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n', 'latin1');
const DATA = 'Wikipedia in\r\n\r\nchunks.';

test('one piece: data out, extension and trailer skipped, done at the end', () => {
  const r = decodeIn([WIRE]);
  assert.is(r.data, DATA);
  assert.ok(r.done);
  assert.equal(r.used, [WIRE.length]);
});

test('split at every byte boundary (and byte by byte) gives the same data', () => {
  for (let cut = 1; cut < WIRE.length; cut++) {
    const r = decodeIn([WIRE.subarray(0, cut), WIRE.subarray(cut)]);
    assert.is(r.data, DATA, `cut at ${cut}`);
    assert.ok(r.done);
  }
  const bytes = [...WIRE].map((b) => Buffer.from([b]));
  assert.is(decodeIn(bytes).data, DATA);
});

test('a large chunk in hex upper and lower case; bytes after the last chunk are not used', () => {
  const big = 'x'.repeat(0x1aF);
  const wire = Buffer.from(`1aF\r\n${big}\r\n0\r\n\r\nNEXT`, 'latin1');
  const d = new ChunkedDecoder();
  let got = '';
  const used = d.feed(wire, (x) => (got += x.toString('latin1')));
  assert.is(got, big);
  assert.ok(d.done);
  assert.is(wire.subarray(used).toString(), 'NEXT');
});

test('bad framing is refused', () => {
  for (const bad of ['zz\r\n', '4\r\nWikiX\r\n', '-1\r\n', `${'1'.repeat(5000)}`]) {
    assert.throws(() => new ChunkedDecoder().feed(Buffer.from(bad), () => undefined), undefined, bad.slice(0, 20));
  }
});

test('not done until the trailer section ends', () => {
  const d = new ChunkedDecoder();
  d.feed(Buffer.from('0\r\n'), () => undefined);
  assert.not.ok(d.done);
  d.feed(Buffer.from('X-Trailer: 1\r\n'), () => undefined);
  assert.not.ok(d.done);
  d.feed(Buffer.from('\r\n'), () => undefined);
  assert.ok(d.done);
});

test.run();
