import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { NetworkInterfaceInfo } from 'node:os';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import {
  LocalAddressResolver,
  estimateSourceAddress,
  probeSourceAddress,
  routeInterface,
  sameAddress,
} from '../../../../firmware/src/sip/transport/local-address.js';

const v4 = (address: string, netmask: string, internal = false): NetworkInterfaceInfo => ({
  address,
  netmask,
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal,
  cidr: null,
});

// Two LAN-side interfaces and a WAN with the default route (192.168.1.1 via wan0).
const IFACES = {
  lo: [v4('127.0.0.1', '255.0.0.0', true)],
  lan0: [v4('10.10.0.1', '255.255.0.0')],
  hscn0: [v4('172.16.5.2', '255.255.255.0')],
  wan0: [v4('192.168.1.20', '255.255.255.0')],
};
const ROUTES4 =
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
  'wan0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n' +
  // 10.20.0.0/16 via 172.16.5.1 on hscn0 (the NHS network behind the HSCN router)
  'hscn0\t0000140A\t010510AC\t0003\t0\t0\t0\t0000FFFF\t0\t0\t0\n' +
  'lan0\t00000A0A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n';

test('route table: longest prefix wins, default route otherwise', () => {
  assert.is(routeInterface('10.20.3.4', 4, ROUTES4), 'hscn0');
  assert.is(routeInterface('10.10.9.9', 4, ROUTES4), 'lan0');
  assert.is(routeInterface('203.0.113.7', 4, ROUTES4), 'wan0');
});

test('estimate: on-link subnet, routed prefix, default route, own address, loopback', () => {
  const est = (r: string): string | undefined => estimateSourceAddress(r, IFACES, () => ROUTES4);
  assert.is(est('10.10.3.3'), '10.10.0.1');
  assert.is(est('10.20.3.4'), '172.16.5.2');
  assert.is(est('203.0.113.7'), '192.168.1.20');
  assert.is(est('172.16.5.2'), '172.16.5.2');
  assert.is(est('127.0.0.1'), '127.0.0.1');
  assert.is(est('not-an-ip'), undefined);
});

test('ipv6 route table parsing', () => {
  const table =
    '20010db8000000000000000000000000 20 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth1\n' +
    '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth0\n';
  assert.is(routeInterface('2001:db8::5', 6, table), 'eth1');
  assert.is(routeInterface('2001:db9::5', 6, table), 'eth0');
});

test('sameAddress normalises IPv6 and brackets', () => {
  assert.ok(sameAddress('[2001:db8::1]', '2001:0db8:0:0:0:0:0:1'));
  assert.ok(sameAddress('192.0.2.1', '192.0.2.1'));
  assert.not.ok(sameAddress('192.0.2.1', '192.0.2.10'));
  assert.ok(sameAddress('Example.COM', 'example.com'));
});

test('resolver: estimate on miss, probe corrects the cache, TTL expiry re-probes', async () => {
  const clock = new FakeClock();
  let probes = 0;
  let answer = '172.16.5.2';
  const r = new LocalAddressResolver({
    clock,
    ttlMs: 60_000,
    estimate: () => '192.168.1.20',
    probe: async () => {
      probes++;
      return answer;
    },
  });
  assert.is(r.lookup('10.20.3.4'), '192.168.1.20');
  await Promise.resolve();
  await Promise.resolve();
  assert.is(probes, 1);
  assert.is(r.lookup('10.20.3.4'), '172.16.5.2');
  assert.is(probes, 1, 'cached');
  answer = '10.10.0.1';
  clock.advance(60_001);
  assert.is(r.lookup('10.20.3.4'), '172.16.5.2', 'stale answer served while re-probing');
  assert.is(await r.resolve('10.20.3.4'), '10.10.0.1');
  assert.is(probes, 2);
  assert.is(r.lookup('10.20.3.4'), '10.10.0.1');
});

test('resolver: a failing probe keeps the estimate', async () => {
  const clock = new FakeClock();
  const r = new LocalAddressResolver({
    clock,
    estimate: () => '192.0.2.50',
    probe: () => Promise.reject(new Error('ENETUNREACH')),
  });
  assert.is(await r.resolve('198.51.100.1'), '192.0.2.50');
  assert.is(r.lookup('198.51.100.1'), '192.0.2.50');
});

test('real kernel probe toward loopback', async () => {
  assert.is(await probeSourceAddress('127.0.0.1'), '127.0.0.1');
  const r = new LocalAddressResolver({ clock: new FakeClock() });
  assert.is(await r.resolve('127.0.0.1'), '127.0.0.1');
});

test.run();
