import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fitRow, toPanelText } from '../../../../hw/panel/front-panel.js';
import { homePage, ledFor, renderPage, visiblePages } from '../../../../hw/panel/panel-pages.js';
import type { PanelSnapshot } from '../../../../hw/panel/panel-pages.js';

const base: PanelSnapshot = {
  deviceId: 'pgw-0001',
  mode: 'normal',
  uplinks: [
    { name: 'cloud', state: 'up' },
    { name: 'backup', state: 'standby' },
  ],
  registrations: 12,
  activeCalls: 3,
  addresses: [{ name: 'eth0', role: 'lan', address: '192.0.2.10' }],
  alarms: [],
  ota: null,
  claimCode: null,
  modem: { up: true, reason: 'ok', bars: 4, operator: 'EE' },
  health: { loadPercent: 12.4, temperatureC: 55.2, diskFreePercent: 81 },
};
const big = { cols: 20, rows: 4 };

test('text is folded to what an HD44780 shows', () => {
  assert.is(toPanelText('Café → 5°'), 'Cafe ? 5?');
  assert.is(fitRow('abc', 5), 'abc  ');
  assert.is(fitRow('abcdefgh', 5), 'abcde');
});

test('mode page on 20x4 and 16x2', () => {
  assert.equal(renderPage('mode', base, big), ['NORMAL', 'Cloud             up', 'Regs 12 Calls 3', 'pgw-0001']);
  assert.equal(renderPage('mode', { ...base, mode: 'survivability' }, { cols: 16, rows: 2 }), ['SURVIVABILITY', 'Cloud         up']);
});

test('uplinks include the 4G line; network; calls; system', () => {
  assert.equal(renderPage('uplinks', base, big), ['UPLINKS', 'cloud             up', 'backup       standby', '4G            4/5 EE']);
  assert.equal(renderPage('uplinks', { ...base, modem: { up: false, reason: 'no-signal', bars: 0, operator: null } }, big)[3], '4G' + ' '.repeat(9) + 'no-signal');
  assert.equal(renderPage('network', base, big), ['NETWORK', 'lan       192.0.2.10']);
  assert.equal(renderPage('calls', base, big), ['CALLS', 'Registered        12', 'Active calls       3']);
  assert.equal(renderPage('system', base, big), ['SYSTEM', 'CPU          12% 55C', 'Disk free        81%']);
});

test('alarms, OTA progress bar and claim code', () => {
  const s = { ...base, alarms: [{ alarm: 'temperature-high', severity: 'critical' as const, message: 'CPU 86C' }] };
  assert.equal(renderPage('alarms', s, big), ['ALARMS (1)', '!! CPU 86C']);
  assert.equal(renderPage('alarms', base, big), ['ALARMS', 'none']);
  const o = { ...base, ota: { state: 'downloading', version: '1.4.0', percent: 50 } };
  assert.equal(renderPage('ota', o, big), ['UPDATE 1.4.0', 'downloading 50%', '[#########.........]']);
  const c = { ...base, claimCode: 'K7QP-2M9X' };
  assert.equal(renderPage('claim', c, big).slice(0, 2), ['CLAIM CODE', 'K7QP-2M9X']);
});

test('visible pages and home depend on claim and OTA', () => {
  assert.equal(visiblePages(base), ['mode', 'uplinks', 'calls', 'network', 'alarms', 'system']);
  const s = { ...base, claimCode: 'ABCD-EFGH', ota: { state: 'installing' } };
  assert.equal(visiblePages(s), ['claim', 'mode', 'uplinks', 'calls', 'network', 'alarms', 'ota', 'system']);
  assert.is(homePage(s), 'claim');
  assert.is(homePage(base), 'mode');
});

test('LED: critical > survivability > warning > OTA > normal', () => {
  assert.equal(ledFor(base), { colour: 'green', mode: 'solid' });
  assert.equal(ledFor({ ...base, ota: { state: 'installing' } }), { colour: 'green', mode: 'blink' });
  assert.equal(ledFor({ ...base, alarms: [{ alarm: 'x', severity: 'warning', message: 'x' }] }), { colour: 'amber', mode: 'blink' });
  assert.equal(ledFor({ ...base, mode: 'survivability' }), { colour: 'amber', mode: 'solid' });
  assert.equal(
    ledFor({ ...base, mode: 'survivability', alarms: [{ alarm: 'x', severity: 'critical', message: 'x' }] }),
    { colour: 'red', mode: 'blink' },
  );
});

test.run();
