import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { Outbox } from '../../../firmware/src/sync/outbox.js';
import type { OutboxAlarm, OutboxOptions } from '../../../firmware/src/sync/outbox.js';

const dirs: string[] = [];
function tempFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'pgw-outbox-'));
  dirs.push(d);
  return join(d, 'sync', 'cdr-outbox.jsonl');
}

function open(file: string, extra: Partial<OutboxOptions> = {}) {
  return Outbox.open({ file, clock: new FakeClock(), logger: silentLogger(), freeSpace: async () => 1e12, ...extra });
}

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('appended records are on disk, in order, and come back after a reopen', async () => {
  const file = tempFile();
  const a = await open(file);
  for (let i = 1; i <= 5; i++) await a.append(`id-${i}`, JSON.stringify({ n: i }));
  assert.is(a.size, 5);
  // No close(): as if killed right after the appends resolved.
  const b = await open(file);
  assert.equal(
    b.entries().map((e) => [e.id, e.body, e.persisted]),
    [1, 2, 3, 4, 5].map((i) => [`id-${i}`, JSON.stringify({ n: i }), true]),
  );
  await a.close();
  await b.close();
});

test('acked records leave and stay gone after a reopen; the rest keep their order', async () => {
  const file = tempFile();
  const a = await open(file);
  const entries = [];
  for (let i = 1; i <= 4; i++) entries.push(await a.append(`id-${i}`, `{"n":${i}}`));
  await a.ack(entries[0]!.seq);
  await a.ack(entries[2]!.seq);
  assert.equal(a.entries().map((e) => e.id), ['id-2', 'id-4']);
  const b = await open(file);
  assert.equal(b.entries().map((e) => e.id), ['id-2', 'id-4']);
  // New records after a restart come after the old ones.
  await b.append('id-5', '{}');
  const c = await open(file);
  assert.equal(c.entries().map((e) => e.id), ['id-2', 'id-4', 'id-5']);
  for (const x of [a, b, c]) await x.close();
});

test('acking everything empties the file', async () => {
  const file = tempFile();
  const a = await open(file);
  const e1 = await a.append('x', '{}');
  const e2 = await a.append('y', '{}');
  assert.ok(statSync(file).size > 0);
  await a.ack(e1.seq);
  await a.ack(e2.seq);
  assert.is(statSync(file).size, 0);
  assert.is(a.size, 0);
  await a.close();
});

test('a torn last line (killed inside a write) is cut off; complete lines survive', async () => {
  const file = tempFile();
  const a = await open(file);
  await a.append('kept-1', '{"a":1}');
  await a.append('kept-2', '{"a":2}');
  await a.close();
  appendFileSync(file, '{"a":3,"id":"torn","t":"2025-01-01T00:00:00.000Z","b":"{\\"a\\"');
  const b = await open(file);
  assert.equal(b.entries().map((e) => e.id), ['kept-1', 'kept-2']);
  assert.ok(readFileSync(file, 'utf8').endsWith('\n'), 'the torn tail is gone from the file');
  await b.append('after', '{}');
  await b.close();
  const c = await open(file);
  assert.equal(c.entries().map((e) => e.id), ['kept-1', 'kept-2', 'after']);
  await c.close();
});

test('an unreadable line in the middle is skipped and counted, not fatal', async () => {
  const file = tempFile();
  const a = await open(file);
  await a.append('one', '{}');
  await a.close();
  appendFileSync(file, 'garbage that is not json\n');
  const b = await open(file);
  await b.append('two', '{}');
  await b.close();
  const c = await open(file);
  assert.equal(c.entries().map((e) => e.id), ['one', 'two']);
  assert.is(c.stats().corruptLines, 1);
  await c.close();
});

test('the file is compacted once it is long and mostly done lines', async () => {
  const file = tempFile();
  const a = await open(file, { compactBytes: 4096 });
  const keep = await a.append('keep', JSON.stringify({ pad: 'k'.repeat(50) }));
  for (let i = 0; i < 60; i++) {
    const e = await a.append(`tmp-${i}`, JSON.stringify({ pad: 'x'.repeat(100) }));
    await a.ack(e.seq);
  }
  const size = statSync(file).size;
  assert.ok(size < 4096, `compacted to ${size} bytes`);
  const b = await open(file);
  assert.equal(b.entries().map((e) => [e.id, e.seq]), [['keep', keep.seq]]);
  await a.append('later', '{}');
  const c = await open(file);
  assert.equal(c.entries().map((e) => e.id), ['keep', 'later']);
  for (const x of [a, b, c]) await x.close();
});

test('low free space raises outbox-disk-low once, and clears it with hysteresis', async () => {
  const file = tempFile();
  const alarms: OutboxAlarm[] = [];
  let free = 100 * 1024 * 1024;
  const clock = new FakeClock();
  const a = await Outbox.open({
    file,
    clock,
    logger: silentLogger(),
    minFreeBytes: 10 * 1024 * 1024,
    freeSpace: async () => free,
    onAlarm: (x) => alarms.push(x),
  });
  await a.append('1', '{}');
  assert.is(alarms.length, 0);
  free = 5 * 1024 * 1024;
  clock.advance(10_000);
  await a.append('2', '{}');
  await a.append('3', '{}');
  assert.equal(alarms.map((x) => [x.alarm, x.state]), [['outbox-disk-low', 'raised']]);
  free = 11 * 1024 * 1024; // above the limit, below the hysteresis
  await a.append('4', '{}');
  assert.is(alarms.length, 1);
  free = 50 * 1024 * 1024;
  await a.append('5', '{}');
  assert.equal(alarms.map((x) => [x.alarm, x.state]), [
    ['outbox-disk-low', 'raised'],
    ['outbox-disk-low', 'cleared'],
  ]);
  assert.is(a.size, 5, 'low space never drops a record');
  await a.close();
});

test('records added from an old file keep working with a file written by hand', async () => {
  const file = tempFile();
  const a = await open(file);
  await a.close();
  writeFileSync(
    file,
    `${JSON.stringify({ a: 7, id: 'x7', t: '2025-01-01T00:00:00.000Z', b: '{"n":7}' })}\n${JSON.stringify({ a: 3, id: 'x3', t: '2025-01-01T00:00:00.000Z', b: '{"n":3}' })}\n${JSON.stringify({ d: 9 })}\n`,
  );
  const b = await open(file);
  assert.equal(b.entries().map((e) => e.id), ['x3', 'x7'], 'replayed in seq order');
  const e = await b.append('new', '{}');
  assert.is(e.seq, 8);
  await b.close();
});

test('append after close is refused', async () => {
  const a = await open(tempFile());
  await a.close();
  try {
    await a.append('x', '{}');
    assert.unreachable();
  } catch (e) {
    assert.is((e as { code?: string }).code, 'PGW_E_SYNC_OUTBOX');
  }
});

test.run();
