import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { panelSnapshotFrom } from '../../../../hw/panel/panel-snapshot.js';
import { renderPage } from '../../../../hw/panel/panel-pages.js';

test('gateway status, health, alarms and modem become one panel snapshot', () => {
  const s = panelSnapshotFrom({
    deviceId: 'pgw-1',
    status: { mode: 'survivability', uplinks: [{ name: 'cloud', state: 'down' }], registrations: 3, activeCalls: 0 },
    health: {
      at: 0,
      cpu: { loadPercent: 20, temperatureC: 61 },
      memory: { totalBytes: 1, availableBytes: 1 },
      disks: [{ mount: '/data', sizeBytes: 200, usedBytes: 150, availableBytes: 50, usePercent: 75 }],
      interfaces: [
        { name: 'eth0', state: 'up', mac: null, addresses: ['fe80::1', '192.0.2.10'], speedMbps: 1000, role: 'lan' },
        { name: 'eth1', state: 'down', mac: null, addresses: [], speedMbps: null },
      ],
      fanRpm: null,
      poe: null,
    },
    alarms: [
      { alarm: 'poe-budget', severity: 'warning', message: 'PoE 92% of budget', since: 1 },
      { alarm: 'disk-low', severity: 'critical', message: 'Disk 8% free', since: 2 },
    ],
    modem: { up: false, reason: 'no-signal', signalBars: 0, rssiDbm: null, tech: null, operator: null, since: 0 },
    claimCode: null,
  });
  assert.equal(s.addresses, [{ name: 'eth0', role: 'lan', address: '192.0.2.10' }]);
  assert.equal(s.alarms.map((a) => a.alarm), ['disk-low', 'poe-budget']);
  assert.equal(s.health, { loadPercent: 20, temperatureC: 61, diskFreePercent: 25 });
  assert.equal(s.modem, { up: false, reason: 'no-signal', bars: 0, operator: null });
  assert.equal(renderPage('alarms', s, { cols: 16, rows: 2 }), ['ALARMS (2)', '!! Disk 8% free']);
  assert.is(renderPage('uplinks', s, { cols: 20, rows: 4 })[2], '4G' + ' '.repeat(9) + 'no-signal');
});

test.run();
