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

function hasError(errors: ConfigProblem[], path: string, message?: RegExp): void {
  const hit = errors.find((e) => e.path === path && (!message || message.test(e.message)));
  if (!hit) assert.unreachable(`no error at ${path}${message ? ` matching ${String(message)}` : ''}; got ${JSON.stringify(errors)}`);
}

test('a practice with only extensions is valid and gets its defaults', () => {
  const r = validatePractice(minimalPractice());
  if (!r.ok) assert.unreachable(JSON.stringify(r.errors));
  if (!r.ok) return;
  const p = r.value;
  assert.equal(p.sip.listen, [
    { transport: 'udp', host: '0.0.0.0', port: 5060 },
    { transport: 'tcp', host: '0.0.0.0', port: 5060 },
  ]);
  assert.is(p.sip.rtp.portMin, 16384);
  assert.is(p.sip.rtp.portMax, 32767);
  assert.equal(p.sip.codecs, ['PCMA', 'PCMU', 'G722']);
  assert.equal(p.huntGroups, []);
  assert.equal(p.inbound, []);
  assert.is(p.uplinks, undefined);
  assert.equal(p.emergency.numbers, ['999', '112']);
  assert.is(p.site.timezone, 'Europe/London');
  assert.is(p.calls.ringSeconds, 60);
  assert.is(p.dialPlan.countryCode, '44');
});

test('defaults are fresh objects: changing one value does not change the next', () => {
  const a = validatePractice(minimalPractice());
  const b = validatePractice(minimalPractice());
  assert.ok(a.ok && b.ok);
  if (!a.ok || !b.ok) return;
  a.value.sip.codecs.push('PCMU');
  a.value.emergency.numbers.push('111');
  a.value.sip.listen[0]!.port = 1;
  assert.equal(b.value.sip.codecs, ['PCMA', 'PCMU', 'G722']);
  assert.equal(b.value.emergency.numbers, ['999', '112']);
  assert.is(b.value.sip.listen[0]!.port, 5060);
});

test('a hunt group gets ring-all and 30 seconds by default', () => {
  const r = validatePractice(fullPractice());
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.is(r.value.huntGroups[0]!.strategy, 'ring-all');
  assert.is(r.value.huntGroups[0]!.ringSeconds, 30);
  assert.is(r.value.uplinks?.cloud?.mode, 'trunk');
  assert.is(r.value.uplinks?.cloud?.interface, 'hscn');
});

test('the required fields are reported as required, each at its path', () => {
  const errors = errorsOf({});
  for (const path of ['practice.version', 'practice.site', 'practice.sip', 'practice.extensions']) hasError(errors, path, /^required$/);
});

test('the document itself must be an object', () => {
  const errors = errorsOf([1, 2]);
  assert.is(errors.length, 1);
  assert.is(errors[0]!.path, 'practice');
});

test('practice.version must be a positive integer', () => {
  for (const bad of [0, -1, 1.5, '2']) {
    const p = minimalPractice();
    p.version = bad;
    hasError(errorsOf(p), 'practice.version', /positive integer/);
  }
});

test('extension numbers are digits only', () => {
  const p = minimalPractice();
  p.extensions[1].number = '20a';
  p.extensions[2].number = '+44';
  const errors = errorsOf(p);
  hasError(errors, 'practice.extensions[1].number', /digits/);
  hasError(errors, 'practice.extensions[2].number', /digits/);
});

test('an extension password shorter than 8 characters is refused', () => {
  const p = minimalPractice();
  p.extensions[0].password = 'short';
  hasError(errorsOf(p), 'practice.extensions[0].password', /at least 8/);
});

test('an unknown field is reported at the field, so typos are not silently dropped', () => {
  const p = fullPractice();
  p.huntGroups[0].ringSecond = 20;
  p.extraThing = true;
  const errors = errorsOf(p);
  hasError(errors, 'practice.huntGroups[0].ringSecond', /unknown field/);
  hasError(errors, 'practice.extraThing', /unknown field/);
});

test('DIDs and the main number must be E.164', () => {
  const p = fullPractice();
  p.inbound[0].did = '01632960000';
  p.site.mainNumber = '+0441632';
  const errors = errorsOf(p);
  hasError(errors, 'practice.inbound[0].did', /E\.164/);
  hasError(errors, 'practice.site.mainNumber', /E\.164/);
});

test('uplink URIs must be sip: or sips: URIs', () => {
  const p = fullPractice();
  p.uplinks.cloud.proxy = 'http://sbc.example.net';
  p.uplinks.trunks[0].registrar = 'sip:';
  p.uplinks.trunks[0].proxy = 'sips:sbc.example.net;transport=udp';
  const errors = errorsOf(p);
  hasError(errors, 'practice.uplinks.cloud.proxy', /sip: or sips:/);
  hasError(errors, 'practice.uplinks.trunks[0].registrar', /sip: or sips:/);
  hasError(errors, 'practice.uplinks.trunks[0].proxy', /sips: URI cannot use transport=udp/);
});

test('an unknown codec, strategy or transport is refused at its path', () => {
  const p = fullPractice();
  p.sip.codecs = ['PCMA', 'OPUS'];
  p.huntGroups[0].strategy = 'random';
  p.sip.listen = [{ transport: 'sctp' }];
  const errors = errorsOf(p);
  hasError(errors, 'practice.sip.codecs[1]');
  hasError(errors, 'practice.huntGroups[0].strategy');
  hasError(errors, 'practice.sip.listen[0].transport');
});

test('an unknown time zone is refused', () => {
  const p = minimalPractice();
  p.site.timezone = 'Europe/Atlantis';
  hasError(errorsOf(p), 'practice.site.timezone', /IANA/);
});

test('a different path prefix can be asked for', () => {
  const r = validatePractice({ ...minimalPractice(), version: 0 }, { pathPrefix: '' });
  assert.ok(!r.ok);
  if (r.ok) return;
  assert.is(r.errors[0]!.path, 'version');
});

test.run();
