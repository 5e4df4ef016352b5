import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import { FileSlotBackend, readBootedInfo } from '../../../../hw/slots/file-backend.js';
import {
  bootSimulatedBoard,
  ensureFileSlots,
  FIRMWARE_PACKAGE_IN_ROOTFS,
  REBOOT_REQUEST_FILE,
  rootTreeFirmwareVersion,
  simulatedBoardPort,
} from '../../../../ota/agent/simulated-board.js';
import { tempDir } from '../support/bundles.js';

test('file slots are created on first use and left alone after', async () => {
  const t = await tempDir();
  try {
    const root = join(t.path, 'slots');
    await ensureFileSlots(root, 'dir');
    const first = await readBootedInfo(root);
    assert.is(first.slot, 'a');
    await new FileSlotBackend({ root, layout: 'dir' }).arm('b');
    await ensureFileSlots(root, 'dir');
    assert.equal(await readBootedInfo(root), first, 'not booted again');
    assert.is((await new FileSlotBackend({ root, layout: 'dir' }).status()).armed, 'b', 'the boot env is kept');
  } finally {
    await t.remove();
  }
});

test('a reboot is recorded, then the process is stopped after the delay; the next start boots the armed slot once', async () => {
  const t = await tempDir();
  try {
    const root = join(t.path, 'slots');
    await ensureFileSlots(root, 'dir');
    const clock = new FakeClock();
    let stops = 0;
    const board = simulatedBoardPort({ root, clock, logger: silentLogger(), delayMs: 3_000, stopProcess: () => stops++ });
    const before = await board.bootId();

    // A plain process restart is no boot.
    assert.equal(await bootSimulatedBoard(root), { booted: await readBootedInfo(root), rebooted: false });
    assert.is(await board.bootId(), before);

    await new FileSlotBackend({ root, layout: 'dir' }).arm('b');
    await board.reboot({ arg: '0 tryboot', reason: 'OTA update to 2.0.0' });
    const req = JSON.parse(readFileSync(join(root, REBOOT_REQUEST_FILE), 'utf8')) as { arg: string; reason: string };
    assert.equal({ arg: req.arg, reason: req.reason }, { arg: '0 tryboot', reason: 'OTA update to 2.0.0' });
    clock.advance(2_999);
    assert.is(stops, 0);
    clock.advance(1);
    assert.is(stops, 1);

    const boot = await bootSimulatedBoard(root);
    assert.is(boot.rebooted, true);
    assert.is(boot.booted.slot, 'b');
    assert.is(boot.booted.trialBoot, true);
    assert.is.not(await board.bootId(), before);
    assert.not.ok(existsSync(join(root, REBOOT_REQUEST_FILE)), 'the request is consumed');
    // Another restart without a request stays on the same boot.
    assert.is((await bootSimulatedBoard(root)).rebooted, false);
    assert.is((await readBootedInfo(root)).slot, 'b');
  } finally {
    await t.remove();
  }
});

test('the version a root tree holds is its firmware package.json, else none', async () => {
  const t = await tempDir();
  try {
    assert.is(await rootTreeFirmwareVersion(t.path, 'practice-gateway'), null, 'an empty slot');
    const pkg = join(t.path, FIRMWARE_PACKAGE_IN_ROOTFS);
    mkdirSync(join(pkg, '..'), { recursive: true });
    writeFileSync(pkg, JSON.stringify({ name: 'something-else', version: '9.0.0' }));
    assert.is(await rootTreeFirmwareVersion(t.path, 'practice-gateway'), null, 'another package');
    writeFileSync(pkg, JSON.stringify({ name: 'practice-gateway', version: '2.1.0' }));
    assert.is(await rootTreeFirmwareVersion(t.path, 'practice-gateway'), '2.1.0');
    writeFileSync(pkg, '{ not json');
    assert.is(await rootTreeFirmwareVersion(t.path, 'practice-gateway'), null);
  } finally {
    await t.remove();
  }
});

test.run();
