import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGatewayFile, readJsonFile } from '../../../firmware/src/config/index.js';
import { isPgwError } from '../../../firmware/src/util/errors.js';
import { EXAMPLE_PATH, minimalPractice } from './practice-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'pgw-config-load-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.unreachable('expected a rejection');
  return undefined;
}

test('loads the shared example', async () => {
  const f = await loadGatewayFile(EXAMPLE_PATH);
  assert.is(f.device.id, 'pgw-0001');
});

test('a missing file is PGW_E_CONFIG_READ naming the file', async () => {
  const e = await rejection(loadGatewayFile(join(dir, 'nope.json')));
  assert.ok(isPgwError(e, 'PGW_E_CONFIG_READ'));
  assert.match((e as Error).message, /nope\.json: no such file/);
});

test('bad JSON is PGW_E_CONFIG_READ with a line and column, without echoing the file', async () => {
  const f = join(dir, 'bad.json');
  writeFileSync(f, '{\n  "device": { "id": "x", "password": "hunter22"\n  ,}\n}');
  const e = await rejection(readJsonFile(f));
  assert.ok(isPgwError(e, 'PGW_E_CONFIG_READ'));
  assert.match((e as Error).message, /not JSON: .* at line 3 column 4/);
  assert.not.match((e as Error).message, /hunter22/);
});

test('a JSON file with a byte-order mark is read', async () => {
  const f = join(dir, 'bom.json');
  writeFileSync(f, '\ufeff{"device":{"id":"bom"}}');
  assert.is((await loadGatewayFile(f)).device.id, 'bom');
});

test('an invalid file is PGW_E_CONFIG_INVALID carrying every problem', async () => {
  const f = join(dir, 'invalid.json');
  const practice = minimalPractice();
  practice.extensions[1].number = '201';
  writeFileSync(f, JSON.stringify({ device: { id: 'x', board: 'Bad Board' }, practice }));
  const e = await rejection(loadGatewayFile(f));
  assert.ok(isPgwError(e, 'PGW_E_CONFIG_INVALID'));
  if (!isPgwError(e)) return;
  assert.equal(e.context.errors, [{ path: 'device.board', message: 'must be a board profile name, e.g. rpi4-poe' }]);
  assert.is(e.context.file, f);
});

test.run();
