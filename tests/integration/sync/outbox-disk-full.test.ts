/**
 * The outbox on a file system that fills up (a 64 KiB tmpfs the test
 * mounts): low space raises an alarm, a full disk keeps records in memory
 * with a critical alarm, nothing is dropped, and they reach the disk once
 * space returns. Needs root for mount(8); without it the test says so.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { Outbox } from '../../../firmware/src/sync/outbox.js';
import type { OutboxAlarm } from '../../../firmware/src/sync/outbox.js';
import { run } from '../../support/proc.js';

test('a full disk holds records in memory, alarmed, and writes them out when space returns', async () => {
  const mnt = mkdtempSync(join(tmpdir(), 'pgw-tmpfs-'));
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  if (mounted.code !== 0) {
    console.log(`SKIPPED: cannot mount a tmpfs (${mounted.stderr.trim()}); needs root`);
    rmSync(mnt, { recursive: true, force: true });
    return;
  }
  try {
    const alarms: OutboxAlarm[] = [];
    const file = join(mnt, 'sync', 'cdr-outbox.jsonl');
    const open = () =>
      Outbox.open({ file, clock: new SystemClock(), logger: silentLogger(), minFreeBytes: 40 * 1024, onAlarm: (a) => alarms.push(a) });
    const box = await open();
    const filler = join(mnt, 'filler');
    writeFileSync(filler, Buffer.alloc(56 * 1024));
    const body = JSON.stringify({ pad: 'x'.repeat(900) });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push(`r${i}`);
      await box.append(`r${i}`, body);
    }
    const raised = alarms.filter((a) => a.state === 'raised').map((a) => a.alarm);
    assert.ok(raised.includes('outbox-disk-low'), JSON.stringify(alarms));
    assert.ok(raised.includes('outbox-disk-full'), JSON.stringify(alarms));
    assert.is(box.size, 20, 'nothing dropped');
    assert.equal(box.entries().map((e) => e.id), ids, 'order kept');
    const unsaved = box.stats().unpersisted;
    assert.ok(unsaved > 0 && unsaved < 20, `some on disk, some held in memory (${unsaved})`);

    // Space returns: the next append writes everything held.
    rmSync(filler);
    ids.push('after');
    await box.append('after', '{}');
    assert.is(box.stats().unpersisted, 0);
    assert.ok(alarms.some((a) => a.alarm === 'outbox-disk-full' && a.state === 'cleared'));
    await box.close();
    const again = await open();
    assert.equal(again.entries().map((e) => e.id), ids, 'all on disk, in order, after a restart');
    await again.close();
  } finally {
    await run('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});

test.run();
