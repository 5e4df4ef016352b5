import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage, MAX_DATAGRAM_SIZE } from '../../../../firmware/src/sip/message/parse.js';
import type { ParseFailure } from '../../../../firmware/src/sip/message/parse.js';
import { getVias } from '../../../../firmware/src/sip/message/via.js';
import { parseNameAddr } from '../../../../firmware/src/sip/message/name-addr.js';
import type { SipMessage, SipRequest, SipResponse } from '../../../../firmware/src/sip/message/types.js';

const REGISTER = [
  'REGISTER sip:pbx.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKnashds7;rport',
  'Max-Forwards: 70',
  'To: "201" <sip:201@pbx.example.com>',
  'From: "201" <sip:201@pbx.example.com>;tag=456248',
  'Call-ID: 843817637684230@998sdasdh09',
  'CSeq: 1826 REGISTER',
  'Contact: <sip:201@192.0.2.7:5060>;expires=3600',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

function ok(data: Buffer | string): SipMessage {
  const r = parseMessage(typeof data === 'string' ? Buffer.from(data) : data);
  if (!r.ok) throw new Error(`should parse: ${r.error}`);
  return r.message;
}

function req(data: Buffer | string): SipRequest {
  const m = ok(data);
  if (m.kind !== 'request') throw new Error('not a request');
  return m;
}

function res(data: Buffer | string): SipResponse {
  const m = ok(data);
  if (m.kind !== 'response') throw new Error('not a response');
  return m;
}

function bad(data: Buffer | string): ParseFailure {
  const r = parseMessage(typeof data === 'string' ? Buffer.from(data) : data);
  if (r.ok) throw new Error('should not parse');
  return r;
}

/** REGISTER with one header line replaced (or removed when `line` is null). */
function withHeader(name: string, line: string | null): string {
  return REGISTER.split('\r\n')
    .flatMap((l) => (l.startsWith(name + ':') ? (line === null ? [] : [line]) : [l]))
    .join('\r\n');
}

test('a REGISTER: start line, headers in order with canonical names, empty body', () => {
  const m = req(REGISTER);
  assert.is(m.method, 'REGISTER');
  assert.is(m.uri, 'sip:pbx.example.com');
  assert.equal(
    m.headers.entries().map((f) => f.name),
    ['Via', 'Max-Forwards', 'To', 'From', 'Call-ID', 'CSeq', 'Contact', 'Content-Length'],
  );
  assert.is(m.headers.get('contact'), '<sip:201@192.0.2.7:5060>;expires=3600');
  assert.is(m.body.length, 0);
});

test('compact forms and any case map to the canonical names', () => {
  const m = req(
    [
      'INVITE sip:bob@example.com SIP/2.0',
      'v: SIP/2.0/UDP h;branch=z9hG4bK1',
      'f: <sip:a@example.com>;tag=1',
      't: <sip:bob@example.com>',
      'i: abc@h',
      'CSEQ: 1 INVITE',
      'm: <sip:a@h>',
      'c: application/sdp',
      'e: gzip',
      's: hello',
      'k: timer',
      'o: presence',
      'r: <sip:c@h>',
      'b: <sip:d@h>',
      'x: 1800',
      'u: talk',
      'MAX-FORWARDS: 70',
      'l: 4',
      '',
      'v=0\r\n',
    ].join('\r\n'),
  );
  assert.equal(
    m.headers.entries().map((f) => f.name),
    ['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Content-Type', 'Content-Encoding', 'Subject', 'Supported', 'Event', 'Refer-To', 'Referred-By', 'Session-Expires', 'Allow-Events', 'Max-Forwards', 'Content-Length'],
  );
  assert.is(m.body.toString(), 'v=0\r');
});

test('leading CRLFs are skipped (§7.5); only CRLFs is no message', () => {
  assert.is(req('\r\n\r\n\r\n' + REGISTER).method, 'REGISTER');
  const f = bad('\r\n\r\n');
  assert.is(f.partial, undefined);
  assert.is(bad('').partial, undefined);
});

test('bare LF line ends are tolerated', () => {
  const m = req(REGISTER.replace(/\r\n/g, '\n'));
  assert.is(m.headers.get('CSeq'), '1826 REGISTER');
  assert.is(m.body.length, 0);
});

test('a bare CR inside the header block is refused (header smuggling); CRLF LF as terminator is fine', () => {
  const f = bad(withHeader('Contact', 'Contact: <sip:201@192.0.2.7>\rX-Smuggled: 1'));
  assert.match(f.error, /bare CR/);
  assert.is(f.status, 400);
  assert.is(req(REGISTER.replace(/\r\n\r\n$/, '\r\n\n')).headers.get('Content-Length'), '0');
});

test('folded header values (SP or HTAB) become one line with single SPs', () => {
  const m = req(withHeader('Contact', 'Contact: <sip:201@192.0.2.7:5060>\r\n\t;expires=3600,\r\n   <sip:201@192.0.2.8>'));
  assert.is(m.headers.get('Contact'), '<sip:201@192.0.2.7:5060> ;expires=3600, <sip:201@192.0.2.8>');
});

test('a message without the blank line but with a complete last line parses; one cut inside a line does not', () => {
  assert.is(req(REGISTER.slice(0, -2)).method, 'REGISTER');
  const f = bad(REGISTER.slice(0, REGISTER.indexOf('Content-Length') + 10));
  assert.match(f.error, /truncated/);
  assert.ok(f.partial?.headers.has('Via'));
});

test('datagram without Content-Length: the body is the rest', () => {
  const m = req(withHeader('Content-Length', null).replace(/\r\n\r\n$/, '\r\n\r\nhello body'));
  assert.is(m.body.toString(), 'hello body');
});

test('octets beyond Content-Length are discarded (§18.3)', () => {
  const m = req(withHeader('Content-Length', 'Content-Length: 5') + 'hellogarbage');
  assert.is(m.body.toString(), 'hello');
});

test('Content-Length larger than the data: 400 with the headers', () => {
  const f = bad(withHeader('Content-Length', 'Content-Length: 50') + 'short');
  assert.is(f.status, 400);
  assert.ok(f.partial?.headers.has('Call-ID'));
});

test('Content-Length must be digits; copies must agree', () => {
  for (const v of ['five', '-1', '', '1 2', '12345678901']) {
    assert.is(bad(withHeader('Content-Length', `Content-Length: ${v}`)).status, 400, v);
  }
  assert.is(req(withHeader('Content-Length', 'Content-Length: 0\r\nl: 0')).body.length, 0);
  assert.is(bad(withHeader('Content-Length', 'Content-Length: 0\r\nl: 1') + 'x').status, 400);
});

test('a 60 KB body in one UDP datagram (up to 65,535 bytes)', () => {
  const body = Buffer.alloc(60 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7 + 3) & 0xff;
  const head = withHeader('Content-Length', `Content-Length: ${body.length}`).replace('REGISTER sip', 'MESSAGE sip').replace('1826 REGISTER', '1826 MESSAGE');
  const data = Buffer.concat([Buffer.from(head), body]);
  assert.ok(data.length <= MAX_DATAGRAM_SIZE);
  const m = req(data);
  assert.is(m.method, 'MESSAGE');
  assert.equal(m.body, body);
  // The body is a copy: the datagram buffer may be reused.
  data.fill(0);
  assert.equal(m.body, body);
});

test('responses: status line forms', () => {
  const base = REGISTER.split('\r\n').slice(1).join('\r\n');
  const r = res('SIP/2.0 180 Ringing\r\n' + base);
  assert.is(r.status, 180);
  assert.is(r.reason, 'Ringing');
  assert.is(res('SIP/2.0 200 OK, with spaces  \r\n' + base).reason, 'OK, with spaces');
  assert.is(res('SIP/2.0 100\r\n' + base).reason, '');
  assert.is(res('sip/2.0 200 OK\r\n' + base).status, 200);
  for (const line of ['SIP/2.0 99 Low', 'SIP/2.0 700 High', 'SIP/2.0 2000 OK', 'SIP/2.0 20x OK', 'SIP/2.0', 'SIP/3.0 200 OK', 'SIP/2.0200 OK']) {
    const f = bad(line + '\r\n' + base);
    assert.is(f.partial?.isRequest, false, line);
    assert.is(f.status, undefined, line);
  }
});

test('request line: method token, three words, SIP version', () => {
  assert.is(req(REGISTER.replace('SIP/2.0\r\n', 'sip/2.0\r\n')).method, 'REGISTER');
  assert.is(bad(REGISTER.replace('SIP/2.0\r\n', 'SIP/3.0\r\n')).status, 505);
  assert.is(bad(REGISTER.replace('SIP/2.0\r\n', 'HTTP/1.1\r\n')).status, 400);
  assert.is(bad(REGISTER.replace('REGISTER sip', 'REG(ISTER sip')).status, 400);
  assert.is(bad(REGISTER.replace('sip:pbx.example.com', 'sip:pbx.example.com extra')).status, 400);
  assert.is(bad(REGISTER.replace('sip:pbx.example.com', 'sip:pbx example.com')).status, 400);
  assert.is(bad(REGISTER.replace('sip:pbx.example.com', 'sip:')).status, 400);
  // Unknown schemes parse; validateRequest decides (416).
  assert.is(req(REGISTER.replace('sip:pbx.example.com', 'urn:service:sos')).uri, 'urn:service:sos');
});

test('mandatory headers: missing or malformed Via/From/To/Call-ID/CSeq is a 400 with partial headers', () => {
  for (const [name, line] of [
    ['Via', null],
    ['Via', 'Via: SIP/2.0/UDP'],
    ['Via', 'Via: SIP/2.0/UDP h, '],
    ['From', null],
    ['From', 'From: <sip:201@pbx>;tag=1, <sip:202@pbx>'],
    ['To', null],
    ['To', 'To: "201 <sip:201@pbx>'],
    ['To', 'To: *'],
    ['Call-ID', null],
    ['Call-ID', 'Call-ID: '],
    ['Call-ID', 'Call-ID: a b'],
    ['Call-ID', 'Call-ID: a\r\nCall-ID: b'],
    ['CSeq', null],
    ['CSeq', 'CSeq: 1826'],
    ['CSeq', 'CSeq: 1826 INVITE'],
    ['CSeq', 'CSeq: 4294967296 REGISTER'],
    ['Max-Forwards', 'Max-Forwards: 256'],
    ['Max-Forwards', 'Max-Forwards: ten'],
    ['Max-Forwards', 'Max-Forwards: 70\r\nMax-Forwards: 69'],
  ] as [string, string | null][]) {
    const f = bad(withHeader(name, line));
    assert.is(f.status, 400, `${name}: ${line}`);
    assert.is(f.partial?.isRequest, true);
    assert.is(f.partial?.method, 'REGISTER');
  }
});

test('Max-Forwards may be absent (RFC 2543 peers) and may have leading zeros', () => {
  assert.is(req(withHeader('Max-Forwards', null)).headers.has('Max-Forwards'), false);
  assert.is(req(withHeader('Max-Forwards', 'Max-Forwards: 0070')).headers.get('Max-Forwards'), '0070');
});

test('header syntax errors are reported with what could be read', () => {
  const f = bad(withHeader('Contact', 'this line has no colon'));
  assert.match(f.error, /colon/);
  assert.ok(f.partial?.headers.has('CSeq'));
  assert.match(bad(withHeader('Contact', 'Bad Name: x')).error, /header name/);
  assert.match(bad(REGISTER.replace('\r\nVia', '\r\n continuation\r\nVia')).error, /continuation/);
});

test('IPv6 in the Request-URI, Via and addresses', () => {
  const m = req(
    [
      'INVITE sip:[2001:db8::10]:5070;transport=udp SIP/2.0',
      'Via: SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKas3-111;received=2001:db8::9;rport=5060',
      'Max-Forwards: 70',
      'To: <sip:[2001:db8::10]:5070>',
      'From: "Caller" <sip:caller@[2001:db8::9]>;tag=1',
      'Call-ID: SSG9559905523997077@[2001:db8::9]',
      'CSeq: 8612 INVITE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
  assert.is(getVias(m)[0]!.host, '[2001:db8::9]');
  assert.is(parseNameAddr(m.headers.get('To')!).uri.port, 5070);
  assert.is(bad(REGISTER.replace('sip:pbx.example.com', 'sip:[2001:db8::10:5070]x')).status, 400);
});

test('UTF-8 in header values and the reason phrase', () => {
  const m = req(withHeader('From', 'From: "Zoë Ünal" <sip:201@pbx.example.com>;tag=456248'));
  assert.is(parseNameAddr(m.headers.get('From')!).displayName, 'Zoë Ünal');
});

test.run();
