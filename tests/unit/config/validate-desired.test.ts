import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateDesired, detectDocumentKind, validateAnyConfig } from '../../../firmware/src/config/index.js';
import { minimalPractice } from './practice-fixture.js';

test('a desired payload whose practice has no version takes N', () => {
  const practice = minimalPractice();
  delete practice.version;
  const r = validateDesired({ version: 9, practice });
  assert.ok(r.ok);
  if (r.ok) {
    assert.is(r.value.version, 9);
    assert.is(r.value.practice.version, 9);
  }
});

test('practice.version must equal N when present', () => {
  const r = validateDesired({ version: 9, practice: minimalPractice() });
  assert.ok(!r.ok);
  if (!r.ok) assert.equal(r.errors, [{ path: 'practice.version', message: 'must equal version (9)' }]);
});

test('version, practice and nothing else', () => {
  const r = validateDesired({ version: 'x', extra: 1 });
  assert.ok(!r.ok);
  if (!r.ok)
    assert.equal(r.errors, [
      { path: 'version', message: 'must be a positive integer' },
      { path: 'extra', message: 'unknown field' },
      { path: 'practice', message: 'required' },
    ]);
  assert.not.ok(validateDesired(null).ok);
});

test('practice problems come with practice paths', () => {
  const practice = minimalPractice();
  practice.extensions[0].number = 'abc';
  const r = validateDesired({ version: 3, practice });
  assert.ok(!r.ok);
  if (!r.ok) assert.is(r.errors[0]!.path, 'practice.extensions[0].number');
});

test('detectDocumentKind tells the three documents apart', () => {
  assert.is(detectDocumentKind({ device: { id: 'x' } }), 'gateway-file');
  assert.is(detectDocumentKind({ device: { id: 'x' }, practice: {} }), 'gateway-file');
  assert.is(detectDocumentKind({ practice: {} }), 'gateway-file');
  assert.is(detectDocumentKind({ version: 1, practice: {} }), 'desired');
  assert.is(detectDocumentKind(minimalPractice()), 'practice');
  assert.is(detectDocumentKind('text'), 'practice');
  assert.is(validateAnyConfig(minimalPractice()).result.ok, true);
  assert.is(validateAnyConfig({ device: {} }).kind, 'gateway-file');
});

test.run();
