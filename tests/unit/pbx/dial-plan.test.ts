import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDirectory } from '../../../firmware/src/pbx/directory.js';
import { resolveDestination } from '../../../firmware/src/pbx/dial-plan.js';
import { huntPlan } from '../../../firmware/src/pbx/hunt-plan.js';

const directory = createDirectory({
  domain: 'riverside.pgw.local',
  extensions: [
    { number: '201', name: 'Reception 1', password: 'x' },
    { number: '202', name: 'Reception 2', password: 'y' },
    // A badly planned extension numbered like an emergency number must never shadow it.
    { number: '999', name: 'Mistake', password: 'z' },
  ],
  huntGroups: [{ number: '600', name: 'Reception', strategy: 'ring-all', members: ['201', '202'], ringSeconds: 30 }],
});

test('extensions, hunt groups and unknown numbers', () => {
  const ext = resolveDestination(directory, '201', { externalAllowed: false });
  assert.is(ext.kind, 'extension');
  const grp = resolveDestination(directory, '600', { externalAllowed: false });
  assert.is(grp.kind, 'hunt-group');
  assert.is(resolveDestination(directory, '205', { externalAllowed: false }).kind, 'unknown');
});

test('emergency numbers come first, always', () => {
  assert.equal(resolveDestination(directory, '999', { externalAllowed: false }), { kind: 'emergency', number: '999' });
  assert.is(resolveDestination(directory, '112', { externalAllowed: false }).kind, 'emergency');
});

test('with an outside-line digit, 9-999 and 9-112 are emergency calls and go out bare', () => {
  assert.equal(resolveDestination(directory, '9999', { externalAllowed: true, outsideLinePrefix: '9' }), { kind: 'emergency', number: '999' });
  assert.equal(resolveDestination(directory, '9112', { externalAllowed: false, outsideLinePrefix: '9' }), { kind: 'emergency', number: '112' });
  assert.is(resolveDestination(directory, '9112', { externalAllowed: false }).kind, 'unknown', 'no prefix configured: 9112 is just digits');
  assert.equal(resolveDestination(directory, '901632960123', { externalAllowed: true, outsideLinePrefix: '9' }), { kind: 'external', number: '901632960123' });
});

test('external numbers only when an uplink can carry them', () => {
  assert.is(resolveDestination(directory, '01632960123', { externalAllowed: true }).kind, 'external');
  assert.is(resolveDestination(directory, '+441632960123', { externalAllowed: true }).kind, 'external');
  assert.is(resolveDestination(directory, '01632960123', { externalAllowed: false }).kind, 'unknown');
  assert.is(resolveDestination(directory, 'abc', { externalAllowed: true }).kind, 'unknown');
});

test('hunt plans: ring-all is one step, sequential is one step per member', () => {
  assert.equal(huntPlan({ number: '600', name: 'R', strategy: 'ring-all', members: ['201', '202', '203'], ringSeconds: 30 }), [
    { members: ['201', '202', '203'], seconds: 30 },
  ]);
  assert.equal(huntPlan({ number: '601', name: 'C', strategy: 'sequential', members: ['301', '302'], ringSeconds: 15 }), [
    { members: ['301'], seconds: 15 },
    { members: ['302'], seconds: 15 },
  ]);
});

test.run();
