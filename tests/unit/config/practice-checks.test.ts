import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validatePractice } from '../../../firmware/src/config/index.js';
import type { ConfigProblem } from '../../../firmware/src/config/index.js';
import { minimalPractice, fullPractice } from './practice-fixture.js';
import type { Json } from './practice-fixture.js';

function errorsOf(json: Json): ConfigProblem[] {
  const r = validatePractice(json);
  if (r.ok) assert.unreachable('expected the practice to be rejected');
  return r.ok ? [] : r.errors;
}

function hasError(errors: ConfigProblem[], path: string, message: RegExp): void {
  const hit = errors.find((e) => e.path === path && message.test(e.message));
  if (!hit) assert.unreachable(`no error at ${path} matching ${String(message)}; got ${JSON.stringify(errors)}`);
}

test('the full fixture is valid (so each failure below is the change it makes)', () => {
  const r = validatePractice(fullPractice());
  if (!r.ok) assert.unreachable(JSON.stringify(r.errors));
});

test('duplicate extension numbers: the second one is reported', () => {
  const p = minimalPractice();
  p.extensions[2].number = '201';
  const errors = errorsOf(p);
  hasError(errors, 'practice.extensions[2].number', /201 is already used by extensions\[0\]/);
  assert.is(errors.length, 1);
});

test('a hunt group number may not clash with an extension or another group', () => {
  const p = fullPractice();
  p.huntGroups.push({ number: '202', name: 'Clash', members: ['201'] });
  p.huntGroups.push({ number: '600', name: 'Dup', members: ['201'] });
  const errors = errorsOf(p);
  hasError(errors, 'practice.huntGroups[1].number', /already used by extensions\[1\]/);
  hasError(errors, 'practice.huntGroups[2].number', /already used by huntGroups\[0\]/);
});

test('hunt group members must exist, once each', () => {
  const p = fullPractice();
  p.huntGroups[0].members = ['201', '202', '209', '201'];
  const errors = errorsOf(p);
  hasError(errors, 'practice.huntGroups[0].members[2]', /no extension 209/);
  hasError(errors, 'practice.huntGroups[0].members[3]', /listed twice/);
});

test('a hunt group member may not be another hunt group', () => {
  const p = fullPractice();
  p.huntGroups.push({ number: '601', name: 'Nested', members: ['600'] });
  hasError(errorsOf(p), 'practice.huntGroups[1].members[0]', /no extension 600/);
});

test('hunt group overflow must exist and not be the group itself', () => {
  const p = fullPractice();
  p.huntGroups[0].overflow = '600';
  hasError(errorsOf(p), 'practice.huntGroups[0].overflow', /itself/);
  p.huntGroups[0].overflow = '777';
  hasError(errorsOf(p), 'practice.huntGroups[0].overflow', /no extension or hunt group 777/);
  p.huntGroups[0].overflow = '301';
  assert.ok(validatePractice(p).ok);
});

test('inbound destinations must exist and DIDs be routed once', () => {
  const p = fullPractice();
  p.inbound.push({ did: '+441632960001', destination: '999' });
  p.inbound.push({ did: '+441632960000', destination: '201' });
  const errors = errorsOf(p);
  hasError(errors, 'practice.inbound[1].destination', /no extension or hunt group 999/);
  hasError(errors, 'practice.inbound[2].did', /already routed by inbound\[0\]/);
});

test('inbound may route to an extension as well as a hunt group', () => {
  const p = fullPractice();
  p.inbound.push({ did: '+441632960002', destination: '301' });
  assert.ok(validatePractice(p).ok);
});

test('RTP range: portMin even and below portMax', () => {
  const p = minimalPractice();
  p.sip.rtp = { portMin: 20001, portMax: 20000 };
  const errors = errorsOf(p);
  hasError(errors, 'practice.sip.rtp.portMin', /even/);
  hasError(errors, 'practice.sip.rtp.portMax', /greater than portMin/);
  p.sip.rtp = { portMin: 20000, portMax: 20001 };
  assert.ok(validatePractice(p).ok);
});

test('emergency numbers: 999 and 112 must stay, and nothing may use them', () => {
  const p = minimalPractice();
  p.emergency = { numbers: ['999'] };
  hasError(errorsOf(p), 'practice.emergency.numbers', /must include 112/);
  p.emergency = { numbers: ['999', '112', '111'] };
  p.extensions[0].number = '112';
  hasError(errorsOf(p), 'practice.extensions[0].number', /emergency number/);
});

test('outside-line prefix: no internal number may start with it', () => {
  const p = fullPractice();
  p.dialPlan = { outsideLinePrefix: '2' };
  const errors = errorsOf(p);
  hasError(errors, 'practice.extensions[0].number', /outside-line prefix 2/);
  hasError(errors, 'practice.extensions[1].number', /outside-line prefix 2/);
  assert.not.ok(errors.some((e) => e.path === 'practice.extensions[2].number'));
  p.dialPlan = { outsideLinePrefix: '9' };
  assert.ok(validatePractice(p).ok);
});

test('register mode needs a cloud account on every extension', () => {
  const p = fullPractice();
  p.uplinks.cloud.mode = 'register';
  p.extensions[0].cloudAccount = { username: '201', password: 'cloud-pw' };
  const errors = errorsOf(p);
  hasError(errors, 'practice.extensions[1].cloudAccount', /required when uplinks.cloud.mode is register/);
  hasError(errors, 'practice.extensions[2].cloudAccount', /required/);
  assert.not.ok(errors.some((e) => e.path === 'practice.extensions[0].cloudAccount'));
});

test('trunk names are unique and "cloud" is taken', () => {
  const p = fullPractice();
  p.uplinks.trunks.push({ name: 'backup', registrar: 'sip:b.example', username: 'u', password: 'p' });
  p.uplinks.trunks.push({ name: 'cloud', registrar: 'sip:c.example', username: 'u', password: 'p' });
  const errors = errorsOf(p);
  hasError(errors, 'practice.uplinks.trunks[1].name', /already the name of trunks\[0\]/);
  hasError(errors, 'practice.uplinks.trunks[2].name', /cloud/);
});

test('TLS: a tls listen point needs its certificate, tls uplink settings need a TLS URI', () => {
  const p = fullPractice();
  p.sip.listen = [{ transport: 'udp' }, { transport: 'tls', port: 5061 }];
  p.uplinks.cloud.tls = { ca: '/etc/pgw/cloud-ca.pem' };
  p.uplinks.trunks[0].tls = { cert: '/etc/pgw/t.pem' };
  p.uplinks.trunks[0].registrar = 'sip:sip.trunk.example;transport=tls';
  const errors = errorsOf(p);
  hasError(errors, 'practice.sip.listen[1].tls', /required when transport is tls/);
  hasError(errors, 'practice.uplinks.cloud.proxy', /does not use TLS/);
  hasError(errors, 'practice.uplinks.trunks[0].tls', /cert and key go together/);
  p.sip.listen[1].tls = { cert: '/etc/pgw/sip.pem', key: '/etc/pgw/sip.key' };
  p.uplinks.cloud.proxy = 'sips:sbc.example.net';
  p.uplinks.trunks[0].tls = { cert: '/etc/pgw/t.pem', key: '/etc/pgw/t.key' };
  const r = validatePractice(p);
  if (!r.ok) assert.unreachable(JSON.stringify(r.errors));
});

test('a listening point listed twice is reported', () => {
  const p = minimalPractice();
  p.sip.listen = [{ transport: 'udp' }, { transport: 'tcp' }, { transport: 'udp', host: '0.0.0.0', port: 5060 }];
  hasError(errorsOf(p), 'practice.sip.listen[2]', /listed twice/);
});

test('registration limits must be consistent', () => {
  const p = minimalPractice();
  p.sip.registration = { minExpires: 600, maxExpires: 300 };
  const errors = errorsOf(p);
  hasError(errors, 'practice.sip.registration.minExpires', /maxExpires/);
  hasError(errors, 'practice.sip.registration.defaultExpires', /between/);
});

test('every problem is reported, not just the first', () => {
  const p = fullPractice();
  p.extensions[1].number = '201';
  p.huntGroups[0].members = ['777'];
  p.inbound[0].destination = '888';
  assert.is(errorsOf(p).length, 3);
});

test.run();
