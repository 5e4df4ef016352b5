/**
 * B2buaCall on fake InviteSessions and a fake relay: the call logic that is
 * cheaper to pin here than with real phones. The tests play both ends: the
 * caller's UAS session (side a) and each fork's UAC session (side b).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { B2buaCall, type CallEnd } from '../../../firmware/src/pbx/b2bua-call.js';
import type { RingStep } from '../../../firmware/src/pbx/hunt-plan.js';
import type { InviteSession } from '../../../firmware/src/sip/ua/invite-session.js';
import type { SessionBody } from '../../../firmware/src/sip/ua/session-body.js';
import type { UserAgentCore } from '../../../firmware/src/sip/ua/user-agent-core.js';
import { isPgwError } from '../../../firmware/src/util/errors.js';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { fakeRelay, FakeSession, phoneSdpText, response, sdpSessionBody, type FakeRelayStats } from './fakes.js';

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));
const dirOf = (b: SessionBody | undefined): string => /a=(sendrecv|sendonly|recvonly|inactive)/.exec(b?.body.toString() ?? '')?.[1] ?? 'sendrecv';

interface World {
  call: B2buaCall;
  a: FakeSession;
  forks: FakeSession[];
  /** The SDP each fork's INVITE offered. */
  offers: string[];
  clock: FakeClock;
  ends: CallEnd[];
  stats: FakeRelayStats;
}

async function startCall(plan: RingStep[]): Promise<World> {
  const clock = new FakeClock();
  const forks: FakeSession[] = [];
  const offers: string[] = [];
  const ends: CallEnd[] = [];
  const stats = { opened: 0, closed: 0 };
  const ua = {
    invite: (opts: { mediaHandler?: FakeSession['mediaHandler']; body?: SessionBody }) => {
      offers.push(opts.body?.body.toString() ?? '');
      const s = new FakeSession({ state: 'calling', ...(opts.mediaHandler ? { mediaHandler: opts.mediaHandler } : {}) });
      forks.push(s);
      return s;
    },
  };
  const a = new FakeSession({ state: 'incoming', body: phoneSdpText({ addr: '10.0.0.2', port: 4000, version: 1 }) });
  const call = new B2buaCall(
    {
      ua: ua as unknown as UserAgentCore,
      transport: { localFor: () => ({ protocol: 'udp', address: '10.0.1.1', port: 5060 }) },
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
      targetsOf: (m) => [{ member: m, uri: `sip:${m}@10.0.1.2`, destination: { protocol: 'udp', address: '10.0.1.2', port: 5060 }, from: '<sip:201@x>', to: `<sip:${m}@x>` }],
      onEnd: (_c, e) => ends.push(e),
    },
  );
  await call.start();
  await settle();
  return { call, a, forks, offers, clock, ends, stats };
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

test.run();
