/**
 * The agent's state file at start-up: the crash-loop guard, a corrupt file
 * moved aside, and schema versions (readableBy) across firmware versions.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { isPgwError } from '../../../../firmware/src/util/errors.js';
import type { OtaRecord } from '../../../../ota/agent/record.js';
import { desiredFor, makeKeys, tempDir } from '../support/bundles.js';
import { FakeLink, SimBox } from '../support/sim-box.js';

const keys = makeKeys();
const NIGHT = Date.parse('2024-01-08T22:00:00Z');
const TUNING = { reserveBytes: 0 };
const good = { path: '', size: 1000, sha256: 'a'.repeat(64), version: '1.1.0' };
const server = { url: (n: string) => `http://127.0.0.1:9/${n}` };

test('crash-loop guard: an agent that keeps dying while checking gives up with failed/crash-loop', async () => {
  const t = await tempDir('pgw-ota-crash-');
  const clock = new FakeClock(NIGHT);
  const link = new FakeLink();
  const box = new SimBox({ root: t.path, clock, link, trustedKeys: [keys.trusted], tuning: { ...TUNING, maxResumes: 2 } });
  await box.init();
  const rec: Partial<OtaRecord> = { schema: 1, readableBy: 1, seq: 1, state: 'checking', desired: desiredFor(good, server.url('good')), resumes: 2, handledIds: [] };
  await mkdir(join(box.dataDir, 'ota'), { recursive: true });
  await writeFile(join(box.dataDir, 'ota', 'state.json'), JSON.stringify(rec));
  await box.start();
  assert.is(box.agent!.state, 'failed');
  assert.is(box.agent!.record.reason?.code, 'crash-loop');
  await box.stopAgent();
});

test('state file: corrupt is moved aside (fresh start); a newer unreadable schema is an error', async () => {
  const t = await tempDir('pgw-ota-corrupt-');
  const clock = new FakeClock(NIGHT);
  const box = new SimBox({ root: t.path, clock, link: new FakeLink(), trustedKeys: [keys.trusted], tuning: TUNING });
  await box.init();
  await mkdir(join(box.dataDir, 'ota'), { recursive: true });
  await writeFile(join(box.dataDir, 'ota', 'state.json'), '{"state": "trial", "schema": 1, tru');
  await box.start();
  assert.is(box.agent!.state, 'idle');
  await box.stopAgent();
  assert.ok((await readdir(join(box.dataDir, 'ota'))).some((n) => n.startsWith('state.json.corrupt-')));
  await writeFile(join(box.dataDir, 'ota', 'state.json'), JSON.stringify({ schema: 3, readableBy: 2, state: 'idle' }));
  await box.start().then(
    () => assert.unreachable('read a newer schema'),
    (e: unknown) => assert.ok(isPgwError(e, 'PGW_E_OTA_STATE')),
  );
  // Newer, but declared readable by schema 1: used.
  await writeFile(join(box.dataDir, 'ota', 'state.json'), JSON.stringify({ schema: 2, readableBy: 1, state: 'committed', seq: 9, handledIds: ['x'], extra: 1 }));
  await box.start();
  assert.is(box.agent!.state, 'committed');
  await box.stopAgent();
});

test.run();
