import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configJsonSchema, configJsonSchemaText } from '../../../firmware/src/config/json-schema.js';
import { REPO_ROOT } from './practice-fixture.js';

test('docs/config.schema.json is the schema generated from the code', () => {
  const committed = readFileSync(join(REPO_ROOT, 'docs/config.schema.json'), 'utf8');
  if (committed !== configJsonSchemaText())
    assert.unreachable('docs/config.schema.json is stale: run `node --import tsx firmware/src/config/print-json-schema.ts > docs/config.schema.json`');
});

test('the JSON Schema has the contract required fields and defaults', () => {
  const s = configJsonSchema() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(s.required, ['device']);
  assert.equal(s.properties.device.required, ['id']);
  const practice = s.properties.practice;
  assert.equal([...practice.required].sort(), ['extensions', 'sip', 'site', 'version']);
  assert.is(s.properties.device.properties.admin.properties.listen.default, '127.0.0.1:8080');
  assert.equal(practice.properties.sip.properties.codecs.default, ['PCMA', 'PCMU', 'G722']);
  assert.equal(practice.properties.emergency.properties.numbers.default, ['999', '112']);
  assert.is(practice.additionalProperties, false);
});

test.run();
