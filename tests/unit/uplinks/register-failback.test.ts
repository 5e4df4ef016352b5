/**
 * Register mode (issue 6): failback to `normal` waits until the upstream
 * registrations have been refreshed since the cloud came back, or for a
 * bounded time once the cloud is up; on the fake clock.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { OutOfDialogRequestOptions, OutOfDialogResult } from '../../../firmware/src/sip/ua/user-agent-core.js';
import { UplinkManager } from '../../../firmware/src/uplinks/uplink-manager.js';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { FakeLink, FakeUa, fakeDns, flush, practice } from './fakes.js';

const CLOUD = '10.0.1.2';
const WAIT_MS = 10_000;

/** A UA whose REGISTERs to the cloud can be held (a slow registrar) and let go later. */
class GatedUa extends FakeUa {
  holdRegisters = false;
  private held: Array<() => void> = [];

  override sendRequest(o: OutOfDialogRequestOptions): Promise<OutOfDialogResult> {
    if (o.method === 'REGISTER' && this.holdRegisters) {
      return new Promise((resolve) => this.held.push(() => resolve(super.sendRequest(o))));
    }
    return super.sendRequest(o);
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Answer the `n` oldest held REGISTERs (all by default). */
  release(n = this.held.length): void {
    for (const f of this.held.splice(0, n)) f();
  }
}

async function world(opts: { holdAtStart?: boolean } = {}) {
  const p = practice({
    extensions: [
      { number: '201', name: 'Reception 1', password: 'pw-201-secret', cloudAccount: { username: 'rs-201', password: 'cloud-201-pw' } },
      { number: '202', name: 'Reception 2', password: 'pw-202-secret', cloudAccount: { username: 'rs-202', password: 'cloud-202-pw' } },
    ],
    huntGroups: [],
    uplinks: {
      cloud: { mode: 'register', proxy: `sip:${CLOUD}:5060`, domain: 'cloud.example', probe: { intervalMs: 1000, failAfter: 2, recoverAfterMs: 5000 } },
      trunks: [{ name: 'backup', registrar: 'sip:10.0.2.2:5060', username: 'riverside', password: 'trunk-secret' }],
    },
  });
  const clock = new FakeClock();
  const ua = new GatedUa();
  ua.holdRegisters = opts.holdAtStart ?? false;
  let cloudDead = false;
  /** Cloud REGISTERs answered with this (OPTIONS always 200 while alive). */
  let cloudRegister = 200;
  ua.answer = (o) => {
    if (o.destination.address !== CLOUD) return 200;
    if (cloudDead) return 'hang';
    return o.method === 'REGISTER' ? cloudRegister : 200;
  };
  const m = new UplinkManager({ practice: p, ua, clock, logger: silentLogger(), dns: fakeDns({}), linkFor: () => new FakeLink('if0') });
  const modes: string[] = [];
  m.on('mode', (e) => modes.push(`${e.mode}:${e.reason}`));
  await m.start();
  await flush();
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      await flush();
      clock.advance(100);
      await flush();
    }
  };
  const cloudRegisters = () => ua.sent.filter((o) => o.method === 'REGISTER' && o.destination.address === CLOUD).length;
  const stop = async () => {
    ua.release();
    const done = m.stop(2_000);
    await flush();
    clock.advance(2_000);
    await done;
  };
  return {
    clock,
    ua,
    m,
    modes,
    run,
    cloudRegisters,
    stop,
    kill: () => (cloudDead = true),
    revive: () => (cloudDead = false),
    registerAnswer: (s: number) => (cloudRegister = s),
    cloudState: () => m.status().uplinks.find((u) => u.name === 'cloud')?.state,
  };
}

/** Cut the cloud and wait until the gateway is in survivability. */
async function outage(w: Awaited<ReturnType<typeof world>>): Promise<void> {
  w.kill();
  await w.run(4000);
  assert.is(w.m.mode, 'survivability');
  assert.is(w.modes.at(-1), 'survivability:probes-lost');
}

test('at start: normal waits for the first upstream registrations, not only the first probe answer', async () => {
  const w = await world({ holdAtStart: true });
  await w.run(500);
  assert.is(w.m.details()[0]?.health, 'up', 'the cloud answered its probe');
  assert.is(w.m.mode, 'survivability', 'no binding upstream yet');
  assert.is(w.cloudState(), 'standby');
  w.ua.holdRegisters = false;
  w.ua.release();
  await w.run(100);
  assert.is(w.m.mode, 'normal');
  assert.equal(w.modes, ['normal:registrations-refreshed']);
  await w.stop();
});

test('failback: every binding is refreshed when the cloud answers again; normal only once all are answered', async () => {
  const w = await world();
  assert.is(w.m.mode, 'normal');
  await outage(w);
  const before = w.cloudRegisters();
  // The cloud answers probes again, but its registrar is slow.
  w.ua.holdRegisters = true;
  w.revive();
  await w.run(1000);
  assert.is(w.m.details()[0]?.health, 'recovering');
  assert.is(w.ua.heldCount, 2, 'both bindings re-sent at once, not at their refresh time');
  // recoverAfterMs (5 s) passes: the cloud is up, the registrations are not back.
  await w.run(5000);
  assert.is(w.m.details()[0]?.health, 'up');
  assert.is(w.m.mode, 'survivability', 'failback waits for the registrations');
  assert.is(w.cloudState(), 'standby');
  const [t] = w.m.outbound({ kind: 'external', dialled: '01632960123', caller: { number: '201', name: 'Reception 1' } });
  assert.is(t?.uplink, 'backup', 'external calls stay on the trunk meanwhile');
  w.ua.release(1);
  await w.run(100);
  assert.is(w.m.mode, 'survivability', 'one of two is not enough');
  w.ua.holdRegisters = false;
  w.ua.release();
  await w.run(100);
  assert.is(w.m.mode, 'normal');
  assert.is(w.modes.at(-1), 'normal:registrations-refreshed');
  assert.ok(w.cloudRegisters() >= before + 2);
  await w.stop();
});

test('registrations refreshed while recovering: failback at recoverAfterMs, as in trunk mode', async () => {
  const w = await world();
  await outage(w);
  const before = w.cloudRegisters();
  w.revive();
  await w.run(1000);
  assert.is(w.m.details()[0]?.health, 'recovering');
  assert.is(w.cloudRegisters(), before + 2, 'both re-sent');
  assert.is(w.m.mode, 'survivability');
  await w.run(5000);
  assert.is(w.m.mode, 'normal');
  assert.is(w.modes.at(-1), 'normal:recovered');
  await w.stop();
});

test('a binding the cloud refuses holds failback only for the bounded wait', async () => {
  const w = await world();
  await outage(w);
  w.registerAnswer(403);
  w.revive();
  await w.run(6000);
  assert.is(w.m.details()[0]?.health, 'up');
  assert.is(w.m.mode, 'survivability');
  // Up at about 6 s into this run; the bound is 10 s from then.
  await w.run(WAIT_MS - 1500);
  assert.is(w.m.mode, 'survivability', 'still within the wait');
  await w.run(2000);
  assert.is(w.m.mode, 'normal');
  assert.is(w.modes.at(-1), 'normal:registration-wait-over');
  await w.stop();
});

test('the cloud dropping again while failback waits: the wait is off, and the next recovery refreshes again', async () => {
  const w = await world();
  await outage(w);
  w.ua.holdRegisters = true;
  w.revive();
  await w.run(6000);
  assert.is(w.m.mode, 'survivability');
  w.kill();
  await w.run(WAIT_MS + 1000);
  assert.is(w.m.mode, 'survivability', 'the wait was cancelled with the cloud down');
  assert.is(w.modes.at(-1), 'survivability:probes-lost');
  // Back again; the REGISTERs held since the first recovery are answered now too.
  w.revive();
  w.ua.holdRegisters = false;
  w.ua.release();
  await flush();
  const before = w.cloudRegisters();
  await w.run(6000);
  assert.ok(w.cloudRegisters() >= before + 2, 'refreshed again on the second recovery');
  assert.is(w.m.mode, 'normal');
  await w.stop();
});

test.run();
