/**
 * CallMedia, the offer/answer translation between a call's two legs, on a
 * fake relay: what each side is sent, and what happens to a relayed offer
 * the other side refuses (491 glare, 488).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serializeSdp, type Sdp } from '../../../firmware/src/media/sdp/index.js';
import { CallMedia } from '../../../firmware/src/pbx/call-media.js';
import { fakeRelay, phoneSdp } from './fakes.js';

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

test('forks that open the callee side at the same moment share one leg (ring-all), and nothing leaks', async () => {
  const stats = { opened: 0, closed: 0 };
  const m = new CallMedia({ relay: fakeRelay(stats), codecs: ['PCMA', 'PCMU'], label: 't' });
  await m.openLeg('a', '10.0.0.1');
  const legs = await Promise.all([m.openLeg('b', '10.0.1.1'), m.openLeg('b', '10.0.1.1'), m.openLeg('b', '10.0.1.1')]);
  assert.is(new Set(legs).size, 1, 'one leg for every fork');
  assert.is(stats.opened, 2, 'a and b, once each');
  assert.is(m.leg('b'), legs[0]);
  await m.close();
  assert.is(stats.closed, stats.opened, 'every leg opened is closed');
});

test.run();
