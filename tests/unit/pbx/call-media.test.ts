/**
 * CallMedia, the offer/answer translation between a call's two legs, on a
 * fake relay: what each side is sent, and what happens to a relayed offer
 * the other side refuses (491 glare, 488).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serializeSdp, type Sdp } from '../../../firmware/src/media/sdp/index.js';
import { CallMedia } from '../../../firmware/src/pbx/call-media.js';
import { fakeRelay, phoneSdp, type FakeLeg, type FakeRelayStats } from './fakes.js';

const dir = (s: Sdp | null): string => /a=(sendrecv|sendonly|recvonly|inactive)/.exec(s ? serializeSdp(s) : '')?.[1] ?? 'sendrecv';

async function answeredCall(): Promise<CallMedia> {
  const m = new CallMedia({ relay: fakeRelay(), codecs: ['PCMA', 'PCMU'], label: 't' });
  await m.openLeg('a', '10.0.0.1');
  await m.openLeg('b', '10.0.1.1');
  m.relayOffer('a', phoneSdp({ addr: '10.0.0.2', port: 4000, version: 1 }));
  m.relayAnswer(phoneSdp({ addr: '10.0.1.2', port: 5000, version: 1, pts: '8' }));
  return m;
}

test('a call set up through the relay: each side is sent the gateway address, one codec end to end', async () => {
  const m = await answeredCall();
  const toB = m.lastSentTo('b')!;
  const toA = m.lastSentTo('a')!;
  assert.match(serializeSdp(toB), /c=IN IP4 10\.0\.1\.1/);
  assert.match(serializeSdp(toA), /c=IN IP4 10\.0\.0\.1/);
  assert.match(serializeSdp(toA), /m=audio \d+ RTP\/AVP 8\b/);
  assert.is(m.leg('a')!.peer, m.leg('b'));
});

test('a relayed offer the other side refuses leaves what that side was last sent as it was', async () => {
  const m = await answeredCall();
  const before = serializeSdp(m.lastSentTo('b')!);
  const hold = m.relayOffer('a', phoneSdp({ addr: '10.0.0.2', port: 4000, version: 2, dir: 'sendonly' }));
  assert.is(dir(hold), 'sendonly');
  m.abandonOffer(); // b answered 491 (or 488)
  const after = m.lastSentTo('b')!;
  assert.is(dir(after), 'sendrecv', 'a refresh toward b must not repeat the refused hold');
  assert.is(serializeSdp(after).replace(/^o=.*$/m, ''), before.replace(/^o=.*$/m, ''), 'same session description as before the refused offer');
  const version = (s: string) => BigInt(/^o=\S+ \S+ (\d+)/m.exec(s)![1]!);
  assert.ok(version(serializeSdp(after)) > version(serializeSdp(hold)), 'its o= version moves on past the refused offer (RFC 3264 §8)');

  // The caller's unchanged repeat still gets its old answer, and a retry relays normally.
  assert.ok(m.unchangedAnswer('a', phoneSdp({ addr: '10.0.0.2', port: 4000, version: 1 })));
  const retry = m.relayOffer('a', phoneSdp({ addr: '10.0.0.2', port: 4000, version: 3, dir: 'sendonly' }));
  assert.is(dir(retry), 'sendonly');
  const answer = m.relayAnswer(phoneSdp({ addr: '10.0.1.2', port: 5000, version: 2, pts: '8', dir: 'recvonly' }));
  assert.is(answer.kind, 'answer');
  assert.is(dir(answer.sdp), 'recvonly');
  assert.is(dir(m.lastSentTo('b')), 'sendonly');
});

test('forks that open the callee side at the same moment share one leg per gateway address, and nothing leaks', async () => {
  const stats: FakeRelayStats = { opened: 0, closed: 0, legs: [] };
  const m = new CallMedia({ relay: fakeRelay(stats), codecs: ['PCMA', 'PCMU'], label: 't' });
  await m.openLeg('a', '10.0.0.1');
  const legs = await Promise.all([m.openBranch('10.0.1.1'), m.openBranch('10.0.2.1'), m.openBranch('10.0.1.1'), m.openBranch('10.0.1.1')]);
  assert.is(legs[0], legs[2], 'one leg for every fork through one address');
  assert.is(legs[0], legs[3]);
  assert.is.not(legs[0], legs[1], 'another address has its own');
  assert.equal(
    legs.map((l) => l.localAddress),
    ['10.0.1.1', '10.0.2.1', '10.0.1.1', '10.0.1.1'],
  );
  assert.is(stats.opened, 3, 'a, and one per address');
  assert.is(m.leg('b'), null, 'no callee side until a fork answers');
  await m.close();
  assert.is(stats.closed, stats.opened, 'every leg opened is closed, chosen or not');
});

test('each branch is offered its own address and port; the chosen one is bridged with its own offer, the others closed', async () => {
  const stats: FakeRelayStats = { opened: 0, closed: 0, legs: [] };
  const m = new CallMedia({ relay: fakeRelay(stats), codecs: ['PCMA', 'PCMU'], label: 't' });
  const a = await m.openLeg('a', '10.0.0.1');
  const lan = await m.openBranch('10.0.1.1');
  const other = await m.openBranch('10.0.2.1');
  const callerOffer = phoneSdp({ addr: '10.0.0.2', port: 4000, version: 1 });
  const toLan = serializeSdp(m.offerToBranch('10.0.1.1', callerOffer));
  const toOther = serializeSdp(m.offerToBranch('10.0.2.1', callerOffer));
  assert.match(toLan, new RegExp(`c=IN IP4 10\\.0\\.1\\.1[\\s\\S]*m=audio ${lan.rtpPort} `));
  assert.match(toOther, new RegExp(`c=IN IP4 10\\.0\\.2\\.1[\\s\\S]*m=audio ${other.rtpPort} `));
  assert.is(serializeSdp(m.offerToBranch('10.0.1.1', callerOffer)), toLan, 'a second fork through one address gets the same offer, o= version and all');

  await m.chooseBranch('10.0.2.1');
  assert.is(m.leg('b'), other);
  assert.ok((lan as unknown as FakeLeg).closed, 'the branch not chosen is closed');
  const answer = m.relayAnswer(phoneSdp({ addr: '10.0.2.2', port: 5000, version: 1, pts: '8' }));
  assert.is(answer.kind, 'answer');
  assert.match(serializeSdp(answer.sdp), /c=IN IP4 10\.0\.0\.1/);
  const b = other as unknown as FakeLeg;
  assert.is(serializeSdp(b.sdp!.local), toOther, 'the chosen leg pairs the offer its phone was sent with its answer');
  assert.is(b.peer, a as unknown as FakeLeg);
  assert.throws(() => m.chooseBranch('10.0.1.1'), /no callee branch/, 'one choice per call');
  await m.openBranch('10.0.3.1').then(
    () => assert.unreachable('no new branch once one is chosen'),
    (e: unknown) => assert.match(String(e), /no longer ringing/),
  );
});

test('an offer relayed in a 2xx whose answer never comes: the offerer is answered from the session the other side had', async () => {
  const m = await answeredCall();
  // The caller held earlier (sendonly, the callee answered recvonly).
  m.relayOffer('a', phoneSdp({ addr: '10.0.0.2', port: 4000, version: 2, dir: 'sendonly' }));
  m.relayAnswer(phoneSdp({ addr: '10.0.1.2', port: 5000, version: 2, pts: '8', dir: 'recvonly' }));
  const toA = serializeSdp(m.lastSentTo('a')!);
  // The callee's 2xx to an offerless re-INVITE offers; the caller never answers.
  m.relayOffer('b', phoneSdp({ addr: '10.0.1.2', port: 5008, version: 3 }));
  const kept = m.answerKeepingPrevious();
  assert.is(dir(kept), 'sendonly', 'the caller still holds: the gateway only sends to the callee');
  assert.match(serializeSdp(kept), /c=IN IP4 10\.0\.1\.1/);
  assert.match(serializeSdp(kept), /m=audio \d+ RTP\/AVP 8\b/, 'the codec in use first');
  const legB = m.leg('b') as unknown as FakeLeg;
  assert.match(serializeSdp(legB.sdp!.remote), /m=audio 5008 /, 'the callee leg takes the callee’s new offer');
  assert.is(serializeSdp(m.lastSentTo('a')!).replace(/^o=.*$/m, ''), toA.replace(/^o=.*$/m, ''), 'the caller is sent what it had, for a refresh');
  assert.throws(() => m.answerKeepingPrevious(), /no relayed offer/, 'nothing outstanding any more');
});

test.run();
