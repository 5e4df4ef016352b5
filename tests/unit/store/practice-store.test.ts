import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PracticeStore, PRACTICE_STORE_FILE } from '../../../firmware/src/store/practice-store.js';
import { validatePractice } from '../../../firmware/src/config/index.js';
import type { Practice } from '../../../firmware/src/config/index.js';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { isPgwError } from '../../../firmware/src/util/errors.js';
import { minimalPractice } from '../config/practice-fixture.js';

let dir = '';
const clock = new FakeClock(Date.UTC(2026, 5, 1, 12, 0, 0));
const logger = silentLogger();
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgw-practice-store-'));
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

function practice(version: number): Practice {
  const r = validatePractice({ ...minimalPractice(), version });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}
const store = () => new PracticeStore({ dataDir: dir, logger, clock });
const file = () => join(dir, PRACTICE_STORE_FILE);

test('nothing applied yet: load gives null and creates no file', async () => {
  assert.is(await store().load(), null);
  assert.not.ok(existsSync(file()));
});

test('the last applied practice survives a restart (a new store on the same dir)', async () => {
  const s1 = store();
  await s1.load();
  const saved = await s1.saveApplied(practice(4));
  assert.is(saved.appliedAt, '2026-06-01T12:00:00.000Z');
  await s1.close();
  const loaded = await store().load();
  assert.ok(loaded);
  assert.is(loaded!.version, 4);
  assert.equal(loaded!.practice, practice(4));
  assert.is(loaded!.appliedAt, '2026-06-01T12:00:00.000Z');
});

test('saveApplied keeps the one before as previous; the same version again keeps the real previous', async () => {
  const s = store();
  await s.saveApplied(practice(1));
  await s.saveApplied(practice(2));
  await s.saveApplied(practice(2));
  const s2 = store();
  assert.is((await s2.load())?.version, 2);
  assert.is((await s2.loadPrevious())?.version, 1);
});

test('the file holds schemaVersion, is mode 0600, and its directory 0700', async () => {
  const sub = join(dir, 'var');
  const s = new PracticeStore({ dataDir: sub, logger, clock });
  await s.saveApplied(practice(1));
  const doc = JSON.parse(readFileSync(join(sub, PRACTICE_STORE_FILE), 'utf8')) as Record<string, unknown>;
  assert.is(doc.schemaVersion, 1);
  assert.is(statSync(join(sub, PRACTICE_STORE_FILE)).mode & 0o777, 0o600);
  assert.is(statSync(sub).mode & 0o777, 0o700);
});

test('an invalid practice is refused and nothing is written', async () => {
  const bad = practice(1);
  bad.extensions.push({ ...bad.extensions[0]! });
  let err: unknown;
  await store()
    .saveApplied(bad)
    .catch((e: unknown) => (err = e));
  assert.ok(isPgwError(err, 'PGW_E_CONFIG_INVALID'));
  assert.not.ok(existsSync(file()));
});

test('a corrupt file is moved aside and reported; the gateway starts with nothing applied', async () => {
  writeFileSync(file(), '{"schemaVersion":1,"applied":{"version":3,');
  const s = store();
  assert.is(await s.load(), null);
  assert.ok(s.recovery);
  assert.match(s.recovery!.reason, /not JSON/);
  assert.ok(s.recovery!.movedTo && existsSync(s.recovery!.movedTo));
  // And it can store again afterwards.
  await s.saveApplied(practice(5));
  assert.is((await store().load())?.version, 5);
});

test('a stored practice that no longer validates is moved aside, reported, and not run', async () => {
  const p = practice(6) as unknown as Record<string, unknown>;
  p.extensions = [{ number: 'x', name: 'y', password: 'z' }];
  writeFileSync(file(), JSON.stringify({ schemaVersion: 1, applied: { version: 6, appliedAt: 'then', practice: p }, previous: null }));
  const s = store();
  assert.is(await s.load(), null);
  assert.match(s.recovery?.reason ?? '', /version 6\) does not validate: practice\.extensions\[0\]\.number/);
  assert.ok(readdirSync(dir).some((n) => n.startsWith(`${PRACTICE_STORE_FILE}.invalid-`)));
});

test('a store from a newer firmware is refused with PGW_E_STORE_SCHEMA', async () => {
  writeFileSync(file(), JSON.stringify({ schemaVersion: 2, applied: null, previous: null }));
  let err: unknown;
  await store()
    .load()
    .catch((e: unknown) => (err = e));
  assert.ok(isPgwError(err, 'PGW_E_STORE_SCHEMA'));
});

test('a document of the right version but the wrong shape is moved aside', async () => {
  writeFileSync(file(), JSON.stringify({ schemaVersion: 1, applied: { version: 'one' }, previous: null }));
  const s = store();
  assert.is(await s.load(), null);
  assert.match(s.recovery?.reason ?? '', /applied is not/);
});

test.run();
