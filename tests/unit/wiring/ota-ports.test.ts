import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { DeferredHealth, DeferredOtaLink, PbxCallGuard, type PbxCallControl } from '../../../firmware/src/wiring/ota-ports.js';
import type { OtaLink } from '../../../ota/agent/ports.js';

class FakePbx implements PbxCallControl {
  calls: unknown[] = [];
  accepting = true;
  log: string[] = [];
  activeCalls(): readonly unknown[] {
    return this.calls;
  }
  stopAcceptingCalls(): void {
    this.accepting = false;
    this.log.push('stop');
  }
  resumeAcceptingCalls(): void {
    this.accepting = true;
    this.log.push('resume');
  }
}

const guard = (clock = new FakeClock()) => ({ clock, g: new PbxCallGuard({ clock, logger: silentLogger() }) });

test('calls are counted from the PBX (none before it is bound)', () => {
  const { g } = guard();
  assert.is(g.activeCalls(), 0);
  const pbx = new FakePbx();
  pbx.calls = [{}, {}];
  g.bind(pbx);
  assert.is(g.activeCalls(), 2);
});

test('a hold refuses new calls until released; a second release does nothing', () => {
  const { g } = guard();
  const pbx = new FakePbx();
  g.bind(pbx);
  const release = g.holdNewCalls(120_000);
  assert.is(pbx.accepting, false);
  release();
  assert.is(pbx.accepting, true);
  release();
  assert.equal(pbx.log, ['stop', 'resume']);
});

test('a hold nobody releases ends by itself after its time', () => {
  const { g, clock } = guard();
  const pbx = new FakePbx();
  g.bind(pbx);
  g.holdNewCalls(5_000);
  clock.advance(4_999);
  assert.is(pbx.accepting, false);
  clock.advance(1);
  assert.is(pbx.accepting, true);
  assert.is(clock.pending(), 0);
});

test('a newer hold replaces the older: the old release and timer no longer resume', () => {
  const { g, clock } = guard();
  const pbx = new FakePbx();
  g.bind(pbx);
  const first = g.holdNewCalls(1_000);
  const second = g.holdNewCalls(10_000);
  first();
  clock.advance(5_000);
  assert.is(pbx.accepting, false, 'still held by the second hold');
  second();
  assert.is(pbx.accepting, true);
});

test('a hold taken before the PBX exists applies when it is bound', () => {
  const { g } = guard();
  g.holdNewCalls(60_000);
  const pbx = new FakePbx();
  g.bind(pbx);
  assert.is(pbx.accepting, false);
});

test('after close (the gateway stopping) no release or timeout makes the PBX take calls again', () => {
  const { g, clock } = guard();
  const pbx = new FakePbx();
  g.bind(pbx);
  const release = g.holdNewCalls(1_000);
  g.close();
  pbx.stopAcceptingCalls(); // what the gateway's stop() does next
  release();
  clock.advance(2_000);
  assert.is(pbx.accepting, false);
  g.holdNewCalls(1_000)();
  assert.is(pbx.accepting, false);
});

test('health is "still starting" until bound, then the real check', async () => {
  const h = new DeferredHealth();
  const before = await h.check(new AbortController().signal);
  assert.is(before.healthy, false);
  assert.equal(before.checks.map((c) => c.name), ['gateway']);
  h.bind({ check: async () => ({ healthy: true, checks: [{ name: 'sip', ok: true }] }) });
  assert.is((await h.check(new AbortController().signal)).healthy, true);
});

class FakeLink implements OtaLink {
  published: string[] = [];
  desired: Array<(p: Buffer) => void> = [];
  connected: Array<() => void> = [];
  async publishReported(payload: string): Promise<void> {
    this.published.push(payload);
  }
  async subscribeDesired(handler: (payload: Buffer) => void): Promise<() => void> {
    this.desired.push(handler);
    return () => (this.desired = this.desired.filter((h) => h !== handler));
  }
  onConnected(handler: () => void): () => void {
    this.connected.push(handler);
    return () => (this.connected = this.connected.filter((h) => h !== handler));
  }
}

test('the deferred link: publishing before the connection exists rejects; handlers carry over when bound', async () => {
  const link = new DeferredOtaLink(() => undefined);
  await link.publishReported('{}').then(
    () => assert.unreachable('should reject'),
    (e: Error) => assert.match(e.message, /not set up/),
  );
  const got: string[] = [];
  let connects = 0;
  await link.subscribeDesired((p) => got.push(p.toString()));
  link.onConnected(() => connects++);
  const dropped = await link.subscribeDesired(() => got.push('dropped'));
  dropped();

  const real = new FakeLink();
  link.bind(real);
  await new Promise((r) => setImmediate(r));
  assert.is(real.desired.length, 1, 'only the subscription still wanted');
  real.desired[0]!(Buffer.from('target'));
  real.connected[0]!();
  assert.equal(got, ['target']);
  assert.is(connects, 1);
  await link.publishReported('{"state":"idle"}');
  assert.equal(real.published, ['{"state":"idle"}']);
  assert.throws(() => link.bind(new FakeLink()), /bound already/);
});

test('the deferred link after binding: subscribe and unsubscribe go straight through', async () => {
  const link = new DeferredOtaLink(() => undefined);
  const real = new FakeLink();
  link.bind(real);
  const off = await link.subscribeDesired(() => undefined);
  const offConn = link.onConnected(() => undefined);
  assert.is(real.desired.length, 1);
  assert.is(real.connected.length, 1);
  off();
  offConn();
  assert.is(real.desired.length, 0);
  assert.is(real.connected.length, 0);
});

test('a failed subscription on binding is reported, not thrown', async () => {
  const errors: string[] = [];
  const link = new DeferredOtaLink((e) => errors.push(e.message));
  await link.subscribeDesired(() => undefined);
  const real = new FakeLink();
  real.subscribeDesired = () => Promise.reject(new Error('broker said no'));
  link.bind(real);
  await new Promise((r) => setImmediate(r));
  assert.equal(errors, ['broker said no']);
});

test.run();
