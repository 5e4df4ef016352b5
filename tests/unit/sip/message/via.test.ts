import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  formatVia,
  getVias,
  isRfc3261Branch,
  parseCSeq,
  parseVia,
  splitHeaderValues,
  topVia,
  viaBranch,
  viaReceived,
  viaRport,
} from '../../../../firmware/src/sip/message/via.js';
import { formatCSeq } from '../../../../firmware/src/sip/message/cseq.js';
import { Headers } from '../../../../firmware/src/sip/message/headers.js';
import type { SipRequest } from '../../../../firmware/src/sip/message/types.js';
import { isPgwError } from '../../../../firmware/src/util/errors.js';

function throwsParse(fn: () => unknown, label: string): void {
  try {
    fn();
  } catch (e) {
    assert.ok(isPgwError(e, 'PGW_E_SIP_PARSE'), `${label}: ${String(e)}`);
    return;
  }
  assert.unreachable(`${label} should throw`);
}

test('a plain Via', () => {
  const v = parseVia('SIP/2.0/UDP pc33.atlanta.example.com:5066;branch=z9hG4bK776asdhds;rport');
  assert.equal(v, {
    transport: 'UDP',
    host: 'pc33.atlanta.example.com',
    port: 5066,
    params: new Map<string, string | null>([['branch', 'z9hG4bK776asdhds'], ['rport', null]]),
  });
  assert.is(viaBranch(v), 'z9hG4bK776asdhds');
  assert.is(viaRport(v), null);
  assert.is(viaReceived(v), undefined);
});

test('LWS around / and :, lower-case transport, unknown transports', () => {
  const v = parseVia('sip  /   2.0 /udp    192.0.2.2 : 5060 ;branch=390skdjuw');
  assert.is(v.transport, 'UDP');
  assert.is(v.host, '192.0.2.2');
  assert.is(v.port, 5060);
  assert.is(parseVia('SIP/2.0/UNKNOWN t4.example.com').transport, 'UNKNOWN');
  assert.is(parseVia('SIP/2.0/WSS abc.invalid;branch=z9hG4bKx').transport, 'WSS');
});

test('IPv6 sent-by and received', () => {
  const v = parseVia('SIP/2.0/TCP [2001:db8::9]:5070;branch=z9hG4bKa;received=2001:db8::9;rport=5071');
  assert.is(v.host, '[2001:db8::9]');
  assert.is(v.port, 5070);
  assert.is(viaReceived(v), '2001:db8::9');
  assert.is(viaRport(v), 5071);
  assert.is(parseVia('SIP/2.0/UDP [::1]').host, '[::1]');
});

test('rport: absent, asked for, filled in, nonsense', () => {
  assert.is(viaRport(parseVia('SIP/2.0/UDP h')), undefined);
  assert.is(viaRport(parseVia('SIP/2.0/UDP h;rport')), null);
  assert.is(viaRport(parseVia('SIP/2.0/UDP h;rport=0')), 0);
  assert.is(viaRport(parseVia('SIP/2.0/UDP h;received=192.0.2.1;rport=62000')), 62000);
  assert.is(viaRport(parseVia('SIP/2.0/UDP h;rport=70000')), null);
});

test('malformed Vias throw', () => {
  for (const s of [
    '',
    'SIP/2.0/UDP',
    'SIP/2.0/UDP ',
    'SIP/2.0UDP host',
    'SIP/2.0/UDPhost',
    'HTTP/1.1/TCP host',
    'SIP/2.0/UDP host:',
    'SIP/2.0/UDP host:99999',
    'SIP/2.0/UDP host;;',
    'SIP/2.0/UDP host;branch=',
    'SIP/2.0/UDP [2001:db8::9',
    'SIP/2.0/UDP host extra',
    'SIP/2.0/UDP 192.0.2.15;;,;,,',
  ]) {
    throwsParse(() => parseVia(s), s);
  }
});

test('format gives the canonical form; parse → format → parse is stable', () => {
  const v = parseVia('SIP  / 2.0  / TCP     spindle.example.com   ;  branch  =   z9hG4bK9ikj8');
  assert.is(formatVia(v), 'SIP/2.0/TCP spindle.example.com;branch=z9hG4bK9ikj8');
  for (const s of [
    'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx;rport=5060;received=198.51.100.7',
    'SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bKy;maddr=239.255.255.1;ttl=16',
  ]) {
    assert.is(formatVia(parseVia(s)), s);
  }
});

test('splitHeaderValues: top-level commas only', () => {
  assert.equal(splitHeaderValues('a, b ,c'), ['a', 'b', 'c']);
  assert.equal(splitHeaderValues(' single '), ['single']);
  assert.equal(splitHeaderValues('"Bell, Alexander" <sip:a@b>, <sip:c@d;x=1,2>'), ['"Bell, Alexander" <sip:a@b>', '<sip:c@d;x=1,2>']);
  assert.equal(splitHeaderValues('"a \\", b" <sip:x@y>, sip:z@w'), ['"a \\", b" <sip:x@y>', 'sip:z@w']);
  assert.equal(splitHeaderValues('a,,b,'), ['a', '', 'b', '']);
  assert.equal(splitHeaderValues('SIP/2.0/UDP h1;branch=z9hG4bK1, SIP/2.0/TCP h2'), ['SIP/2.0/UDP h1;branch=z9hG4bK1', 'SIP/2.0/TCP h2']);
});

function request(vias: string[]): SipRequest {
  return { kind: 'request', method: 'OPTIONS', uri: 'sip:x', headers: new Headers(vias.map((v) => ['v', v] as [string, string])), body: Buffer.alloc(0) };
}

test('getVias over lines and comma lists, topVia', () => {
  const m = request(['SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b', 'SIP/2.0/TLS c:5061']);
  assert.equal(getVias(m).map((v) => v.host), ['a', 'b', 'c']);
  assert.is(topVia(m)?.host, 'a');
  assert.is(topVia(request([])), undefined);
  assert.equal(getVias(request([])), []);
});

test('isRfc3261Branch', () => {
  assert.ok(isRfc3261Branch('z9hG4bK776asdhds'));
  assert.not.ok(isRfc3261Branch('z9hG4bK'));
  assert.not.ok(isRfc3261Branch('390skdjuw'));
  assert.not.ok(isRfc3261Branch('Z9HG4BKabc'));
  assert.not.ok(isRfc3261Branch(undefined));
});

test('CSeq', () => {
  assert.equal(parseCSeq('4711 INVITE'), { seq: 4711, method: 'INVITE' });
  assert.equal(parseCSeq('  0009   INVITE '), { seq: 9, method: 'INVITE' });
  assert.equal(parseCSeq('4294967295 REGISTER'), { seq: 4294967295, method: 'REGISTER' });
  assert.equal(parseCSeq('00000000000000000001 ACK'), { seq: 1, method: 'ACK' });
  assert.is(formatCSeq({ seq: 1, method: 'BYE' }), '1 BYE');
  for (const s of ['', 'INVITE', '12', '12INVITE', '-1 INVITE', '4294967296 INVITE', '36893488147419103232 REGISTER', '1 INVITE x', '1 IN<VITE']) {
    throwsParse(() => parseCSeq(s), s);
  }
});

test.run();
