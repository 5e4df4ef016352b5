import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FailoverMachine, modeFor } from '../../../firmware/src/uplinks/failover.js';
import { outboundOrder, type UplinkStanding } from '../../../firmware/src/uplinks/outbound-order.js';

const cloud = (health: UplinkStanding['health']): UplinkStanding => ({ name: 'cloud', kind: 'cloud', health, usable: health === 'up' || health === 'suspect' });
const trunk = (name: string, health: UplinkStanding['health'], registered = true): UplinkStanding => ({
  name,
  kind: 'trunk',
  health,
  usable: (health === 'up' || health === 'suspect') && registered,
});

test('external calls: the cloud in normal mode, else the first usable trunk, else nothing', () => {
  assert.equal(outboundOrder('external', 'normal', [cloud('up'), trunk('a', 'up'), trunk('b', 'up')]), ['cloud']);
  assert.equal(outboundOrder('external', 'survivability', [cloud('down'), trunk('a', 'up'), trunk('b', 'up')]), ['a']);
  assert.equal(outboundOrder('external', 'survivability', [cloud('recovering'), trunk('a', 'down'), trunk('b', 'up')]), ['b']);
  assert.equal(outboundOrder('external', 'survivability', [cloud('down'), trunk('a', 'up', false), trunk('b', 'suspect')]), ['b']);
  assert.equal(outboundOrder('external', 'survivability', [cloud('down'), trunk('a', 'down')]), []);
  assert.equal(outboundOrder('external', 'normal', [trunk('a', 'up')]), ['a'], 'no cloud: trunks carry external calls');
});

test('emergency calls: every uplink, usable first, the dead last, never none', () => {
  assert.equal(outboundOrder('emergency', 'normal', [cloud('up'), trunk('a', 'up'), trunk('b', 'down')]), ['cloud', 'a', 'b']);
  assert.equal(outboundOrder('emergency', 'survivability', [cloud('down'), trunk('a', 'down'), trunk('b', 'up')]), ['b', 'cloud', 'a']);
  assert.equal(outboundOrder('emergency', 'survivability', [cloud('recovering'), trunk('a', 'unknown'), trunk('b', 'down')]), ['cloud', 'a', 'b']);
  assert.equal(outboundOrder('emergency', 'survivability', [cloud('down'), trunk('a', 'up', false)]), ['a', 'cloud'], 'an unregistered but answering trunk before a dead cloud');
});

test('the mode follows the cloud: up and suspect are normal; a box without a cloud is always normal', () => {
  assert.is(modeFor('up'), 'normal');
  assert.is(modeFor('suspect'), 'normal');
  assert.is(modeFor('down'), 'survivability');
  assert.is(modeFor('recovering'), 'survivability');
  assert.is(modeFor('unknown'), 'survivability');
  assert.is(modeFor(undefined), 'normal');
});

test('the failover machine starts in survivability with a cloud and reports each change once', () => {
  const m = new FailoverMachine(true);
  assert.is(m.mode, 'survivability');
  assert.equal(m.follow('up', 'first-answer', 1), { mode: 'normal', previous: 'survivability', reason: 'first-answer', at: 1 });
  assert.is(m.follow('suspect', 'probe-lost', 2), undefined);
  assert.equal(m.follow('down', 'probes-lost', 3), { mode: 'survivability', previous: 'normal', reason: 'probes-lost', at: 3 });
  assert.is(m.follow('recovering', 'answering', 4), undefined);
  assert.is(new FailoverMachine(false).mode, 'normal');
});

test.run();
