/**
 * The RFC 4475 fixtures themselves: the notation expander follows RFC 4475 §2,
 * every committed .dat is the expansion of its .txt, and the valid messages'
 * Content-Length values (which the RFC computed over CRLF line ends) match
 * the expanded bytes exactly, which checks the transcription.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expandRfc4475, fixtureNames, loadFixture, loadNotation } from '../../../fixtures/rfc4475/notation.js';

test('expander: lines end in CRLF', () => {
  assert.equal(expandRfc4475('A\nB\n\n'), Buffer.from('A\r\nB\r\n\r\n'));
});

test('expander: <allOneLine> joins lines with nothing between', () => {
  assert.equal(expandRfc4475('x\n<allOneLine>\nab\ncd \nef\n</allOneLine>\ny\n'), Buffer.from('x\r\nabcd ef\r\ny\r\n'));
});

test('expander: <repeat> and <hex>', () => {
  assert.equal(expandRfc4475('a<repeat count=3>bc</repeat>d\n'), Buffer.from('abcbcbcd\r\n'));
  assert.equal(expandRfc4475('a<hex>00FF\n7f</hex>b\n'), Buffer.from([0x61, 0, 0xff, 0x7f, 0x62, 13, 10]));
});

test('expander: rejects what it cannot expand faithfully', () => {
  assert.throws(() => expandRfc4475('é\n'));
  assert.throws(() => expandRfc4475('no final line end'));
  assert.throws(() => expandRfc4475('<hex>0</hex>\n'));
  assert.throws(() => expandRfc4475('<allOneLine>\nx\n'));
});

test('every .dat is the expansion of its .txt', () => {
  const names = fixtureNames();
  assert.is(names.length, 49);
  for (const name of names) assert.equal(loadFixture(name), expandRfc4475(loadNotation(name)), name);
});

/** Content-Length of a fixture and where its body starts. */
function framing(bytes: Buffer): { cl: number | undefined; bodyStart: number } {
  const end = bytes.indexOf('\r\n\r\n');
  const head = bytes.toString('latin1', 0, end);
  const m = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(head);
  return { cl: m ? Number(m[1]) : undefined, bodyStart: end + 4 };
}

test('Content-Length of the well-framed messages matches the bytes exactly', () => {
  // Every message whose framing the RFC does not deliberately break.
  const exact = fixtureNames().filter((n) => !['dblreq', 'clerr', 'ncl', 'mcl01', 'inv2543'].includes(n));
  for (const name of exact) {
    const bytes = loadFixture(name);
    const { cl, bodyStart } = framing(bytes);
    assert.is(cl, bytes.length - bodyStart, name);
  }
});

test('the deliberately mis-framed messages are mis-framed as the RFC describes', () => {
  const dbl = loadFixture('dblreq');
  const d = framing(dbl);
  assert.is(d.cl, 0);
  assert.ok(dbl.subarray(d.bodyStart).toString().includes('INVITE sip:joe@example.com SIP/2.0'));
  const clerr = loadFixture('clerr');
  const c = framing(clerr);
  assert.ok(c.cl! > clerr.length - c.bodyStart);
  assert.is(framing(loadFixture('inv2543')).cl, undefined);
  // The datagram length of mpart01 pins down the binary part: 342 octets of PKCS#7.
  assert.is(loadFixture('mpart01').includes(Buffer.from('3082015206092a864886f70d010702', 'hex')), true);
});

test.run();
