import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Practice } from '../../../firmware/src/config/practice-schema.js';
import { UplinkManager, type InterfaceRole } from '../../../firmware/src/uplinks/uplink-manager.js';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { FakeLink, FakeUa, fakeDns, flush, invite, practice } from './fakes.js';

const CLOUD = '10.0.1.2';
const BACKUP = '10.0.2.2';
const SPARE_PROXY = '10.0.3.3';
const SPARE_REGISTRAR = '10.0.3.4';

async function world(p: Practice = practice()) {
  const clock = new FakeClock();
  const ua = new FakeUa();
  const links = new Map<InterfaceRole, FakeLink>([
    ['hscn', new FakeLink('hscn0')],
    ['wan', new FakeLink('wan0')],
  ]);
  const dead = new Set<string>();
  ua.answer = (o) => (dead.has(o.destination.address) ? 'hang' : 200);
  const m = new UplinkManager({
    practice: p,
    ua,
    clock,
    logger: silentLogger(),
    dns: fakeDns({ 'trunk2.example': [SPARE_REGISTRAR] }),
    linkFor: (role) => links.get(role)!,
  });
  const modes: string[] = [];
  const states: string[] = [];
  m.on('mode', (e) => modes.push(`${e.previous}->${e.mode}:${e.reason}`));
  m.on('uplink', (e) => states.push(`${e.name}:${e.state}`));
  await m.start();
  await flush();
  /** Advance in 100 ms steps, letting promises settle between. */
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      await flush();
      clock.advance(100);
      await flush();
    }
  };
  const stateOf = (name: string) => m.status().uplinks.find((u) => u.name === name)?.state;
  /** Stop: unregistering from a dead registrar waits for the deadline, on the fake clock. */
  const stop = async () => {
    const done = m.stop(2_000);
    await flush();
    clock.advance(2_000);
    await done;
  };
  return { clock, ua, links, dead, m, modes, states, run, stateOf, stop };
}

test('at start: the cloud answers and carries calls, the trunks register and stand by', async () => {
  const w = await world();
  assert.is(w.m.mode, 'normal');
  assert.equal(w.modes, ['survivability->normal:first-answer']);
  assert.equal(w.m.status(), {
    mode: 'normal',
    uplinks: [
      { name: 'cloud', state: 'up' },
      { name: 'backup', state: 'standby' },
      { name: 'spare', state: 'standby' },
    ],
  });
  // Probes go where calls go: the spare trunk's proxy; its REGISTER to the registrar, with its auth user.
  assert.ok(w.ua.count('OPTIONS', CLOUD) >= 1);
  assert.ok(w.ua.count('OPTIONS', SPARE_PROXY) >= 1);
  assert.is(w.ua.count('OPTIONS', SPARE_REGISTRAR), 0);
  const reg = w.ua.sent.find((o) => o.method === 'REGISTER' && o.destination.address === SPARE_REGISTRAR)!;
  assert.is(reg.uri, 'sip:trunk2.example');
  assert.is(reg.to, '<sip:rs2@trunk2.example>');
  assert.equal(reg.credentials, { username: 'rs2-auth', password: 'trunk2-secret' });
  await w.stop();
});

test('silent cloud: failAfter lost probes switch to survivability; the first usable trunk takes external calls', async () => {
  const w = await world();
  w.dead.add(CLOUD);
  // The probe sent at 1 s is lost at 2 s (suspect); overdue at 1.25 s, it was followed by one lost at 2.25 s (down).
  await w.run(2000);
  assert.is(w.m.mode, 'normal', 'one lost probe is not an outage');
  assert.is(w.m.details()[0]?.health, 'suspect');
  await w.run(1000);
  assert.is(w.m.mode, 'survivability');
  assert.equal(w.modes.at(-1), 'normal->survivability:probes-lost');
  assert.is(w.stateOf('cloud'), 'down');
  assert.is(w.stateOf('backup'), 'up');
  assert.is(w.stateOf('spare'), 'standby');
  const [t, ...more] = w.m.outbound({ kind: 'external', dialled: '01632960123', caller: { number: '201', name: 'Reception 1' } });
  assert.is(more.length, 0);
  assert.is(t!.uplink, 'backup');
  assert.is(t!.uri, 'sip:+441632960123@10.0.2.2:5060');
  assert.equal(t!.destination, { protocol: 'udp', address: BACKUP, port: 5060 });
  assert.is(t!.from, '<sip:+441632960000@10.0.2.2:5060>', 'the main number, not the desk');
  assert.equal(t!.headers, [['P-Asserted-Identity', '<sip:+441632960000@10.0.2.2:5060>']]);
  assert.equal(t!.credentials, { username: 'riverside', password: 'trunk-secret' });
  assert.is(t!.contactUser, 'riverside');
  await w.stop();
});

test('failback only after recoverAfterMs of good probes, and a loss on the way starts again', async () => {
  const w = await world();
  w.dead.add(CLOUD);
  await w.run(3000);
  assert.is(w.m.mode, 'survivability');
  // Probes leave at whole seconds; the one of 3 s is lost at 4 s, so revive it after that.
  await w.run(1000);
  w.dead.delete(CLOUD);
  await w.run(1000);
  assert.is(w.stateOf('cloud'), 'standby', 'answering, serving its recovery time');
  assert.is(w.m.mode, 'survivability');
  await w.run(3000);
  w.dead.add(CLOUD);
  await w.run(2000);
  assert.is(w.stateOf('cloud'), 'down', 'one loss while recovering');
  w.dead.delete(CLOUD);
  await w.run(1000);
  assert.is(w.stateOf('cloud'), 'standby');
  await w.run(4000);
  assert.is(w.m.mode, 'survivability', `${w.modes.join(', ')}`);
  await w.run(1000);
  assert.is(w.m.mode, 'normal');
  assert.equal(w.modes.at(-1), 'survivability->normal:recovered');
  assert.is(w.stateOf('backup'), 'standby');
  await w.stop();
});

test('the HSCN interface going down switches at once, without waiting for probes', async () => {
  const w = await world();
  w.links.get('hscn')!.set('down');
  assert.is(w.m.mode, 'survivability');
  assert.equal(w.modes.at(-1), 'normal->survivability:link-down');
  const before = w.ua.count('OPTIONS', CLOUD);
  await w.run(3000);
  assert.is(w.ua.count('OPTIONS', CLOUD), before, 'no probes sent out of a dead interface');
  w.links.get('hscn')!.set('up');
  await w.run(100);
  assert.is(w.stateOf('cloud'), 'standby', 'probed at once when the link returns, then recovering');
  await w.run(4800);
  assert.is(w.m.mode, 'survivability');
  await w.run(1000);
  assert.is(w.m.mode, 'normal');
  await w.stop();
});

test('a dead trunk is skipped; with every trunk dead external calls have nowhere to go', async () => {
  const w = await world();
  w.dead.add(CLOUD);
  w.dead.add(BACKUP);
  await w.run(3000);
  assert.is(w.stateOf('backup'), 'down');
  assert.is(w.stateOf('spare'), 'up');
  assert.equal(w.m.outbound({ kind: 'external', dialled: '07700900123', caller: { number: '202', name: null } }).map((t) => t.uplink), ['spare']);
  const spare = w.m.outbound({ kind: 'external', dialled: '07700900123', caller: { number: '202', name: null } })[0]!;
  assert.is(spare.from, '<sip:+441632960999@trunk2.example>', "the trunk's own callerId wins");
  w.dead.add(SPARE_PROXY);
  await w.run(3000);
  assert.equal(w.m.outbound({ kind: 'external', dialled: '07700900123', caller: { number: '202', name: null } }), []);
  await w.stop();
});

test('emergency calls go to every uplink, the healthy first, each but the last bounded in time', async () => {
  const w = await world();
  const normal = w.m.outbound({ kind: 'emergency', dialled: '999', caller: { number: '201', name: 'Reception 1' } });
  assert.equal(normal.map((t) => t.uplink), ['cloud', 'backup', 'spare']);
  assert.is(normal[0]!.uri, 'sip:999@10.0.1.2:5060', 'sent as dialled, never rewritten');
  assert.ok(normal[0]!.headers!.some(([n, v]) => n === 'Priority' && v === 'emergency'));
  assert.ok(normal[0]!.noProgressMs! > 0 && normal[1]!.noProgressMs! > 0);
  assert.is(normal[2]!.noProgressMs, undefined);
  w.dead.add(CLOUD);
  w.dead.add(BACKUP);
  await w.run(3000);
  const surv = w.m.outbound({ kind: 'emergency', dialled: '112', caller: { number: '201', name: 'Reception 1' } });
  assert.equal(surv.map((t) => t.uplink), ['spare', 'cloud', 'backup']);
  assert.is(surv[0]!.uri, 'sip:112@trunk2.example');
  await w.stop();
});

test('cloud calls carry the extension identity; the desk with its own DID presents it over a trunk', async () => {
  const w = await world();
  const [c] = w.m.outbound({ kind: 'external', dialled: '00353123456789', caller: { number: '202', name: 'Reception 2' } });
  assert.is(c!.uri, 'sip:+353123456789@10.0.1.2:5060');
  assert.is(c!.from, '"Reception 2" <sip:202@10.0.1.2:5060>');
  assert.equal(c!.headers, [['P-Asserted-Identity', '"Reception 2" <sip:202@10.0.1.2:5060>']]);
  assert.is(c!.credentials, undefined);
  assert.is(c!.contactUser, '202');
  w.links.get('hscn')!.set('down');
  const [t] = w.m.outbound({ kind: 'external', dialled: '01632960123', caller: { number: '202', name: 'Reception 2' } });
  assert.is(t!.from, '<sip:+441632960002@10.0.2.2:5060>');
  await w.stop();
});

test('inbound: trunk DIDs in To or Request-URI; extension numbers only from the cloud; others 404; strangers are not uplinks', async () => {
  const w = await world();
  const src = (address: string) => ({ protocol: 'udp' as const, address, port: 5060 });
  assert.equal(w.m.inbound(invite('sip:riverside@192.0.2.1:5060', { to: '<sip:01632960000@10.0.2.2>' }), src(BACKUP)), {
    kind: 'route',
    uplink: 'backup',
    destination: '600',
    called: '+441632960000',
    caller: { number: '+447700900123', name: 'Jane Patient' },
  });
  const viaRuri = w.m.inbound(invite('sip:+441632960001@192.0.2.1'), src(SPARE_PROXY));
  assert.is(viaRuri?.kind === 'route' && viaRuri.destination, '301');
  assert.is(w.m.inbound(invite('sip:201@192.0.2.1'), src(BACKUP))?.kind, 'reject', 'a trunk cannot reach a desk by extension number');
  const toNotOurs = w.m.inbound(invite('sip:riverside@192.0.2.1', { to: '<sip:+441632960099@10.0.2.2>' }), src(BACKUP));
  assert.equal(toNotOurs?.kind === 'reject' && toNotOurs.called, '+441632960099', 'the refusal names the DID, not the account');
  const notOurs = w.m.inbound(invite('sip:+441632960555@192.0.2.1'), src(BACKUP));
  assert.equal(notOurs?.kind === 'reject' && [notOurs.status, notOurs.called], [404, '+441632960555']);
  const fromCloud = w.m.inbound(invite('sip:201@192.0.2.1', { pai: '"Cloud Caller" <sip:+447700900999@cloud>' }), src(CLOUD));
  assert.equal(fromCloud, { kind: 'route', uplink: 'cloud', destination: '201', called: '201', caller: { number: '+447700900999', name: 'Cloud Caller' } });
  assert.is(w.m.inbound(invite('sip:201@192.0.2.1'), src('10.9.9.9')), null);
  await w.stop();
});

test('a trunk whose registration is refused is down and not used; registering before its first answer', async () => {
  const w = await world();
  w.dead.add(CLOUD);
  await w.run(3000);
  assert.is(w.stateOf('backup'), 'up');
  // The registrar now refuses (403) every refresh and retry.
  w.ua.answer = (o) => (o.destination.address === CLOUD ? 'hang' : o.method === 'REGISTER' && o.destination.address === BACKUP ? 403 : 200);
  await w.run(301_000);
  assert.is(w.stateOf('backup'), 'down');
  assert.is(w.stateOf('spare'), 'up');
  assert.ok(w.states.includes('backup:down'));

  const slow = await world();
  slow.ua.answer = (o) => (o.method === 'REGISTER' ? 'hang' : 200);
  const fresh = new UplinkManager({
    practice: practice(),
    ua: slow.ua,
    clock: slow.clock,
    logger: silentLogger(),
    dns: fakeDns({ 'trunk2.example': [SPARE_REGISTRAR] }),
    linkFor: () => new FakeLink('x'),
  });
  await fresh.start();
  await flush();
  assert.is(fresh.status().uplinks.find((u) => u.name === 'backup')?.state, 'registering');
  const stopping = fresh.stop(10);
  await flush();
  slow.clock.advance(10);
  await stopping;
  await w.stop();
  await slow.stop();
});

test('register mode: each extension with a cloud account is registered upstream with its own credentials', async () => {
  const p = practice({
    extensions: [
      { number: '201', name: 'Reception 1', password: 'pw-201-secret', cloudAccount: { username: 'rs-201', password: 'cloud-201-pw' } },
      { number: '202', name: 'Reception 2', password: 'pw-202-secret', cloudAccount: { username: 'rs-202', authUsername: 'auth-202', password: 'cloud-202-pw' } },
    ],
    huntGroups: [],
    uplinks: { cloud: { mode: 'register', proxy: 'sip:10.0.1.2:5060', domain: 'cloud.example' }, trunks: [] },
  });
  const w = await world(p);
  const regs = w.ua.sent.filter((o) => o.method === 'REGISTER');
  assert.equal(regs.map((r) => r.to).sort(), ['<sip:rs-201@cloud.example>', '<sip:rs-202@cloud.example>']);
  const r202 = regs.find((r) => r.to.includes('rs-202'))!;
  assert.equal(r202.credentials, { username: 'auth-202', password: 'cloud-202-pw' });
  assert.ok(r202.headers!.some(([n, v]) => n === 'Contact' && v.includes('202@')), 'Contact user is the extension');
  const [t] = w.m.outbound({ kind: 'external', dialled: '01632960123', caller: { number: '202', name: 'Reception 2' } });
  assert.is(t!.from, '"Reception 2" <sip:rs-202@cloud.example>');
  assert.equal(t!.credentials, { username: 'auth-202', password: 'cloud-202-pw' });
  assert.equal(w.m.details()[0]?.registration, '2/2');
  await w.stop();
});

test('no cloud: the gateway is normal and the first trunk carries external calls', async () => {
  const w = await world(practice({ uplinks: { trunks: [{ name: 'backup', registrar: 'sip:10.0.2.2', username: 'u1', password: 'trunk-secret' }] } }));
  assert.is(w.m.mode, 'normal');
  assert.equal(w.modes, []);
  assert.equal(w.m.status().uplinks, [{ name: 'backup', state: 'up' }]);
  assert.is(w.m.outbound({ kind: 'external', dialled: '01632960123', caller: { number: '201', name: null } })[0]?.uplink, 'backup');
  await w.stop();
});

test('a new practice while running: unchanged uplinks carry on, changed ones restart, removed ones unregister', async () => {
  const w = await world();
  const registersBefore = w.ua.count('REGISTER', BACKUP);
  const base = practice();
  const next = practice({
    inbound: [{ did: '+441632960777', destination: '201' }],
    uplinks: {
      trunks: [
        base.uplinks!.trunks[0],
        { name: 'spare', registrar: 'sip:trunk2.example', proxy: 'sip:10.0.3.3', username: 'rs2', authUsername: 'rs2-auth', password: 'a-new-secret' },
      ],
    },
  });
  const applying = w.m.apply(next);
  await flush();
  await applying;
  await flush();
  assert.is(w.ua.count('REGISTER', BACKUP), registersBefore, 'the unchanged trunk kept its registration');
  const spareRegs = w.ua.sent.filter((o) => o.method === 'REGISTER' && o.destination.address === SPARE_REGISTRAR);
  assert.equal(spareRegs.at(-1)?.credentials, { username: 'rs2-auth', password: 'a-new-secret' }, 'the changed trunk registered afresh');
  assert.is(w.m.mode, 'normal', 'no cloud any more: nothing to survive');
  assert.equal(w.modes, ['survivability->normal:first-answer'], 'removing the cloud leaves the mode normal, no event');
  assert.equal(w.m.status().uplinks.map((u) => u.name), ['backup', 'spare']);
  assert.ok(w.ua.sent.some((o) => o.method === 'REGISTER' && o.destination.address === SPARE_REGISTRAR && o.headers?.some(([n, v]) => n === 'Expires' && v === '0')), 'the old spare trunk unregistered');
  const routed = w.m.inbound(invite('sip:+441632960777@192.0.2.1'), { protocol: 'udp', address: BACKUP, port: 5060 });
  assert.is(routed?.kind === 'route' && routed.destination, '201', 'new DIDs route at once');
  await w.stop();
});

test.run();
