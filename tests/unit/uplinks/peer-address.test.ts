import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pickSrv, resolvePeer, uriHostPort } from '../../../firmware/src/uplinks/peer-address.js';
import { fakeDns } from './fakes.js';

const dns = fakeDns(
  { 'sbc.example': ['192.0.2.10', '192.0.2.11'], 'a.sbc.example': ['192.0.2.20'], 'b.sbc.example': ['192.0.2.21'], 'tls.example': ['192.0.2.30'] },
  {
    '_sip._udp.sbc.example': [
      { name: 'b.sbc.example', port: 5070, priority: 20, weight: 100 },
      { name: 'a.sbc.example', port: 5080, priority: 10, weight: 5 },
    ],
    '_sips._tcp.tls.example': [{ name: 'tls.example', port: 5063, priority: 1, weight: 1 }],
  },
);

test('an IP address is used as is: UDP and 5060 unless the URI says', async () => {
  assert.equal((await resolvePeer('sip:10.0.1.2', dns)).endpoint, { protocol: 'udp', address: '10.0.1.2', port: 5060 });
  assert.equal((await resolvePeer('sip:10.0.1.2:5070;transport=tcp', dns)).endpoint, { protocol: 'tcp', address: '10.0.1.2', port: 5070 });
  assert.equal((await resolvePeer('sips:10.0.1.2', dns)).endpoint, { protocol: 'tls', address: '10.0.1.2', port: 5061 });
  const v6 = await resolvePeer('sip:[2001:db8::1]:5062', dns);
  assert.equal(v6.endpoint, { protocol: 'udp', address: '2001:db8::1', port: 5062 });
  assert.is(uriHostPort(v6), '[2001:db8::1]:5062');
});

test('a name with no port: SRV, lowest priority first (RFC 3263 §4.2, RFC 2782)', async () => {
  const p = await resolvePeer('sip:sbc.example', dns);
  assert.equal(p.endpoint, { protocol: 'udp', address: '192.0.2.20', port: 5080 });
  assert.is(uriHostPort(p), 'sbc.example', 'the URI keeps the name');
  const t = await resolvePeer('sips:tls.example', dns);
  assert.equal(t.endpoint, { protocol: 'tls', address: '192.0.2.30', port: 5063 });
  assert.is(t.tlsServerName, 'tls.example');
});

test('a name with a port, or no SRV: every A record kept, the first used', async () => {
  const p = await resolvePeer('sip:sbc.example:5090', dns);
  assert.equal(p.endpoint, { protocol: 'udp', address: '192.0.2.10', port: 5090 });
  assert.equal(p.addresses, ['192.0.2.10', '192.0.2.11']);
  const q = await resolvePeer('sip:a.sbc.example;transport=tcp', dns);
  assert.equal(q.endpoint, { protocol: 'tcp', address: '192.0.2.20', port: 5060 });
});

test('a name that does not resolve is an error', async () => {
  try {
    await resolvePeer('sip:nowhere.example', dns);
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /does not resolve/);
  }
});

test('pickSrv: priority, then weight', () => {
  assert.is(pickSrv([]), undefined);
  assert.is(pickSrv([{ name: 'x', port: 1, priority: 5, weight: 1 }, { name: 'y', port: 1, priority: 5, weight: 9 }])?.name, 'y');
});

test.run();
