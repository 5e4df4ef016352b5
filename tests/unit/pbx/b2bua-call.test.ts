/**
 * B2buaCall on fake InviteSessions and a fake relay: the call logic that is
 * cheaper to pin here than with real phones. The tests play both ends: the
 * caller's UAS session (side a) and each fork's UAC session (side b).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { B2buaCall, type CallEnd, type CallTarget } from '../../../firmware/src/pbx/b2bua-call.js';
import type { RingStep } from '../../../firmware/src/pbx/hunt-plan.js';
import { serializeSdp } from '../../../firmware/src/media/sdp/index.js';
import type { InviteSession } from '../../../firmware/src/sip/ua/invite-session.js';
import type { SessionBody } from '../../../firmware/src/sip/ua/session-body.js';
import type { UserAgentCore } from '../../../firmware/src/sip/ua/user-agent-core.js';
import { isPgwError } from '../../../firmware/src/util/errors.js';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { fakeRelay, FakeSession, phoneSdpText, response, sdpSessionBody, type FakeLeg, type FakeRelayStats } from './fakes.js';

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));
const dirOf = (b: SessionBody | undefined): string => /a=(sendrecv|sendonly|recvonly|inactive)/.exec(b?.body.toString() ?? '')?.[1] ?? 'sendrecv';

interface World {
  call: B2buaCall;
  a: FakeSession;
  forks: FakeSession[];
  /** The SDP each fork's INVITE offered, and its Request-URI. */
  offers: string[];
  uris: string[];
  clock: FakeClock;
  ends: CallEnd[];
  stats: FakeRelayStats;
}

interface Network {
  /** The targets a member's INVITEs go to (default: one, at 10.0.1.2). */
  targetsOf?: (member: string) => CallTarget[];
  /** The gateway address facing a destination (default 10.0.1.1 for all). */
  localFor?: (address: string) => string;
}

async function startCall(plan: RingStep[], net: Network = {}): Promise<World> {
  const clock = new FakeClock();
  const forks: FakeSession[] = [];
  const offers: string[] = [];
  const uris: string[] = [];
  const ends: CallEnd[] = [];
  const stats: FakeRelayStats = { opened: 0, closed: 0, legs: [] };
  const ua = {
    invite: (opts: { mediaHandler?: FakeSession['mediaHandler']; body?: SessionBody; target: string }) => {
      offers.push(opts.body?.body.toString() ?? '');
      uris.push(opts.target);
      const s = new FakeSession({ state: 'calling', ...(opts.mediaHandler ? { mediaHandler: opts.mediaHandler } : {}) });
      forks.push(s);
      return s;
    },
  };
  const a = new FakeSession({ state: 'incoming', body: phoneSdpText({ addr: '10.0.0.2', port: 4000, version: 1 }) });
  const call = new B2buaCall(
    {
      ua: ua as unknown as UserAgentCore,
      transport: { localFor: (d) => ({ protocol: 'udp', address: net.localFor?.(d.address) ?? '10.0.1.1', port: 5060 }) },
      relay: fakeRelay(stats),
      clock,
      logger: silentLogger(),
      codecs: ['PCMA', 'PCMU'],
    },
    {
      id: 'c1',
      a: a as unknown as InviteSession,
      localToCaller: '10.0.0.1',
      caller: { number: '201', name: 'Reception 1' },
      callee: { number: '600', name: 'Reception' },
      plan,
      targetsOf: net.targetsOf ?? ((m) => [contact(m, '10.0.1.2')]),
      onEnd: (_c, e) => ends.push(e),
    },
  );
  await call.start();
  await settle();
  return { call, a, forks, offers, uris, clock, ends, stats };
}

function contact(member: string, address: string): CallTarget {
  return { member, uri: `sip:${member}@${address}`, destination: { protocol: 'udp', address, port: 5060 }, from: '<sip:201@x>', to: `<sip:${member}@x>` };
}

const calleeAnswer = (dir = 'sendrecv', version = 1): string => phoneSdpText({ addr: '10.0.1.2', port: 5000, version, pts: '8', dir });

async function answer(wd: World, fork: FakeSession): Promise<void> {
  fork.emit('progress', { response: response(180), reliable: false });
  fork.emit('answered', { response: response(200, calleeAnswer()) });
  fork.state = 'confirmed';
  await settle();
}

test('a callee 491 to a relayed re-INVITE goes back to the caller as 491, not retried; the retry then works', async () => {
  const wd = await startCall([{ members: ['202'], seconds: 30 }]);
  await answer(wd, wd.forks[0]!);
  assert.is(wd.call.state, 'answered');
  const b = wd.forks[0]!;

  const hold = wd.a.mediaHandler!.answerOffer(sdpSessionBody(phoneSdpText({ addr: '10.0.0.2', port: 4000, version: 2, dir: 'sendonly' })), { reason: 'reinvite', carrier: 'reinvite' });
  await settle();
  assert.is(b.reinvites.length, 1, 'relayed to the callee');
  assert.is(b.reinvites[0]!.opts.retryGlare, false, 'the gateway does not retry someone else’s offer');
  assert.is(dirOf(b.reinvites[0]!.opts.body), 'sendonly');
  b.reinvites[0]!.settle(response(491));
  const err = await hold.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isPgwError(err) && err.context.status === 491, `491 for the caller, got ${String(err)}`);

  // A refresh toward the callee now repeats what it accepted, not the refused hold.
  const refresh = await b.mediaHandler!.createOffer({ reason: 'refresh', carrier: 'reinvite' });
  assert.is(dirOf(refresh), 'sendrecv');

  const retry = wd.a.mediaHandler!.answerOffer(sdpSessionBody(phoneSdpText({ addr: '10.0.0.2', port: 4000, version: 3, dir: 'sendonly' })), { reason: 'reinvite', carrier: 'reinvite' });
  await settle();
  b.reinvites[1]!.settle(response(200, calleeAnswer('recvonly', 2)));
  assert.is(dirOf(await retry), 'recvonly');
  assert.is(wd.call.state, 'answered');
});

test('ring-all: the first 2xx wins, the other forks are cancelled, a late 2xx gets BYE; one callee leg', async () => {
  const wd = await startCall([{ members: ['202', '203', '204'], seconds: 30 }]);
  assert.is(wd.forks.length, 3);
  assert.is(wd.stats.opened, 2, 'one leg for the caller, one shared by every fork');
  const ports = new Set(wd.offers.map((o) => /m=audio (\d+)/.exec(o)?.[1]));
  assert.is(ports.size, 1, `every phone was offered the same gateway port (${[...ports].join(', ')})`);
  for (const f of wd.forks) f.emit('progress', { response: response(180), reliable: false });
  await answer(wd, wd.forks[1]!);
  assert.is(wd.call.state, 'answered');
  assert.equal(wd.forks[0]!.calls, ['terminate']);
  assert.equal(wd.forks[2]!.calls, ['terminate']);
  assert.equal(wd.a.calls.filter((c) => c === 'progress').length, 1, 'one 180 to the caller');
  wd.forks[2]!.emit('answered', { response: response(200, calleeAnswer()) });
  assert.equal(wd.forks[2]!.calls, ['terminate', 'bye']);
  wd.forks[0]!.end({ cause: 'rejected', status: 487 });
  assert.is(wd.call.state, 'answered', 'a loser’s 487 changes nothing');

  wd.a.end({ cause: 'bye-remote' });
  assert.is(wd.ends[0]?.disposition, 'answered');
  assert.is(wd.ends[0]?.cause, 'bye-caller');
  assert.ok(wd.forks[1]!.calls.includes('bye'));
  await settle();
  assert.is(wd.stats.closed, wd.stats.opened, 'every media leg closed');
});

test('sequential: a member rings its seconds, is cancelled, the next rings; a busy last member gives 486', async () => {
  const wd = await startCall([
    { members: ['202'], seconds: 3 },
    { members: ['203'], seconds: 3 },
  ]);
  assert.is(wd.forks.length, 1);
  wd.forks[0]!.emit('progress', { response: response(180), reliable: false });
  wd.clock.advance(2_999);
  assert.is(wd.forks.length, 1);
  wd.clock.advance(1);
  await settle();
  assert.equal(wd.forks[0]!.calls, ['terminate']);
  assert.is(wd.forks.length, 2, 'the next member rings');
  wd.forks[0]!.end({ cause: 'rejected', status: 487 });
  await settle();
  assert.is(wd.forks.length, 2, 'the first fork’s 487 does not skip the second member');
  wd.forks[1]!.end({ cause: 'rejected', status: 486 });
  await settle();
  assert.equal(wd.a.rejected?.status, 480, 'no answer from one, busy from the other: 480');
  assert.is(wd.ends[0]?.disposition, 'missed');
});

test('a caller that CANCELs while forks ring: every fork is ended, the call is abandoned', async () => {
  const wd = await startCall([{ members: ['202', '203'], seconds: 30 }]);
  for (const f of wd.forks) f.emit('progress', { response: response(180), reliable: false });
  wd.a.end({ cause: 'cancelled' });
  for (const f of wd.forks) assert.equal(f.calls, ['terminate']);
  assert.is(wd.ends[0]?.disposition, 'abandoned');
  wd.clock.advance(60_000);
  assert.is(wd.ends.length, 1, 'ended once; the ring timer is gone');
});

test('an extension with phones on two interfaces: each fork is offered the gateway address facing it, the losing interface’s leg is closed', async () => {
  // 202 has two phones on the LAN (10.0.1.x) and one on a second subnet (10.0.2.x).
  const facing = (address: string): string => (address.startsWith('10.0.2.') ? '10.0.2.1' : '10.0.1.1');
  const wd = await startCall([{ members: ['202'], seconds: 30 }], {
    targetsOf: (m) => [contact(m, '10.0.1.2'), contact(m, '10.0.2.2'), contact(m, '10.0.1.3')],
    localFor: facing,
  });
  assert.is(wd.forks.length, 3);
  const c = (o: string): string | undefined => /^c=IN IP4 (\S+)/m.exec(o)?.[1];
  const port = (o: string): string | undefined => /^m=audio (\d+)/m.exec(o)?.[1];
  const to = (address: string): number => wd.uris.indexOf(`sip:202@${address}`);
  const offerTo = (address: string): string => wd.offers[to(address)]!;
  for (const [phone, gw] of [['10.0.1.2', '10.0.1.1'], ['10.0.2.2', '10.0.2.1'], ['10.0.1.3', '10.0.1.1']] as const) {
    assert.is(c(offerTo(phone)), gw, `the INVITE to ${phone} offers the gateway address facing it`);
    assert.match(offerTo(phone), new RegExp(`^o=\\S+ \\d+ \\d+ IN IP4 ${gw.replace(/\./g, '\\.')}`, 'm'), 'o= too');
  }
  assert.is(port(offerTo('10.0.1.2')), port(offerTo('10.0.1.3')), 'the two LAN phones share one leg');
  assert.is.not(port(offerTo('10.0.1.2')), port(offerTo('10.0.2.2')), 'the other interface has its own');
  assert.is(wd.stats.opened, 3, 'a leg for the caller and one per interface');
  const legOn = (address: string): FakeLeg => wd.stats.legs!.find((l) => l.localAddress === address)!;
  const lan = legOn('10.0.1.1');
  const other = legOn('10.0.2.1');
  assert.is(String(other.rtpPort), port(offerTo('10.0.2.2')), 'the leg on that address is the one offered');
  assert.is(String(lan.rtpPort), port(offerTo('10.0.1.2')));

  // The phone on the second subnet answers.
  await answer(wd, wd.forks[to('10.0.2.2')]!);
  assert.is(wd.call.state, 'answered');
  assert.is(wd.call.mediaLeg('b'), other as unknown, 'its leg is the callee side');
  assert.is(other.peer, legOn('10.0.0.1'), 'bridged to the caller’s leg');
  assert.ok(lan.closed, 'the LAN leg, rung but not answered, is closed');
  assert.not.ok(other.closed);
  assert.is(other.sdp && /^c=IN IP4 (\S+)/m.exec(serializeSdp(other.sdp.local))?.[1], '10.0.2.1', 'its relay config pairs its own offer with its answer');
  assert.equal(wd.forks[to('10.0.1.2')]!.calls, ['terminate']);
  assert.equal(wd.forks[to('10.0.1.3')]!.calls, ['terminate']);
  assert.match(wd.a.accepted!.body.toString(), /^c=IN IP4 10\.0\.0\.1/m, 'the caller is answered with the address facing it');

  wd.a.end({ cause: 'bye-remote' });
  await settle();
  assert.is(wd.stats.closed, wd.stats.opened, 'every media leg closed');
});

test('phones on two interfaces, the call abandoned while they ring: every leg is closed', async () => {
  const wd = await startCall([{ members: ['202'], seconds: 30 }], {
    targetsOf: (m) => [contact(m, '10.0.1.2'), contact(m, '10.0.2.2')],
    localFor: (address) => (address.startsWith('10.0.2.') ? '10.0.2.1' : '10.0.1.1'),
  });
  assert.is(wd.stats.opened, 3);
  wd.a.end({ cause: 'cancelled' });
  await settle();
  assert.is(wd.stats.closed, 3);
});

test('sequential members behind different interfaces: each step is offered its own interface’s address', async () => {
  const wd = await startCall(
    [
      { members: ['202'], seconds: 3 },
      { members: ['203'], seconds: 3 },
    ],
    {
      targetsOf: (m) => [contact(m, m === '202' ? '10.0.1.2' : '10.0.2.2')],
      localFor: (address) => (address.startsWith('10.0.2.') ? '10.0.2.1' : '10.0.1.1'),
    },
  );
  wd.clock.advance(3_000);
  await settle();
  assert.is(wd.forks.length, 2);
  assert.match(wd.offers[1]!, /^c=IN IP4 10\.0\.2\.1/m);
  await answer(wd, wd.forks[1]!);
  assert.is(wd.call.mediaLeg('b')?.localAddress, '10.0.2.1');
  assert.ok(wd.stats.legs!.find((l) => l.localAddress === '10.0.1.1')!.closed, 'the first step’s leg is closed');
});

test.run();
