/**
 * Fuzz-like robustness: mutations and truncations of valid messages. The
 * parser must never throw, a failure must be well-formed, and whatever it
 * accepts must serialize into something it accepts again with the same
 * meaning (so a B2BUA never forwards a message it could not itself read).
 * A seeded PRNG keeps failures reproducible.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage } from '../../../../firmware/src/sip/message/parse.js';
import { serializeMessage } from '../../../../firmware/src/sip/message/serialize.js';
import { getVias } from '../../../../firmware/src/sip/message/via.js';
import { Headers } from '../../../../firmware/src/sip/message/headers.js';
import type { SipMessage } from '../../../../firmware/src/sip/message/types.js';
import { fixtureNames, loadFixture } from '../../../fixtures/rfc4475/notation.js';

/** mulberry32: small, seeded, good enough to pick mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIAL = Buffer.from(':;,"<>\\%@[]= \t\r\n\x00\xff/?*');

function mutate(src: Buffer, rnd: () => number): Buffer {
  const pick = (n: number): number => Math.floor(rnd() * n);
  let b = Buffer.from(src);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const at = pick(b.length + 1);
    switch (pick(7)) {
      case 0: // truncate
        b = b.subarray(0, at);
        break;
      case 1: // flip a byte
        if (b.length > 0) b[Math.min(at, b.length - 1)] = pick(256);
        break;
      case 2: // insert a grammar-significant byte
        b = Buffer.concat([b.subarray(0, at), Buffer.of(SPECIAL[pick(SPECIAL.length)]!), b.subarray(at)]);
        break;
      case 3: // delete a run
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + pick(8))]);
        break;
      case 4: {
        // duplicate a line
        const text = b.toString('latin1');
        const lines = text.split('\r\n');
        const i = pick(lines.length);
        lines.splice(i, 0, lines[i] ?? '');
        b = Buffer.from(lines.join('\r\n'), 'latin1');
        break;
      }
      case 5: // swap a CRLF for a bare LF or CR
        {
          const i = b.indexOf('\r\n', at);
          if (i >= 0) b = Buffer.concat([b.subarray(0, i), Buffer.from(pick(2) ? '\n' : '\r'), b.subarray(i + 2)]);
        }
        break;
      default: // splice two messages
        b = Buffer.concat([b.subarray(0, at), src.subarray(pick(src.length))]);
    }
  }
  return b;
}

function meaning(m: SipMessage): unknown {
  const start = m.kind === 'request' ? [m.method, m.uri] : [m.status, m.reason];
  return [m.kind, start, m.headers.entries().filter((f) => f.name !== 'Content-Length').map((f) => [f.name, f.value]), m.body.toString('hex')];
}

function check(data: Buffer, label: string): boolean {
  let r: ReturnType<typeof parseMessage>;
  try {
    r = parseMessage(data);
  } catch (e) {
    assert.unreachable(`${label}: parseMessage threw ${String(e)}`);
    return false;
  }
  if (!r.ok) {
    assert.type(r.error, 'string', label);
    if (r.partial) assert.ok(r.partial.headers instanceof Headers, label);
    if (r.status !== undefined) assert.ok([400, 501, 505].includes(r.status), label);
    return false;
  }
  // Accepted: the mandatory headers are usable and the message survives a round trip.
  assert.ok(getVias(r.message).length > 0, label);
  const again = parseMessage(serializeMessage(r.message));
  if (!again.ok) assert.unreachable(`${label}: re-serialized message rejected: ${again.error}`);
  else assert.equal(meaning(again.message), meaning(r.message), label);
  return true;
}

test('random mutations of every RFC 4475 message never throw; accepted ones round-trip', () => {
  const rnd = prng(4475);
  let accepted = 0;
  let total = 0;
  for (const name of fixtureNames()) {
    const src = loadFixture(name);
    for (let i = 0; i < 120; i++) {
      total++;
      if (check(mutate(src, rnd), `${name}#${i}`)) accepted++;
    }
  }
  // Both outcomes must be exercised for the test to mean anything.
  assert.ok(accepted > total / 10, `accepted ${accepted}/${total}`);
  assert.ok(accepted < total, `accepted ${accepted}/${total}`);
});

test('every truncation of a few messages never throws', () => {
  for (const name of ['wsinv', 'intmeth', 'mpart01', 'unreason', 'escnull']) {
    const src = loadFixture(name);
    for (let n = 0; n <= src.length; n++) check(src.subarray(0, n), `${name}[0..${n})`);
  }
});

test('pathological inputs stay linear and never throw', () => {
  const rnd = prng(7);
  const cases = [
    Buffer.alloc(65535, 0x20),
    Buffer.alloc(65535, 0x0a),
    Buffer.from('INVITE ' + 'sip:'.repeat(16000) + ' SIP/2.0\r\n\r\n'),
    Buffer.from('OPTIONS sip:a SIP/2.0\r\nVia: ' + 'SIP/2.0/UDP h,'.repeat(4000) + '\r\n\r\n'),
    Buffer.from('OPTIONS sip:a SIP/2.0\r\nTo: ' + '"\\'.repeat(20000) + '\r\n\r\n'),
    Buffer.from('OPTIONS sip:a SIP/2.0\r\nFrom: <sip:a@b>' + ';x'.repeat(20000) + '\r\n\r\n'),
    Buffer.from('OPTIONS sip:a SIP/2.0\r\n' + 'X: y\r\n'.repeat(9000) + '\r\n'),
    Buffer.from(Array.from({ length: 65535 }, () => Math.floor(rnd() * 256))),
  ];
  const started = performance.now();
  for (const [i, c] of cases.entries()) check(c, `case ${i}`);
  assert.ok(performance.now() - started < 2000, 'pathological inputs took too long');
});

test.run();
