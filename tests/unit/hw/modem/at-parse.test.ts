import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  parseCgatt,
  parseCops,
  parseCpin,
  parseCsq,
  parseQcsq,
  parseReg,
  parseServingCell,
  signalBars,
  simStateFromCmeError,
  splitAtParams,
} from '../../../../hw/modem/at-parse.js';

test('splitAtParams keeps commas inside quotes', () => {
  assert.equal(splitAtParams(' 0,0,"EE, UK",7'), ['0', '0', 'EE, UK', '7']);
});

test('CPIN states and CME errors', () => {
  assert.is(parseCpin('+CPIN: READY'), 'ready');
  assert.is(parseCpin('+CPIN: SIM PIN'), 'pin-required');
  assert.is(parseCpin('+CPIN: SIM PUK'), 'puk-required');
  assert.is(parseCpin('+CPIN: NOT INSERTED'), 'absent');
  assert.is(parseCpin('+CSQ: 1,2'), null);
  assert.is(simStateFromCmeError('+CME ERROR: 10'), 'absent');
  assert.is(simStateFromCmeError('+CME ERROR: SIM not inserted'), 'absent');
  assert.is(simStateFromCmeError('+CME ERROR: 14'), 'not-ready');
  assert.is(simStateFromCmeError('+CME ERROR: 3'), 'unknown');
});

test('CSQ maps rssi to dBm and 99 to unknown', () => {
  assert.equal(parseCsq('+CSQ: 22,99'), { rssi: 22, rssiDbm: -69, ber: null });
  assert.equal(parseCsq('+CSQ: 0,3'), { rssi: 0, rssiDbm: -113, ber: 3 });
  assert.equal(parseCsq('+CSQ: 99,99'), { rssi: null, rssiDbm: null, ber: null });
  assert.is(parseCsq('+CSQ: x,1'), null);
});

test('QCSQ LTE fields and SINR scale, other modes', () => {
  assert.equal(parseQcsq('+QCSQ: "LTE",-52,-81,195,-10'), { mode: 'LTE', rssiDbm: -52, rsrp: -81, sinrDb: 19, rsrq: -10 });
  assert.equal(parseQcsq('+QCSQ: "WCDMA",-70,-80,-9'), { mode: 'WCDMA', rssiDbm: -70, rsrp: null, rsrq: null, sinrDb: null });
  assert.equal(parseQcsq('+QCSQ: "NOSERVICE"'), { mode: 'NOSERVICE', rssiDbm: null, rsrp: null, rsrq: null, sinrDb: null });
  assert.is(parseQcsq('+QCSQ: "FOO"')!.mode, 'UNKNOWN');
});

test('CREG/CEREG answer and URC forms', () => {
  assert.equal(parseReg('+CREG: 0,1', '+CREG', 'answer'), { status: 'home', area: null, cellId: null, tech: null });
  assert.equal(parseReg('+CEREG: 2,5,"4A1","1A2B3C4",7', '+CEREG', 'answer'), { status: 'roaming', area: '4A1', cellId: '1A2B3C4', tech: 'LTE' });
  // URC: no <n> in front.
  assert.equal(parseReg('+CEREG: 2', '+CEREG', 'urc'), { status: 'searching', area: null, cellId: null, tech: null });
  assert.equal(parseReg('+CREG: 1,"1A2B","01A2",2', '+CREG', 'urc')?.tech, 'UTRAN');
  assert.is(parseReg('+CREG: 2,3', '+CREG', 'answer')?.status, 'denied');
  assert.is(parseReg('+CREG: 0,1', '+CEREG', 'answer'), null);
});

test('COPS and CGATT', () => {
  assert.equal(parseCops('+COPS: 0,0,"EE",7'), { operator: 'EE', tech: 'LTE' });
  assert.equal(parseCops('+COPS: 0'), { operator: null, tech: null });
  assert.is(parseCgatt('+CGATT: 1'), true);
  assert.is(parseCgatt('+CGATT: 0'), false);
  assert.is(parseCgatt('+CGATT: ?'), null);
});

test('QENG servingcell LTE and searching', () => {
  const c = parseServingCell('+QENG: "servingcell","NOCONN","LTE","FDD",234,30,1A2B3C4,123,1300,3,5,5,4A1,-95,-11,-65,12,10,-,-');
  assert.ok(c);
  assert.is(c.state, 'NOCONN');
  assert.is(c.mcc, 234);
  assert.is(c.mnc, 30);
  assert.is(c.band, 3);
  assert.is(c.tac, '4A1');
  assert.is(c.rsrp, -95);
  assert.is(c.sinr, 12);
  assert.equal(parseServingCell('+QENG: "servingcell","SEARCH"')?.rat, null);
  assert.is(parseServingCell('+QENG: "neighbourcell intra","LTE"'), null);
});

test('signal bars from RSRP, else RSSI', () => {
  assert.is(signalBars({ rsrp: -75, rssiDbm: null }), 5);
  assert.is(signalBars({ rsrp: -95, rssiDbm: -50 }), 3);
  assert.is(signalBars({ rsrp: -125, rssiDbm: null }), 0);
  assert.is(signalBars({ rsrp: null, rssiDbm: -69 }), 4);
  assert.is(signalBars({ rsrp: null, rssiDbm: null }), 0);
});

test.run();
