/**
 * Two UA cores on the real transaction layer, over an in-memory network, on a
 * FakeClock: the flows of the unit tests again, end to end through the wire
 * format and the RFC 3261/6026 transactions.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTransactionLayer } from '../../../../firmware/src/sip/transaction/transaction-layer.js';
import type { InviteSession } from '../../../../firmware/src/sip/ua/invite-session.js';
import type { SessionMediaHandler } from '../../../../firmware/src/sip/ua/session-types.js';
import type { UaConfig } from '../../../../firmware/src/sip/ua/ua-config.js';
import { UserAgentCore } from '../../../../firmware/src/sip/ua/user-agent-core.js';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import { sdp } from './fake-transactions.js';
import { LoopbackNetwork, settle } from './loopback.js';

interface World {
  clock: FakeClock;
  net: LoopbackNetwork;
  alice: UserAgentCore;
  bob: UserAgentCore;
  incoming: InviteSession[];
}

function world(config: { alice?: Partial<UaConfig>; bob?: Partial<UaConfig> } = {}): World {
  const clock = new FakeClock();
  const net = new LoopbackNetwork();
  const incoming: InviteSession[] = [];
  const mk = (address: string, cfg: Partial<UaConfig> | undefined, random: () => number): UserAgentCore => {
    const transport = net.transport(address);
    const transactions = createTransactionLayer({ transport, clock, logger: silentLogger() });
    return new UserAgentCore({ transactions, transport, clock, config: cfg ?? {}, random });
  };
  const alice = mk('10.0.0.1', config.alice, () => 0.5);
  const bob = mk('10.0.0.2', config.bob, () => 0.5);
  bob.delegate = { onInvite: (s) => incoming.push(s) };
  return { clock, net, alice, bob, incoming };
}

const media = (name: string): SessionMediaHandler => ({
  createOffer: () => Promise.resolve(sdp(`${name}-offer`)),
  answerOffer: () => Promise.resolve(sdp(`${name}-answer`)),
});

function dial(w: World, extra: Partial<Parameters<UserAgentCore['invite']>[0]> = {}): InviteSession {
  return w.alice.invite({
    target: 'sip:bob@10.0.0.2',
    destination: { protocol: 'udp', address: '10.0.0.2', port: 5060 },
    from: '<sip:alice@10.0.0.1>',
    to: '<sip:bob@10.0.0.2>',
    body: sdp('alice-1'),
    mediaHandler: media('alice'),
    ...extra,
  });
}

test('call, ring, answer, ACK, hang up', async () => {
  const w = world();
  const a = dial(w);
  await settle();
  const b = w.incoming[0]!;
  assert.ok(b, 'bob got the call');
  assert.is(b.state, 'incoming');
  b.progress();
  await settle();
  assert.is(a.state, 'early');
  await b.accept({ body: sdp('bob-1') });
  await settle();
  assert.is(a.state, 'confirmed');
  assert.is(b.state, 'confirmed');
  assert.is(a.remoteBody!.body.toString(), sdp('bob-1').body.toString());
  assert.is(b.remoteBody!.body.toString(), sdp('alice-1').body.toString());
  // No 2xx retransmissions once the ACK arrived.
  const wireBefore = w.net.wire.length;
  w.clock.advance(40_000);
  await settle();
  assert.is(w.net.wire.slice(wireBefore).filter((l) => l.endsWith(' 200')).length, 0);
  a.bye();
  await settle();
  assert.is(a.endInfo!.cause, 'bye-local');
  assert.is(b.endInfo!.cause, 'bye-remote');
  assert.equal(w.alice.counts(), { sessions: 0, dialogs: 0, serverInvites: 0 });
  assert.equal(w.bob.counts(), { sessions: 0, dialogs: 0, serverInvites: 0 });
  assert.equal(
    w.net.wire.filter((l) => !l.endsWith(' 100')),
    ['10.0.0.1->10.0.0.2 INVITE', '10.0.0.2->10.0.0.1 180', '10.0.0.2->10.0.0.1 200', '10.0.0.1->10.0.0.2 ACK', '10.0.0.1->10.0.0.2 BYE', '10.0.0.2->10.0.0.1 200'],
  );
});

test('CANCEL while ringing: 487 both sides see cancelled', async () => {
  const w = world();
  const a = dial(w);
  await settle();
  const b = w.incoming[0]!;
  b.progress();
  await settle();
  a.cancel();
  await settle();
  assert.is(b.endInfo!.cause, 'cancelled');
  assert.is(a.endInfo!.cause, 'cancelled');
  assert.is(a.endInfo!.status, 487);
  assert.ok(w.net.wire.includes('10.0.0.1->10.0.0.2 CANCEL'));
});

test('PRACK end to end: reliable 183 with the answer, PRACK, then 200', async () => {
  const w = world({ bob: { uasPrack: 'supported' } });
  const a = dial(w);
  await settle();
  const b = w.incoming[0]!;
  b.progress({ status: 183, body: sdp('bob-early') });
  await settle();
  assert.is(a.offerAnswerState, 'stable');
  assert.ok(w.net.wire.includes('10.0.0.1->10.0.0.2 PRACK'));
  await b.accept();
  await settle();
  assert.is(a.state, 'confirmed');
  assert.is(b.state, 'confirmed');
  // The 183 was not retransmitted after its PRACK.
  w.clock.advance(10_000);
  await settle();
  assert.is(w.net.wire.filter((l) => l.endsWith(' 183')).length, 1);
});

test('re-INVITE glare: both get 491, the retries are spaced by role, one wins, both end stable', async () => {
  const w = world();
  const a = dial(w);
  await settle();
  const b = w.incoming[0]!;
  b.mediaHandler = media('bob');
  await b.accept({ body: sdp('bob-1') });
  await settle();
  const pa = a.reinvite({ body: sdp('alice-hold') });
  const pb = b.reinvite({ body: sdp('bob-hold') });
  await settle();
  assert.is(w.net.wire.filter((l) => l.endsWith(' 491')).length, 2);
  // Bob (not the Call-ID owner) retries at 0–2 s; Alice at 2.1–4 s: Bob's goes first.
  w.clock.advance(1000);
  await settle();
  assert.is((await pb).status, 200);
  w.clock.advance(3000);
  await settle();
  assert.is((await pa).status, 200);
  assert.is(a.offerAnswerState, 'stable');
  assert.is(b.offerAnswerState, 'stable');
  assert.is(a.state, 'confirmed');
  assert.is(b.state, 'confirmed');
});

test('session timer: refreshes keep the call up; a dead peer is hung up on', async () => {
  const timers = { sessionTimer: { enabled: true, interval: 90, minSE: 90 } };
  const w = world({ alice: timers, bob: timers });
  const a = dial(w);
  await settle();
  const b = w.incoming[0]!;
  await b.accept({ body: sdp('bob-1') });
  await settle();
  // Alice said Supported: timer, so Bob made her the refresher.
  assert.equal(a.sessionTimer, { interval: 90, localRefresher: true });
  assert.equal(b.sessionTimer, { interval: 90, localRefresher: false });
  for (let i = 0; i < 10; i++) {
    w.clock.advance(15_000);
    await settle();
  }
  assert.is(a.state, 'confirmed');
  assert.is(b.state, 'confirmed');
  assert.ok(w.net.wire.filter((l) => l === '10.0.0.1->10.0.0.2 UPDATE').length >= 3);
  // Bob vanishes: Alice's refreshes time out and the call ends.
  w.net.cut.add('10.0.0.2');
  for (let i = 0; i < 20; i++) {
    w.clock.advance(10_000);
    await settle();
  }
  assert.is(a.state, 'terminated');
  assert.ok(['timeout', 'session-expired'].includes(a.endInfo!.cause), a.endInfo!.cause);
  assert.is(b.state, 'terminated');
  assert.is(b.endInfo!.cause, 'session-expired');
});

test.run();
