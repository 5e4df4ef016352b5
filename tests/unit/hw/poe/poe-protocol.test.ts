import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatPortLine, parseBudgetLine, parseInfoLine, parsePoeEvent, parsePortLine } from '../../../../hw/poe/poe-protocol.js';
import { locatorFromRegistrations, parseProcNetArp } from '../../../../hw/poe/phone-port-map.js';

test('PORT lines round-trip and bad ones are refused', () => {
  const s = { port: 3, enabled: true, link: 'up' as const, power: 'on' as const, powerClass: 2, drawMw: 4200, mac: '00:15:65:aa:bb:cc' };
  assert.equal(parsePortLine(formatPortLine(s)), s);
  assert.equal(parsePortLine('PORT 1 en=0 link=down power=off class=- mw=0 mac=-'), {
    port: 1,
    enabled: false,
    link: 'down',
    power: 'off',
    powerClass: null,
    drawMw: 0,
    mac: null,
  });
  // Unknown extra fields are tolerated; upper-case MACs are folded.
  assert.is(parsePortLine('PORT 2 en=1 link=up power=on class=4 mw=25500 mac=00:15:65:AA:BB:CD lldp=1')?.mac, '00:15:65:aa:bb:cd');
  assert.is(parsePortLine('PORT 2 en=1 link=sideways power=on class=4 mw=1 mac=-'), null);
  assert.is(parsePortLine('PORT 2 en=1 link=up power=on class=9 mw=1 mac=-'), null);
  assert.is(parsePortLine('PORT 2 en=1 link=up power=on class=1 mw=-5 mac=-'), null);
});

test('INFO, BUDGET and events', () => {
  assert.equal(parseInfoLine('INFO ports=8 budget=120000 fw=1.3'), { ports: 8, budgetMw: 120000, firmware: '1.3' });
  assert.is(parseInfoLine('INFO ports=0 budget=1'), null);
  assert.equal(parseBudgetLine('BUDGET used=12000 max=60000'), { budget: { usedMw: 12000, maxMw: 60000 }, over: null });
  assert.equal(parsePoeEvent('EVT BUDGET used=61000 max=60000 over'), { type: 'budget', budget: { usedMw: 61000, maxMw: 60000 }, over: true });
  assert.is(parsePoeEvent('EVT PORT 4 en=1 link=down power=cycling class=- mw=0 mac=-')?.type, 'port');
  assert.is(parsePoeEvent('PORT 4 en=1 link=down power=off class=- mw=0 mac=-'), null);
  assert.is(parsePoeEvent('EVT SOMETHING'), null);
});

test('/proc/net/arp and the registration join', () => {
  const arp = parseProcNetArp(
    [
      'IP address       HW type     Flags       HW address            Mask     Device',
      '192.0.2.21       0x1         0x2         00:15:65:AA:BB:CC     *        eth0',
      '192.0.2.22       0x1         0x0         00:00:00:00:00:00     *        eth0',
      '192.0.2.23       0x1         0x2         80:5e:c0:11:22:33     *        eth0',
    ].join('\n'),
  );
  assert.equal([...arp], [
    ['192.0.2.21', '00:15:65:aa:bb:cc'],
    ['192.0.2.23', '80:5e:c0:11:22:33'],
  ]);
  const loc = locatorFromRegistrations({
    registrations: () => [
      { extension: '201', sourceIp: '192.0.2.21' },
      { extension: '202', sourceIp: '192.0.2.23' },
    ],
    neighbours: () => arp,
  });
  assert.is(loc.extensionForMac('80:5E:C0:11:22:33'), '202');
  assert.is(loc.extensionForMac('00:15:65:aa:bb:cc'), '201');
  assert.is(loc.extensionForMac('00:15:65:00:00:00'), null);
});

test.run();
