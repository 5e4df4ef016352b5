/**
 * The install step's last part, SlotBackend.completeInstall (the Pi
 * rebuilds the slot's boot partition from the new root): called after the
 * image is written and verified and before arm; a failure fails the update
 * without arming; a crash inside it is redone with the whole install.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFile } from 'node:fs/promises';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { fileSlotPath, readBootEnv } from '../../../../hw/slots/file-backend.js';
import type { SlotBackend, SlotName } from '../../../../hw/slots/types.js';
import { startBundleServer } from '../support/bundle-server.js';
import type { BundleServer } from '../support/bundle-server.js';
import { desiredFor, makeBundle, makeKeys, tempDir } from '../support/bundles.js';
import type { BuiltBundle } from '../support/bundles.js';
import { driveToState, driveUntil } from '../support/agent-drive.js';
import type { SimBox} from '../support/sim-box.js';
import { FakeLink, slotImageInfo, startSimBox } from '../support/sim-box.js';

const keys = makeKeys();
const NIGHT = Date.parse('2024-01-08T22:00:00Z');
const TUNING = { soakMs: 60_000, healthIntervalMs: 10_000, trialTimeoutMs: 300_000, reserveBytes: 0, download: { minBackoffMs: 1_000, maxBackoffMs: 4_000 } };

let dir: Awaited<ReturnType<typeof tempDir>>;
let server: BundleServer;
let good: BuiltBundle;

test.before(async () => {
  dir = await tempDir();
  server = await startBundleServer();
  good = await makeBundle({ dir: dir.path, version: '1.1.0', keys });
  server.serve('good', good.path);
});

test.after(async () => {
  await server.close();
  await dir.remove();
});

function newBox(name: string, clock: FakeClock, link: FakeLink): Promise<SimBox> {
  return startSimBox(name, { clock, link, trustedKeys: [keys.trusted], tuning: TUNING });
}

/** Gives the box's `file` backend a completeInstall step. */
function withCompleteInstall(box: SimBox, fn: (slot: SlotName) => Promise<void>): void {
  (box.backend as SlotBackend).completeInstall = fn;
}

test('completeInstall runs once the new image is in the slot, before the slot is armed', async () => {
  const clock = new FakeClock(NIGHT);
  const link = new FakeLink();
  const box = await newBox('complete', clock, link);
  const seen: Array<{ slot: SlotName; version: string; armed: string | null }> = [];
  withCompleteInstall(box, async (slot) => {
    const img = await slotImageInfo(fileSlotPath(box.slotsRoot, 'image', slot));
    seen.push({ slot, version: img.version, armed: (await readBootEnv(box.slotsRoot)).armed });
  });
  await box.start();
  link.desire(desiredFor(good, server.url('good')));
  await driveUntil(clock, () => box.board.rebootRequests.length === 1, { stepMs: 100, what: 'reboot request' });
  assert.equal(seen, [{ slot: 'b', version: '1.1.0', armed: null }]);
  assert.is((await readBootEnv(box.slotsRoot)).armed, 'b');
  await box.stopAgent();
});

test('a failing completeInstall fails the update: reported, not armed, no reboot', async () => {
  const clock = new FakeClock(NIGHT);
  const link = new FakeLink();
  const box = await newBox('fail', clock, link);
  withCompleteInstall(box, () => Promise.reject(new Error('slot b: cannot rebuild its boot partition: ENOSPC')));
  await box.start();
  link.desire(desiredFor(good, server.url('good')));
  await driveToState(clock, () => box.agent, 'failed', 100);
  assert.is(box.agent!.record.reason?.code, 'slot-incomplete');
  assert.match(box.agent!.record.reason?.message ?? '', /ENOSPC/);
  await box.agent!.flushReport();
  assert.is(link.last()?.state, 'failed');
  assert.is(link.last()?.reason?.code, 'slot-incomplete');
  assert.is((await readBootEnv(box.slotsRoot)).armed, null);
  assert.is(box.board.rebootRequests.length, 0);
  await box.stopAgent();
});

test('the process dies inside completeInstall: after the restart the install (write and completeInstall) is redone', async () => {
  const clock = new FakeClock(NIGHT);
  const link = new FakeLink();
  const box = await newBox('crash', clock, link);
  let calls = 0;
  let dying: Promise<void> | undefined;
  withCompleteInstall(box, async () => {
    calls += 1;
    if (calls === 1) {
      // kill: the agent stops while the boot partition is half written.
      dying = box.stopAgent();
      await new Promise((r) => setTimeout(r, 10));
    }
  });
  await box.start();
  const agent1 = box.agent!;
  link.desire(desiredFor(good, server.url('good')));
  await driveUntil(clock, () => dying !== undefined, { stepMs: 100, what: 'completeInstall' });
  await dying;
  assert.is(agent1.record.state, 'installing');
  assert.is(agent1.record.installed, null, 'the install is not recorded as done');
  // What the first try wrote is lost: only a rewrite brings 1.1.0 back.
  const slotB = fileSlotPath(box.slotsRoot, 'image', 'b');
  await writeFile(slotB, Buffer.alloc(4096));
  await box.start();
  await driveUntil(clock, () => box.board.rebootRequests.length === 1, { stepMs: 100, what: 'reboot request' });
  assert.is(calls, 2);
  assert.is(box.agent!.record.installed?.slot, 'b');
  assert.is((await readBootEnv(box.slotsRoot)).armed, 'b');
  assert.is((await slotImageInfo(slotB)).version, '1.1.0', 'the image was written again');
  await box.stopAgent();
});

test.run();
