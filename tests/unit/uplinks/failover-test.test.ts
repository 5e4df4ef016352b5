/**
 * `cmd/failover-test` (issue 6) on the fake clock: the parameters, the
 * non-disruptive probe of every uplink, and the simulated HSCN outage that
 * forces survivability for a bounded time and then lets the health decide.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Practice } from '../../../firmware/src/config/practice-schema.js';
import type { OutOfDialogRequestOptions, OutOfDialogResult } from '../../../firmware/src/sip/ua/user-agent-core.js';
import { FailoverMachine } from '../../../firmware/src/uplinks/failover.js';
import { parseFailoverTestParams, type FailoverTestResult } from '../../../firmware/src/uplinks/failover-test.js';
import { UplinkManager } from '../../../firmware/src/uplinks/uplink-manager.js';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { isPgwError } from '../../../firmware/src/util/errors.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { FakeLink, FakeUa, fakeDns, flush, practice } from './fakes.js';

const CLOUD = '10.0.1.2';
const BACKUP = '10.0.2.2';
const SPARE_PROXY = '10.0.3.3';
/** Scheduled probes rarely (so the test's own probes are what is seen), lost after 1 s. */
const PROBE = { intervalMs: 60_000, timeoutMs: 1000, failAfter: 2, recoverAfterMs: 5000 };

/** Answers each OPTIONS after a per-address delay on the fake clock (a round trip to measure). */
class DelayUa extends FakeUa {
  delays = new Map<string, number>();
  constructor(private readonly clock: FakeClock) {
    super();
  }
  override sendRequest(o: OutOfDialogRequestOptions): Promise<OutOfDialogResult> {
    const ms = o.method === 'OPTIONS' ? this.delays.get(o.destination.address) : undefined;
    if (ms === undefined) return super.sendRequest(o);
    return new Promise((resolve) => this.clock.setTimer(ms, () => resolve(super.sendRequest(o))));
  }
}

function testPractice(): Practice {
  return practice({
    uplinks: {
      cloud: { proxy: `sip:${CLOUD}:5060`, probe: PROBE },
      trunks: [
        { name: 'backup', registrar: `sip:${BACKUP}:5060`, username: 'riverside', password: 'trunk-secret', probe: PROBE },
        { name: 'spare', registrar: 'sip:trunk2.example', proxy: `sip:${SPARE_PROXY}`, username: 'rs2', password: 'trunk2-secret', probe: PROBE },
      ],
    },
  });
}

async function world(p: Practice = testPractice()) {
  const clock = new FakeClock();
  const ua = new DelayUa(clock);
  const dead = new Set<string>();
  ua.answer = (o) => (dead.has(o.destination.address) ? 'hang' : 200);
  const m = new UplinkManager({ practice: p, ua, clock, logger: silentLogger(), dns: fakeDns({ 'trunk2.example': ['10.0.3.4'] }), linkFor: () => new FakeLink('if0') });
  const modes: string[] = [];
  const changes: string[] = [];
  m.on('mode', (e) => modes.push(`${e.mode}:${e.reason}`));
  m.on('uplink', (e) => changes.push(`${e.name}:${e.state}`));
  await m.start();
  await flush();
  const run = async (ms: number, step = 100) => {
    for (let t = 0; t < ms; t += step) {
      await flush();
      clock.advance(step);
      await flush();
    }
  };
  /** Run the command while the fake clock moves (probes need time to be lost). */
  const command = async (params: unknown): Promise<FailoverTestResult> => {
    let result: FailoverTestResult | undefined;
    let error: unknown;
    m.failoverTest.run(params).then(
      (r) => (result = r),
      (e: unknown) => (error = e),
    );
    // 10 ms steps: the round trips are read off the fake clock.
    for (let i = 0; i < 300 && result === undefined && error === undefined; i++) await run(10, 10);
    if (error !== undefined) throw error;
    assert.ok(result, 'the command answered');
    return result!;
  };
  const stop = async () => {
    const done = m.stop(2_000);
    await flush();
    clock.advance(2_000);
    await done;
  };
  const stateOf = (name: string) => m.status().uplinks.find((u) => u.name === name)?.state;
  return { clock, ua, dead, m, modes, changes, run, command, stop, stateOf };
}

test('parameters: none means probe only; hscn-down takes 1 to 300 seconds (60 by default); anything else is refused', () => {
  assert.equal(parseFailoverTestParams(undefined), {});
  assert.equal(parseFailoverTestParams(null), {});
  assert.equal(parseFailoverTestParams({}), {});
  assert.equal(parseFailoverTestParams({ simulate: 'hscn-down' }), { simulate: 'hscn-down', seconds: 60 });
  assert.equal(parseFailoverTestParams({ simulate: 'hscn-down', seconds: 300 }), { simulate: 'hscn-down', seconds: 300 });
  const refused: Array<[unknown, RegExp]> = [
    [{ simulate: 'hscn-down', seconds: 301 }, /from 1 to 300/],
    [{ simulate: 'hscn-down', seconds: 0 }, /from 1 to 300/],
    [{ simulate: 'hscn-down', seconds: 2.5 }, /whole number/],
    [{ simulate: 'hscn-down', seconds: '30' }, /whole number/],
    [{ simulate: 'wan-down' }, /"hscn-down"/],
    [{ seconds: 30 }, /needs simulate/],
    [{ simulate: 'hscn-down', force: true }, /unknown parameter "force"/],
    [[1, 2], /JSON object/],
    ['hscn-down', /JSON object/],
  ];
  for (const [params, why] of refused) {
    try {
      parseFailoverTestParams(params);
      assert.unreachable(`accepted ${JSON.stringify(params)}`);
    } catch (e) {
      assert.ok(isPgwError(e, 'PGW_E_USAGE'), String(e));
      assert.match((e as Error).message, why);
    }
  }
});

test('available only with uplinks', async () => {
  const none = await world(practice({ uplinks: undefined }));
  assert.is(none.m.failoverTest.available(), false);
  await none.stop();
  const some = await world();
  assert.is(some.m.failoverTest.available(), true);
  await some.stop();
});

test('probe: every uplink probed now with its round trip; nothing moves (mode, states, health)', async () => {
  const w = await world();
  assert.is(w.m.mode, 'normal');
  w.ua.delays.set(CLOUD, 40);
  w.ua.delays.set(BACKUP, 120);
  // The spare trunk's proxy dies after its last scheduled probe: only the test's probe sees it.
  w.dead.add(SPARE_PROXY);
  const optionsBefore = w.ua.count('OPTIONS');
  const modesBefore = [...w.modes];
  const changesBefore = w.changes.length;
  const r = await w.command({});
  assert.is(r.test, 'probe');
  assert.is(r.mode, 'normal');
  assert.is(w.ua.count('OPTIONS'), optionsBefore + 3, 'one probe per uplink');
  assert.equal(
    r.uplinks.map((u) => [u.name, u.kind, u.state, u.health, u.peer, u.registration, u.probe]),
    [
      ['cloud', 'cloud', 'up', 'up', `udp:${CLOUD}:5060`, null, { ok: true, status: 200, rttMs: 40, reason: null }],
      ['backup', 'trunk', 'standby', 'up', `udp:${BACKUP}:5060`, 'registered', { ok: true, status: 200, rttMs: 120, reason: null }],
      ['spare', 'trunk', 'standby', 'up', `udp:${SPARE_PROXY}:5060`, 'registered', { ok: false, status: 'timeout', rttMs: null, reason: 'no answer in time' }],
    ],
  );
  assert.equal(r.wouldCarry, { external: 'cloud', emergency: ['cloud', 'backup', 'spare'] });
  assert.is(r.simulation, null);
  assert.equal(w.modes, modesBefore, 'no mode change');
  assert.equal(w.changes.slice(changesBefore), [], 'no uplink state change');
  assert.is(w.m.details()[2]?.health, 'up', 'the lost test probe was not counted against the spare trunk');
  await w.stop();
});

test('probe: in survivability the report says the trunk carries external calls and 999 tries it first', async () => {
  const w = await world(
    practice({
      uplinks: {
        cloud: { proxy: `sip:${CLOUD}:5060`, probe: { intervalMs: 1000, failAfter: 2, recoverAfterMs: 5000 } },
        trunks: [{ name: 'backup', registrar: `sip:${BACKUP}:5060`, username: 'riverside', password: 'trunk-secret' }],
      },
    }),
  );
  w.dead.add(CLOUD);
  await w.run(3000);
  assert.is(w.m.mode, 'survivability');
  const r = await w.command(undefined);
  assert.is(r.mode, 'survivability');
  assert.equal(
    r.uplinks.map((u) => [u.name, u.state, u.probe.status]),
    [
      ['cloud', 'down', 'timeout'],
      ['backup', 'up', 200],
    ],
  );
  assert.equal(r.wouldCarry, { external: 'backup', emergency: ['backup', 'cloud'] });
  await w.stop();
});

test('probe: a refused probe reports the status and reason it got (e.g. a TLS certificate refused by the transport)', async () => {
  const w = await world();
  w.ua.answer = (o) => (o.destination.address === BACKUP ? 503 : 200);
  const r = await w.command({});
  assert.equal(r.uplinks[1]?.probe, { ok: false, status: 503, rttMs: null, reason: '503 X' });
  await w.stop();
});

test('hscn-down: survivability at once for the given seconds, whatever the cloud says; then the health decides', async () => {
  const w = await world();
  const r = await w.command({ simulate: 'hscn-down', seconds: 30 });
  assert.is(r.test, 'hscn-down');
  assert.is(r.mode, 'survivability');
  assert.equal(w.modes.at(-1), 'survivability:failover-test');
  assert.is(r.uplinks[0]?.probe.ok, true, 'the cloud still answers: it is only simulated');
  assert.is(r.uplinks[0]?.state, 'standby');
  assert.is(r.uplinks[1]?.state, 'up');
  // 999 still takes the path that really works first: a test never makes an emergency call worse.
  assert.equal(r.wouldCarry, { external: 'backup', emergency: ['cloud', 'backup', 'spare'] });
  assert.ok(r.simulation);
  assert.is(r.simulation!.simulate, 'hscn-down');
  assert.ok(r.simulation!.secondsLeft >= 29 && r.simulation!.secondsLeft <= 30, String(r.simulation!.secondsLeft));
  const [t] = w.m.outbound({ kind: 'external', dialled: '01632960123', caller: { number: '201', name: 'Reception 1' } });
  assert.is(t?.uplink, 'backup');
  // The cloud keeps answering its probes; the mode does not move until the time is up.
  const started = w.clock.now();
  await w.run(28_000);
  assert.is(w.m.mode, 'survivability');
  await w.run(2_500);
  assert.is(w.m.mode, 'normal');
  assert.equal(w.modes.slice(-2), ['survivability:failover-test', 'normal:failover-test-over']);
  assert.ok(w.clock.now() - started >= 28_000);
  const again = await w.command({});
  assert.is(again.simulation, null);
  await w.stop();
});

test('hscn-down ending while the cloud is really down: the mode stays survivability; a new test replaces the old', async () => {
  const w = await world(
    practice({
      uplinks: {
        cloud: { proxy: `sip:${CLOUD}:5060`, probe: { intervalMs: 1000, failAfter: 2, recoverAfterMs: 5000 } },
        trunks: [{ name: 'backup', registrar: `sip:${BACKUP}:5060`, username: 'riverside', password: 'trunk-secret' }],
      },
    }),
  );
  await w.command({ simulate: 'hscn-down', seconds: 30 });
  await w.run(5_000);
  // A second request: 10 s from now, not the 25 s left of the first.
  await w.command({ simulate: 'hscn-down', seconds: 10 });
  w.dead.add(CLOUD);
  await w.run(11_000);
  assert.is(w.m.mode, 'survivability', 'the cloud really is down now');
  assert.is(w.m.simulationUntil(), undefined, 'the second simulation is over, not extended by the first');
  assert.equal(w.modes, ['normal:first-answer', 'survivability:failover-test'], 'no event when the test ends in the same mode');
  // Once the cloud is back, the usual recovery applies.
  w.dead.delete(CLOUD);
  await w.run(7_000);
  assert.is(w.m.mode, 'normal');
  assert.is(w.modes.at(-1), 'normal:recovered');
  await w.stop();
});

test('stop() ends a simulation without a late mode change', async () => {
  const w = await world();
  await w.command({ simulate: 'hscn-down', seconds: 5 });
  await w.stop();
  const n = w.modes.length;
  w.clock.advance(10_000);
  await flush();
  assert.is(w.modes.length, n);
});

test('the mode machine holds normal back only when asked, and never holds survivability', () => {
  const m = new FailoverMachine(true);
  assert.is(m.follow('up', 'first-answer', 1, true), undefined);
  assert.is(m.mode, 'survivability');
  assert.equal(m.follow('up', 'registrations-refreshed', 2, false), { mode: 'normal', previous: 'survivability', reason: 'registrations-refreshed', at: 2 });
  assert.equal(m.follow('down', 'failover-test', 3, true), { mode: 'survivability', previous: 'normal', reason: 'failover-test', at: 3 });
});

test.run();
