import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { ConfigReconciler } from '../../../firmware/src/sync/reconciler.js';
import type { GatewayEvent, ReportedConfig } from '../../../firmware/src/sync/payloads.js';
import { buildPractice, desired, FakeApplier, MemoryLkg, validated } from './support/practice.js';

function setup(opts: { applyTimeoutMs?: number } = {}) {
  const clock = new FakeClock();
  const applier = new FakeApplier();
  const store = new MemoryLkg();
  const reports: ReportedConfig[] = [];
  const events: GatewayEvent[] = [];
  const r = new ConfigReconciler({
    applier,
    store,
    clock,
    logger: silentLogger(),
    onReport: (x) => reports.push(x),
    onEvent: (e) => events.push(e),
    applyTimeoutMs: opts.applyTimeoutMs,
  });
  const push = async (doc: unknown) => {
    r.submit(JSON.stringify(doc));
    await r.whenIdle();
    return reports.at(-1)!;
  };
  return { clock, applier, store, reports, events, r, push };
}

const configEvents = (events: GatewayEvent[]) => events.filter((e) => e.type === 'config') as Extract<GatewayEvent, { type: 'config' }>[];

test('a new version is validated, diffed, applied, saved as last known good and reported', async () => {
  const { applier, store, reports, events, push } = setup();
  const rep = await push(desired(buildPractice({ version: 1, extensions: 3 })));
  assert.is(applier.calls.length, 1);
  assert.is(applier.calls[0]!.reason, 'desired');
  assert.equal(applier.calls[0]!.diff.extensions.added, ['2000', '2001', '2002']);
  assert.is(store.saved?.version, 1);
  assert.equal(rep, { version: 1, status: 'applied', errors: [], at: rep.at, appliedVersion: 1 });
  assert.match(rep.at, /^\d{4}-\d\d-\d\dT/);
  const ev = configEvents(events);
  assert.is(ev.length, 1);
  assert.is(ev[0]!.action, 'applied');
  assert.equal(ev[0]!.changes!.extensions, { added: 3, removed: 0, changed: 0 });

  // v2 adds one extension: the applier is told only that.
  const p2 = buildPractice({ version: 2, extensions: 4 });
  await push(desired(p2));
  assert.equal(applier.calls[1]!.diff.extensions, { added: ['2003'], removed: [], changed: [] });
  assert.is(applier.calls[1]!.previous?.version, 1);
  assert.is(applier.running?.version, 2);
  assert.is(reports.length, 2);
});

test('the same document twice is a no-op: no apply, no save, report repeated, no event', async () => {
  const { applier, store, reports, events, push } = setup();
  const doc = desired(buildPractice({ version: 5 }));
  await push(doc);
  // Same content with keys in another order (a retained redelivery, another tool).
  const again = JSON.parse(JSON.stringify({ practice: doc.practice, version: 5 })) as unknown;
  const rep = await push(again);
  assert.is(applier.calls.length, 1);
  assert.is(store.saves, 1);
  assert.is(reports.length, 2);
  assert.equal({ ...rep, at: '' }, { version: 5, status: 'applied', errors: [], at: '', appliedVersion: 5 });
  assert.is(configEvents(events).length, 1);
});

test('an older version is ignored: the report keeps the applied version and an event says why', async () => {
  const { applier, events, push } = setup();
  await push(desired(buildPractice({ version: 7 })));
  const rep = await push(desired(buildPractice({ version: 6, extensions: 5 })));
  assert.is(applier.calls.length, 1);
  assert.is(rep.version, 7);
  assert.is(rep.status, 'applied');
  assert.is(rep.appliedVersion, 7);
  assert.equal(rep.ignored?.version, 6);
  assert.match(rep.ignored!.reason, /older than the applied version 7/);
  const ignored = configEvents(events).find((e) => e.action === 'ignored')!;
  assert.is(ignored.version, 6);
  assert.is(ignored.appliedVersion, 7);
  assert.match(ignored.reason!, /older/);
});

test('the applied version with different content is ignored too (a change needs a newer version)', async () => {
  const { applier, push } = setup();
  await push(desired(buildPractice({ version: 3 })));
  const rep = await push(desired(buildPractice({ version: 3, siteName: 'Other' })));
  assert.is(applier.calls.length, 1);
  assert.is(rep.ignored?.version, 3);
  assert.match(rep.ignored!.reason, /already applied with different content/);
});

test('an invalid document is rejected with JSON paths and the old config keeps running', async () => {
  const { applier, store, events, push } = setup();
  await push(desired(buildPractice({ version: 1 })));
  const bad = buildPractice({ version: 2 }) as Record<string, unknown> & { extensions: Array<Record<string, unknown>> };
  bad.extensions[1]!.number = 'abc';
  bad.huntGroups = [{ number: '600', name: 'R', members: ['2999'] }];
  const rep = await push({ version: 2, practice: bad });
  assert.is(rep.status, 'rejected');
  assert.is(rep.version, 2);
  assert.is(rep.appliedVersion, 1);
  const paths = rep.errors.map((e) => e.path);
  assert.ok(paths.includes('practice.extensions[1].number'), JSON.stringify(rep.errors));
  assert.is(applier.calls.length, 1);
  assert.is(applier.running?.version, 1);
  assert.is(store.saved?.version, 1);
  assert.is(configEvents(events).at(-1)!.action, 'rejected');
});

test('not JSON, not an object, no version: rejected with a readable reason', async () => {
  const { r, reports } = setup();
  r.submit('{"version": 3, "practice": ');
  await r.whenIdle();
  assert.is(reports[0]!.status, 'rejected');
  assert.is(reports[0]!.version, null);
  assert.match(reports[0]!.errors[0]!.message, /^not JSON/);
  r.submit('[1,2]');
  await r.whenIdle();
  assert.is(reports[1]!.errors[0]!.path, '(root)');
  r.submit(JSON.stringify({ practice: buildPractice({ version: 1 }) }));
  await r.whenIdle();
  assert.ok(reports[2]!.errors.some((e) => e.path === 'version'));
});

test('an empty payload (retained message cleared) changes nothing and reports nothing', async () => {
  const { r, reports, applier } = setup();
  r.submit(Buffer.alloc(0));
  await r.whenIdle();
  assert.is(reports.length, 0);
  assert.is(applier.calls.length, 0);
});

test('a change that fails half way is rolled back to the previous config and rejected', async () => {
  const { applier, store, events, push } = setup();
  await push(desired(buildPractice({ version: 1, extensions: 3 })));
  applier.failNext = { step: 'huntGroups', message: 'group 600 could not be built' };
  const rep = await push(desired(buildPractice({ version: 2, extensions: 6 })));
  assert.is(rep.status, 'rejected');
  assert.equal(rep.errors, [{ path: 'practice.huntGroups', message: 'group 600 could not be built' }]);
  assert.is(applier.calls.length, 3);
  const rollback = applier.calls[2]!;
  assert.is(rollback.reason, 'rollback');
  assert.is(rollback.version, 1);
  assert.equal(rollback.diff.extensions, { added: [], removed: ['2003', '2004', '2005'], changed: [] });
  assert.is(rollback.previous?.version, 2, 'the rollback is told what may be half in place');
  assert.is(applier.running?.version, 1);
  assert.is(store.saved?.version, 1, 'the failed version is never the last known good');
  assert.is(rep.appliedVersion, 1);
  const actions = configEvents(events).map((e) => e.action);
  assert.equal(actions, ['applied', 'rolled-back', 'rejected']);
});

test('the rollback diff undoes exactly what the failed version changed', async () => {
  const { applier, push } = setup();
  await push(desired(buildPractice({ version: 1, extensions: 3 })));
  applier.failNext = { step: 'routes', message: 'boom' };
  await push(desired(buildPractice({ version: 2, extensions: 5 })));
  const rb = applier.calls.at(-1)!;
  assert.equal(rb.diff.extensions, { added: [], removed: ['2003', '2004'], changed: [] });
});

test('a rollback that fails too raises a critical alarm', async () => {
  const { applier, events, push } = setup();
  await push(desired(buildPractice({ version: 1 })));
  applier.failNext = { step: 'uplinks', message: 'trunk refused', rollbackToo: true };
  const rep = await push(desired(buildPractice({ version: 2, withTrunk: true })));
  assert.is(rep.status, 'rejected');
  const alarm = events.find((e) => e.type === 'alarm');
  assert.ok(alarm && alarm.type === 'alarm' && alarm.alarm === 'config-rollback-failed' && alarm.severity === 'critical');
  assert.ok(configEvents(events).some((e) => e.action === 'rollback-failed'));
});

test('an applier that throws is a failure like any other', async () => {
  const { applier, push } = setup();
  await push(desired(buildPractice({ version: 1 })));
  applier.failNext = { step: 'extensions', message: 'exploded', throws: true };
  const rep = await push(desired(buildPractice({ version: 2 , extensions: 4})));
  assert.is(rep.status, 'rejected');
  assert.equal(rep.errors, [{ path: '(apply)', message: 'exploded' }]);
  assert.is(applier.running?.version, 1);
});

test('when the last known good cannot be saved, the change is rolled back (what runs = what restarts)', async () => {
  const { applier, store, push } = setup();
  await push(desired(buildPractice({ version: 1 })));
  store.failSave = true;
  const rep = await push(desired(buildPractice({ version: 2, extensions: 4 })));
  assert.is(rep.status, 'rejected');
  assert.is(rep.errors[0]!.path, '(store)');
  assert.is(applier.running?.version, 1);
});

test('an apply that never finishes times out on the clock and is rolled back', async () => {
  const { applier, clock, r, reports } = setup({ applyTimeoutMs: 5_000 });
  r.submit(JSON.stringify(desired(buildPractice({ version: 1 }))));
  await r.whenIdle();
  let release!: () => void;
  applier.gate = new Promise((res) => (release = res));
  r.submit(JSON.stringify(desired(buildPractice({ version: 2, extensions: 4 }))));
  await new Promise((res) => setImmediate(res));
  assert.is(reports.length, 1, 'still applying');
  applier.gate = undefined; // the rollback goes through
  clock.advance(5_000);
  await r.whenIdle();
  assert.is(reports[1]!.status, 'rejected');
  assert.match(reports[1]!.errors[0]!.message, /did not finish within 5000 ms/);
  assert.is(applier.calls.at(-1)!.reason, 'rollback');
  release();
});

test('documents arriving during an apply are coalesced: only the newest is handled next', async () => {
  const { applier, r, reports } = setup();
  let release!: () => void;
  applier.gate = new Promise((res) => (release = res));
  r.submit(JSON.stringify(desired(buildPractice({ version: 1 }))));
  await new Promise((res) => setImmediate(res));
  for (const v of [2, 3, 4]) r.submit(JSON.stringify(desired(buildPractice({ version: v, extensions: v + 2 }))));
  applier.gate = undefined;
  release();
  await r.whenIdle();
  assert.equal(
    applier.calls.map((c) => c.version),
    [1, 4],
  );
  assert.equal(
    reports.map((x) => x.version),
    [1, 4],
  );
});

test('secrets never appear in reports or events, even when an applier quotes one', async () => {
  const { applier, reports, events, push } = setup();
  await push(desired(buildPractice({ version: 1, passwordPrefix: 'TopSecret99' })));
  applier.failNext = { step: 'extensions', message: 'phone 2000 refused password TopSecret99-2000' };
  await push(desired(buildPractice({ version: 2, extensions: 4, passwordPrefix: 'TopSecret99' })));
  const bad = buildPractice({ version: 3, passwordPrefix: 'TopSecret99' }) as { extensions: Array<{ password: string }> };
  bad.extensions[0]!.password = 'short';
  await push({ version: 3, practice: bad });
  const published = JSON.stringify({ reports, events });
  assert.not.ok(published.includes('TopSecret99'), published);
  assert.ok(published.includes('***'));
});

test('restore runs the last known good when nothing runs, and only then', async () => {
  const { applier, store, r } = setup();
  const p = validated(buildPractice({ version: 4 }));
  store.saved = { version: 4, practice: p };
  const got = await r.restore();
  assert.is(got?.version, 4);
  assert.is(applier.calls[0]!.reason, 'restore');
  assert.is(applier.running?.version, 4);
  await r.restore();
  assert.is(applier.calls.length, 1, 'already running: nothing to do');
  assert.equal(r.lastReport()?.version, 4, 'the report to republish on connect tells the running version');
});

test('restore with nothing saved waits for the cloud; an unreadable store raises an alarm', async () => {
  const a = setup();
  assert.is(await a.r.restore(), undefined);
  assert.is(a.applier.calls.length, 0);
  assert.is(a.r.lastReport(), undefined);
  const b = setup();
  b.store.load = async () => {
    throw new Error('EIO');
  };
  assert.is(await b.r.restore(), undefined);
  assert.ok(b.events.some((e) => e.type === 'alarm' && e.alarm === 'config-restore-failed'));
});

test('reloadLast handles the last desired document again', async () => {
  const { r, applier } = setup();
  assert.is(await r.reloadLast(), undefined);
  r.submit(JSON.stringify(desired(buildPractice({ version: 2 }))));
  await r.whenIdle();
  const rep = await r.reloadLast();
  assert.is(rep?.status, 'applied');
  assert.is(rep?.version, 2);
  assert.is(applier.calls.length, 1, 'the same document: a no-op');
});

test.run();
