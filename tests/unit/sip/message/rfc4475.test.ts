/**
 * RFC 4475 torture tests: every message, with the outcome the RFC states.
 *
 * §3.1.1 valid: parse, with the key fields right.
 * §3.1.2 invalid: rejected by parseMessage (with the headers for a 400 and
 *   the status the RFC asks for), or, where the RFC lets an element be
 *   liberal, accepted with the liberal reading, or accepted and flagged by
 *   validateRequest.
 * §3.2 / §3.3 / §3.4: parse (the RFC says parsers must not fail) unless the
 *   framing is broken, and validateRequest/validateResponse/helpers give the
 *   response the RFC names.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  acceptsContentType,
  getVias,
  maxForwards,
  nameAddrTag,
  parseCSeq,
  parseMessage,
  parseNameAddr,
  parseUri,
  splitHeaderValues,
  unquote,
  validateRequest,
  validateResponse,
  viaBranch,
  viaReceived,
  viaRport,
  isRfc3261Branch,
  serializeMessage,
} from '../../../../firmware/src/sip/message/index.js';
import type { ParseFailure, SipMessage, SipRequest, SipResponse } from '../../../../firmware/src/sip/message/index.js';
import { fixtureNames, loadFixture } from '../../../fixtures/rfc4475/notation.js';

function ok(name: string): SipMessage {
  const r = parseMessage(loadFixture(name));
  if (!r.ok) throw new Error(`${name} should parse: ${r.error}`);
  return r.message;
}

function req(name: string): SipRequest {
  const m = ok(name);
  if (m.kind !== 'request') throw new Error(`${name} should be a request`);
  return m;
}

function res(name: string): SipResponse {
  const m = ok(name);
  if (m.kind !== 'response') throw new Error(`${name} should be a response`);
  return m;
}

function bad(name: string): ParseFailure {
  const r = parseMessage(loadFixture(name));
  if (r.ok) throw new Error(`${name} should be rejected`);
  return r;
}

/** A rejected request that still carries what a 400 needs (§8.2.6). */
function badWithPartial(name: string, status: number): ParseFailure {
  const f = bad(name);
  assert.is(f.status, status, `${name}: status`);
  assert.ok(f.partial, `${name}: partial`);
  assert.is(f.partial.isRequest, true);
  for (const h of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) assert.ok(f.partial.headers.has(h), `${name}: partial has ${h}`);
  return f;
}

const ALL = [
  // §3.1.1
  'wsinv', 'intmeth', 'esc01', 'escnull', 'esc02', 'lwsdisp', 'longreq', 'dblreq', 'semiuri', 'transports',
  'mpart01', 'unreason', 'noreason',
  // §3.1.2
  'badinv01', 'clerr', 'ncl', 'scalar02', 'scalarlg', 'quotbal', 'ltgtruri', 'lwsruri', 'lwsstart', 'trws',
  'escruri', 'baddate', 'regbadct', 'badaspec', 'baddn', 'badvers', 'mismatch01', 'mismatch02', 'bigcode',
  // §3.2
  'badbranch',
  // §3.3
  'insuf', 'unkscm', 'novelsc', 'unksm2', 'bext01', 'invut', 'regaut01', 'multi01', 'mcl01', 'bcast', 'zeromf',
  'cparam01', 'cparam02', 'regescrt', 'sdp01',
  // §3.4
  'inv2543',
];

test('every RFC 4475 message has a fixture and a case here', () => {
  assert.equal(fixtureNames(), [...ALL].sort());
  assert.is(ALL.length, 49);
});

// ---------------------------------------------------------------- §3.1.1 valid

test('3.1.1.1 wsinv: folding, LWS everywhere, compact and long forms, escaped quotes, leading zeros', () => {
  const m = req('wsinv');
  assert.is(m.method, 'INVITE');
  assert.is(m.uri, 'sip:vivekg@chair-dnrc.example.com;unknownparam');
  assert.equal([...parseUri(m.uri).params], [['unknownparam', null]]);
  const to = parseNameAddr(m.headers.get('To')!);
  assert.is(to.uri.user, 'vivekg');
  assert.is(to.params.get('tag'), '1918181833n');
  const from = parseNameAddr(m.headers.get('from')!);
  assert.is(from.displayName, 'J Rosenberg \\"');
  assert.is(from.params.get('tag'), '98asjd8');
  assert.is(maxForwards(m), 68);
  assert.equal(parseCSeq(m.headers.get('CSeq')!), { seq: 9, method: 'INVITE' });
  const vias = getVias(m);
  assert.equal(
    vias.map((v) => [v.transport, v.host, viaBranch(v)]),
    [
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ],
  );
  assert.is(m.headers.get('Subject'), '');
  assert.is(m.headers.get('NewFangledHeader'), 'newfangled value continued newfangled value');
  assert.is(m.headers.get('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
  const route = parseNameAddr(m.headers.get('Route')!);
  assert.equal([...route.uri.params], [['lr', null], ['unknownwith', 'value'], ['unknown-no-value', null]]);
  const contact = parseNameAddr(m.headers.get('Contact')!);
  assert.is(contact.displayName, 'Quoted string ""');
  assert.equal([...contact.params], [['newparam', 'newvalue'], ['secondparam', null], ['q', '0.33']]);
  assert.is(m.body.length, 150);
  assert.ok(m.body.toString().startsWith('v=0\r\n'));
  assert.is(validateRequest(m), null);
});

test('3.1.1.2 intmeth: unusual method, URI, branch, quoted NUL/BEL/DEL, token display name, UTF-8', () => {
  const m = req('intmeth');
  assert.is(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
  const uri = parseUri(m.uri);
  assert.is(uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  assert.is(uri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  assert.is(uri.host, 'example.com');
  assert.is(viaBranch(getVias(m)[0]!), "z9hG4bK-.!%66*_+`'~");
  const to = parseNameAddr(m.headers.get('To')!);
  assert.is(to.displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
  assert.is(to.uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  const from = parseNameAddr(m.headers.get('From')!);
  assert.is(from.displayName, "token1~` token2'+_ token3*%!.-");
  assert.is(unquote(from.params.get("fromparam''~+*_!.-%")!), 'работающий');
  assert.is(from.params.get('tag'), "_token~1'+`*%!-.");
  assert.is(m.headers.get('Call-ID'), 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
  assert.equal(parseCSeq(m.headers.get('CSeq')!).method, m.method);
  assert.is(maxForwards(m), 255);
  // The value starts with a byte-order mark, which is part of it.
  assert.is(m.headers.get("extensionHeader-!.%*+_`'~"), '\ufeff大停電');
  // An unknown method: the UA answers 501 (405 needs Allow); nothing else is wrong with it.
  assert.is(validateRequest(m), null);
});

test('3.1.1.3 esc01: % HEX HEX in user parts and URI parameters, decoded once', () => {
  const m = req('esc01');
  assert.is(parseUri(m.uri).user, 'sips:user@example.com');
  assert.is(parseUri(m.uri).host, 'example.net');
  assert.is(parseNameAddr(m.headers.get('To')!).uri.user, 'user');
  assert.is(parseNameAddr(m.headers.get('From')!).uri.user, 'I have spaces');
  const contact = parseNameAddr(m.headers.get('Contact')!);
  assert.is(contact.uri.user, 'caller');
  assert.equal([...contact.uri.params], [['lr', null], ['name', 'value%41']]);
  assert.is(m.headers.get('Call-ID'), 'esc01.239409asdfakjkn23onasd0-3234');
  assert.is(m.headers.get('Content-Type'), 'application/sdp');
});

test('3.1.1.4 escnull: escaped NULs in users are kept, two distinct contacts', () => {
  const m = req('escnull');
  assert.is(parseNameAddr(m.headers.get('To')!).uri.user, 'null-\x00-null');
  const contacts = m.headers.getAll('Contact').map((v) => parseNameAddr(v).uri.user);
  assert.equal(contacts, ['\x00', '\x00\x00']);
  assert.is(m.headers.get('Content-Length'), '0');
});

test('3.1.1.5 esc02: % is not an escape in methods, display names, header names', () => {
  const m = req('esc02');
  assert.is(m.method, 'RE%47IST%45R');
  assert.is.not(m.method, 'REGISTER');
  assert.is(parseNameAddr(m.headers.get('To')!).displayName, '%Z%45');
  assert.is(m.headers.getAll('Contact').length, 2);
  assert.is(m.headers.get('C%6Fntact'), '<sip:alias2@host2.example.com>');
  assert.is(viaBranch(getVias(m)[0]!), 'z9hG4bK209%fzsnel234');
});

test('3.1.1.6 lwsdisp: no LWS between display name and <', () => {
  const from = parseNameAddr(req('lwsdisp').headers.get('From')!);
  assert.is(from.displayName, 'caller');
  assert.is(from.uri.user, 'caller');
  assert.is(from.params.get('tag'), '323');
});

test('3.1.1.7 longreq: long values, 34 Vias in every spelling', () => {
  const m = req('longreq');
  const to = parseNameAddr(m.headers.get('To')!);
  assert.is(to.displayName, `I have a user name of ${'extreme'.repeat(10)} proportion`);
  assert.is(to.uri.port, 6000);
  assert.is(to.uri.params.get('unknownparam1'), `very${'long'.repeat(20)}value`);
  assert.is(to.uri.params.get(`longparam${'name'.repeat(25)}`), 'shortvalue');
  assert.is(to.uri.params.get(`very${'long'.repeat(25)}parameternamewithnovalue`), null);
  const from = parseNameAddr(m.headers.get('From')!);
  assert.is(from.params.get('tag'), `12${'982'.repeat(50)}424`);
  assert.is(m.headers.get('Call-ID'), `longreq.one${'really'.repeat(20)}longcallid`);
  const vias = getVias(m);
  assert.is(vias.length, 34);
  for (let i = 0; i < 33; i++) assert.is(vias[i]!.host, `sip${33 - i}.example.com`);
  assert.is(viaReceived(vias[33]!), '192.0.2.5');
  assert.is(viaBranch(vias[33]!), `very${'long'.repeat(50)}branchvalue`);
  assert.is(parseNameAddr(m.headers.get('Contact')!).uri.user, 'amazinglylongcallername'.repeat(5));
  assert.is(m.body.length, 150);
});

test('3.1.1.8 dblreq: octets after Content-Length in a datagram are ignored', () => {
  const m = req('dblreq');
  assert.is(m.method, 'REGISTER');
  assert.is(m.body.length, 0);
  assert.is(m.headers.get('Call-ID'), 'dblreq.0ha0isndaksdj99sdfafnl3lk233412');
  assert.not.ok(serializeMessage(m).toString().includes('INVITE'));
});

test('3.1.1.9 semiuri: ; in the user part of the Request-URI', () => {
  const m = req('semiuri');
  const uri = parseUri(m.uri);
  assert.is(uri.user, 'user;par=u@example.net');
  assert.is(uri.host, 'example.com');
  assert.is(uri.params.size, 0);
  assert.equal(splitHeaderValues(m.headers.get('Accept')!), [
    'application/sdp',
    'application/pkcs7-mime',
    'multipart/mixed',
    'multipart/signed',
    'message/sip',
    'message/sipfrag',
  ]);
});

test('3.1.1.10 transports: every transport, including unknown ones', () => {
  assert.equal(
    getVias(req('transports')).map((v) => v.transport),
    ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP'],
  );
});

test('3.1.1.11 mpart01: a binary body with NULs is framed by Content-Length', () => {
  const m = req('mpart01');
  assert.is(m.body.length, 553);
  assert.ok(m.body.includes(0));
  assert.ok(m.body.subarray(m.body.length - 24).toString('latin1').endsWith('--7a9cbec02ceef655--\r\n'));
  const via = getVias(m)[0]!;
  assert.is(via.port, 5070);
  assert.is(viaRport(via), null);
  assert.is(m.headers.get('Content-Type'), 'multipart/mixed;boundary=7a9cbec02ceef655');
});

test('3.1.1.12 unreason: UTF-8 reason phrase', () => {
  const m = res('unreason');
  assert.is(m.status, 200);
  assert.is(m.reason, '= 2**3 * 5**2 но сто девяносто девять - простое');
  assert.is(m.body.length, 154);
});

test('3.1.1.13 noreason: empty reason phrase', () => {
  const m = res('noreason');
  assert.is(m.status, 100);
  assert.is(m.reason, '');
  assert.is(nameAddrTag(m.headers.get('To')!), '902jndnke3');
});

// -------------------------------------------------------------- §3.1.2 invalid

test('3.1.2.1 badinv01: empty Via/Contact params: 400', () => {
  badWithPartial('badinv01', 400);
});

test('3.1.2.2 clerr: Content-Length larger than the datagram: 400', () => {
  const f = badWithPartial('clerr', 400);
  assert.match(f.error, /Content-Length/);
});

test('3.1.2.3 ncl: negative Content-Length: error', () => {
  const f = badWithPartial('ncl', 400);
  assert.match(f.error, /Content-Length/);
});

test('3.1.2.4 scalar02: CSeq beyond 2**32-1 (and Max-Forwards 300): 400', () => {
  const f = badWithPartial('scalar02', 400);
  assert.match(f.error, /CSeq/);
});

test('3.1.2.5 scalarlg: response with out-of-range scalars: discarded (no status)', () => {
  const f = bad('scalarlg');
  assert.is(f.status, undefined);
  assert.is(f.partial?.isRequest, false);
});

test('3.1.2.6 quotbal: unterminated quote in To: 400', () => {
  const f = badWithPartial('quotbal', 400);
  assert.match(f.error, /To/);
});

test('3.1.2.7 ltgtruri: Request-URI in <>: 400', () => {
  const f = badWithPartial('ltgtruri', 400);
  assert.is(f.partial?.method, 'INVITE');
});

test('3.1.2.8 lwsruri: LWS inside the Request-URI: 400', () => {
  const f = badWithPartial('lwsruri', 400);
  assert.is(f.partial?.method, 'INVITE');
});

test('3.1.2.9 lwsstart: runs of SP in the request line: accepted liberally, sent without them', () => {
  const m = req('lwsstart');
  assert.is(m.method, 'INVITE');
  assert.is(m.uri, 'sip:user@example.com');
  assert.ok(serializeMessage(m).toString().startsWith('INVITE sip:user@example.com SIP/2.0\r\n'));
});

test('3.1.2.10 trws: SP after the version: accepted liberally, sent without them', () => {
  const m = req('trws');
  assert.is(m.uri, 'sip:remote-target@example.com');
  assert.ok(serializeMessage(m).toString().startsWith('OPTIONS sip:remote-target@example.com SIP/2.0\r\n'));
});

test('3.1.2.11 escruri: headers in the Request-URI: 400', () => {
  const m = req('escruri');
  assert.equal(validateRequest(m)?.status, 400);
});

test('3.1.2.12 baddate: non-GMT Date is not our business: accepted', () => {
  const m = req('baddate');
  assert.is(m.headers.get('Date'), 'Fri, 01 Jan 2010 16:00:00 EST');
  assert.is(validateRequest(m), null);
});

test('3.1.2.13 regbadct: URI with headers in addr-spec Contact: 400', () => {
  const m = req('regbadct');
  assert.throws(() => parseNameAddr(m.headers.get('Contact')!));
  assert.equal(validateRequest(m)?.status, 400);
});

test('3.1.2.14 badaspec: spaces inside <>: 400', () => {
  badWithPartial('badaspec', 400);
});

test('3.1.2.15 baddn: unquoted non-token display names: 400', () => {
  badWithPartial('baddn', 400);
});

test('3.1.2.16 badvers: SIP/7.0: 505', () => {
  const f = badWithPartial('badvers', 505);
  assert.is(f.partial?.method, 'OPTIONS');
});

test('3.1.2.17 mismatch01: CSeq method differs from a known method: 400', () => {
  badWithPartial('mismatch01', 400);
});

test('3.1.2.18 mismatch02: unknown method with a different CSeq method: 501', () => {
  const f = badWithPartial('mismatch02', 501);
  assert.is(f.partial?.method, 'NEWMETHOD');
});

test('3.1.2.19 bigcode: status code beyond 699: dropped', () => {
  const f = bad('bigcode');
  assert.is(f.status, undefined);
  assert.is(f.partial?.isRequest, false);
});

// --------------------------------------------------------- §3.2 transaction layer

test('3.2.1 badbranch: branch that is only the magic cookie: parses, rejected statelessly with 400', () => {
  const m = req('badbranch');
  const branch = viaBranch(getVias(m)[0]!);
  assert.is(branch, 'z9hG4bK');
  assert.is(isRfc3261Branch(branch), false);
  assert.equal(validateRequest(m)?.status, 400);
});

// ------------------------------------------------------- §3.3 application layer

test('3.3.1 insuf: missing To, From, Call-ID: must not break; 400 needs headers that are not there', () => {
  const f = bad('insuf');
  assert.is(f.status, 400);
  assert.ok(f.partial?.headers.has('Via'));
  assert.ok(f.partial?.headers.has('CSeq'));
  assert.not.ok(f.partial?.headers.has('From'));
});

test('3.3.2 unkscm: unknown Request-URI scheme: parses, 416', () => {
  const m = req('unkscm');
  assert.is(m.uri, 'nobodyKnowsThisScheme:totallyopaquecontent');
  assert.equal(validateRequest(m)?.status, 416);
});

test('3.3.3 novelsc: registered but atypical scheme: parses, 416 here', () => {
  const m = req('novelsc');
  assert.equal(validateRequest(m)?.status, 416);
  // An element that serves the scheme decides for itself.
  assert.is(validateRequest(m, { schemes: ['sip', 'soap.beep'] }), null);
});

test('3.3.4 unksm2: non-SIP URIs in To/From/Contact: parses; a registrar answers 400', () => {
  const m = req('unksm2');
  assert.is(m.headers.get('To'), 'isbn:2983792873');
  assert.throws(() => parseNameAddr(m.headers.get('Contact')!), /scheme/);
  assert.equal(validateRequest(m)?.status, 400);
});

test('3.3.5 bext01: unsupported Require: 420 listing the option tags', () => {
  const p = validateRequest(req('bext01'));
  assert.is(p?.status, 420);
  assert.equal(p?.unsupported, ['nothingSupportsThis', 'nothingSupportsThisEither']);
  // Proxy-Require is for proxies: a UAS ignores it (§8.2.2.3).
  assert.not.ok(p?.unsupported?.includes('noProxiesSupportThis'));
});

test('3.3.6 invut: unknown body type: parses; a UAS answers 415', () => {
  const m = req('invut');
  assert.is(m.body.toString(), '<audio>\r\n <pcmu port="443"/>\r\n</audio>\r\n');
  assert.is(validateRequest(m), null);
  assert.equal(validateRequest(m, { contentTypes: ['application/sdp'] })?.status, 415);
});

test('3.3.7 regaut01: unknown Authorization scheme: parses and is kept for the auth layer (never 416)', () => {
  const m = req('regaut01');
  assert.is(m.headers.get('Authorization'), 'NoOneKnowsThisScheme opaque-data=here');
  assert.is(validateRequest(m), null);
});

test('3.3.8 multi01: several values in single-value headers: 400', () => {
  const f = bad('multi01');
  assert.is(f.status, 400);
  assert.match(f.error, /more than one/);
});

test('3.3.9 mcl01: conflicting Content-Length values: error', () => {
  const f = bad('mcl01');
  assert.is(f.status, 400);
  assert.match(f.error, /Content-Length/);
});

test('3.3.10 bcast: 200 with a broadcast second Via: parses; a UAC discards it', () => {
  const m = res('bcast');
  assert.is(getVias(m)[1]!.host, '255.255.255.255');
  assert.type(validateResponse(m), 'string');
  assert.is(validateResponse(res('unreason')), null);
});

test('3.3.11 zeromf: Max-Forwards 0: a legal request (a proxy would answer 483)', () => {
  const m = req('zeromf');
  assert.is(maxForwards(m), 0);
  assert.is(validateRequest(m), null);
});

test('3.3.12 cparam01: params after an addr-spec Contact are contact params', () => {
  const m = req('cparam01');
  const c = parseNameAddr(m.headers.get('Contact')!);
  assert.is(c.uri.user, '+19725552222');
  assert.is(c.uri.params.size, 0);
  assert.equal([...c.params], [['unknownparam', null]]);
  assert.is(validateRequest(m), null);
});

test('3.3.13 cparam02: params inside <> are URI params', () => {
  const m = req('cparam02');
  const c = parseNameAddr(m.headers.get('Contact')!);
  assert.equal([...c.uri.params], [['unknownparam', null]]);
  assert.is(c.params.size, 0);
  assert.is(validateRequest(m), null);
});

test('3.3.14 regescrt: escaped header in a Contact URI survives', () => {
  const m = req('regescrt');
  const c = parseNameAddr(m.headers.get('Contact')!);
  assert.is(c.uri.headers.get('Route'), '<sip:sip.example.com>');
  assert.is(validateRequest(m), null);
});

test('3.3.15 sdp01: Accept without application/sdp: the UAS cannot answer with SDP (406)', () => {
  const m = req('sdp01');
  assert.is(acceptsContentType(m, 'application/sdp'), false);
  assert.is(acceptsContentType(req('wsinv'), 'application/sdp'), true);
});

// -------------------------------------------------------- §3.4 backward compat

test('3.4.1 inv2543: RFC 2543 request (no Max-Forwards, branch, tag, Content-Length): accepted', () => {
  const m = req('inv2543');
  assert.is(maxForwards(m), undefined);
  assert.is(viaBranch(getVias(m)[0]!), undefined);
  assert.is(nameAddrTag(m.headers.get('From')!), undefined);
  // The body is the rest of the datagram.
  assert.ok(m.body.toString().startsWith('v=0\r\n'));
  assert.ok(m.body.toString().endsWith('m=audio 49217 RTP/AVP 0\r\n'));
  assert.is(validateRequest(m), null);
});

test.run();
