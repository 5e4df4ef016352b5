import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { PgwError } from '../../../firmware/src/util/errors.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { Outbox } from '../../../firmware/src/sync/outbox.js';
import type { OutboxAlarm, OutboxEntry } from '../../../firmware/src/sync/outbox.js';
import { OutboxDrainer } from '../../../firmware/src/sync/outbox-drainer.js';

const dirs: string[] = [];
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Lets file I/O and promise chains run (the outbox does real fsyncs). */
const settle = (ms = 40) => new Promise((r) => setTimeout(r, ms));
/** Waits until `cond` holds (file I/O takes real time), failing after 2 s. */
async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > end) assert.unreachable(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A broker stand-in: publishes wait until the test acks, fails or drops them. */
class FakeBroker {
  readonly log: string[] = [];
  readonly waiting: Array<{ entry: OutboxEntry; ok: () => void; fail: (e: Error) => void }> = [];
  auto = false;
  publish = (entry: OutboxEntry): Promise<void> => {
    this.log.push(entry.id);
    if (this.auto) return Promise.resolve();
    return new Promise((ok, fail) => this.waiting.push({ entry, ok, fail }));
  };
  ackAll(): void {
    for (const w of this.waiting.splice(0)) w.ok();
  }
  dropAll(): void {
    for (const w of this.waiting.splice(0)) w.fail(new PgwError('PGW_E_SYNC_OFFLINE', 'closed'));
  }
}

async function setup(window = 4) {
  const d = mkdtempSync(join(tmpdir(), 'pgw-drain-'));
  dirs.push(d);
  const clock = new FakeClock();
  const outbox = await Outbox.open({ file: join(d, 'o.jsonl'), clock, logger: silentLogger(), freeSpace: async () => 1e12 });
  const broker = new FakeBroker();
  const alarms: OutboxAlarm[] = [];
  const drainer = new OutboxDrainer({ outbox, publish: broker.publish, clock, logger: silentLogger(), window, onAlarm: (a) => alarms.push(a), retryAfterRefusalMs: 30_000 });
  return { clock, outbox, broker, drainer, alarms };
}

test('nothing is sent while offline; on connect everything goes, oldest first, within the window', async () => {
  const { outbox, broker, drainer } = await setup(3);
  for (let i = 1; i <= 7; i++) await outbox.append(`r${i}`, '{}');
  await settle();
  assert.equal(broker.log, []);
  drainer.setOnline();
  await settle();
  assert.equal(broker.log, ['r1', 'r2', 'r3'], 'at most `window` in flight');
  broker.ackAll();
  await waitFor(() => broker.log.length === 6, 'r4-r6');
  await settle();
  assert.equal(broker.log, ['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
  broker.ackAll();
  await waitFor(() => broker.log.length === 7, 'r7');
  broker.ackAll();
  await drainer.whenDrained();
  await settle();
  assert.equal(broker.log, ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'], 'each record published exactly once');
  assert.is(outbox.size, 0, 'removed after PUBACK');
  await drainer.whenDrained();
});

test('the broker receive maximum caps the window', async () => {
  const { outbox, broker, drainer } = await setup(16);
  for (let i = 1; i <= 5; i++) await outbox.append(`r${i}`, '{}');
  drainer.setOnline(2);
  await settle();
  assert.is(broker.waiting.length, 2);
});

test('records appended while online are sent at once; not before they are on disk', async () => {
  const { outbox, broker, drainer } = await setup();
  broker.auto = true;
  drainer.setOnline();
  const p = outbox.append('live', '{}');
  assert.equal(broker.log, [], 'not published before the append (fsync) finished');
  await p;
  await drainer.whenDrained();
  assert.equal(broker.log, ['live']);
  assert.is(outbox.size, 0);
});

test('a record stays until PUBACK; a connection lost in flight sends it again, in order, after reconnect', async () => {
  const { outbox, broker, drainer } = await setup(2);
  for (let i = 1; i <= 4; i++) await outbox.append(`r${i}`, '{}');
  drainer.setOnline();
  await settle();
  broker.waiting[0]!.ok(); // r1 acknowledged
  await waitFor(() => broker.log.length === 3, 'r3');
  assert.equal(broker.log, ['r1', 'r2', 'r3']);
  // The connection drops with r2 and r3 in flight.
  drainer.setOffline();
  broker.dropAll();
  await settle();
  assert.equal(outbox.entries().map((e) => e.id), ['r2', 'r3', 'r4']);
  broker.log.length = 0;
  drainer.setOnline();
  await settle();
  assert.equal(broker.log, ['r2', 'r3']);
  broker.ackAll();
  await waitFor(() => broker.log.length === 3, 'r4');
  broker.ackAll();
  await drainer.whenDrained();
  assert.equal(broker.log, ['r2', 'r3', 'r4']);
  assert.is(outbox.size, 0);
});

test('a refusal (PUBACK error) pauses on the clock, raises an alarm, skips nothing', async () => {
  const { outbox, broker, drainer, clock, alarms } = await setup(1);
  await outbox.append('r1', '{}');
  await outbox.append('r2', '{}');
  drainer.setOnline();
  await settle();
  broker.waiting.shift()!.fail(new Error('Publish error: Not authorized'));
  await settle();
  assert.equal(broker.log, ['r1']);
  assert.equal(alarms.map((a) => [a.alarm, a.state]), [['cdr-refused-by-broker', 'raised']]);
  clock.advance(29_000);
  await settle();
  assert.equal(broker.log, ['r1'], 'still paused');
  clock.advance(1_000);
  await settle();
  assert.equal(broker.log, ['r1', 'r1'], 'r1 again before r2');
  broker.ackAll();
  await waitFor(() => broker.log.length === 3, 'r2');
  assert.equal(broker.log, ['r1', 'r1', 'r2']);
  assert.equal(alarms.map((a) => [a.alarm, a.state]), [
    ['cdr-refused-by-broker', 'raised'],
    ['cdr-refused-by-broker', 'cleared'],
  ]);
});

test('records replayed after a restart go before new ones', async () => {
  const { outbox, clock } = await setup();
  await outbox.append('old-1', '{}');
  await outbox.append('old-2', '{}');
  const reopened = await Outbox.open({ file: outbox.file, clock, logger: silentLogger(), freeSpace: async () => 1e12 });
  const broker = new FakeBroker();
  broker.auto = true;
  const d = new OutboxDrainer({ outbox: reopened, publish: broker.publish, clock, logger: silentLogger() });
  await reopened.append('new-1', '{}');
  d.setOnline();
  await d.whenDrained();
  assert.equal(broker.log, ['old-1', 'old-2', 'new-1']);
});

test.run();
