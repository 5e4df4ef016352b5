import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SdpOriginator } from '../../../../firmware/src/media/sdp/sdp-origin.js';
import { buildOffer } from '../../../../firmware/src/media/sdp/sdp-negotiate.js';
import { setDirection } from '../../../../firmware/src/media/sdp/sdp-direction.js';

test('o= stays identical but for the version, which goes up only when the SDP changes (RFC 3264 §8)', () => {
  const o = new SdpOriginator({ address: '192.168.1.1', sessionId: '777', username: 'gw' });
  const first = buildOffer({ localAddress: '192.168.1.1', localPort: 20000, codecs: ['PCMA'], originator: o });
  assert.equal(first.origin, { username: 'gw', sessionId: '777', sessionVersion: '1', netType: 'IN', addrType: 'IP4', address: '192.168.1.1' });
  const same = buildOffer({ localAddress: '192.168.1.1', localPort: 20000, codecs: ['PCMA'], originator: o });
  assert.is(same.origin.sessionVersion, '1');
  const hold = buildOffer({ localAddress: '192.168.1.1', localPort: 20000, codecs: ['PCMA'], direction: 'sendonly', originator: o });
  assert.is(hold.origin.sessionVersion, '2');
  setDirection(hold, 'sendrecv');
  o.stamp(hold);
  assert.is(hold.origin.sessionVersion, '3');
  o.stamp(hold, { forceNewVersion: true });
  assert.is(hold.origin.sessionVersion, '4');
  assert.is(o.currentVersion, 4n);
});

test('fresh originators pick different session ids', () => {
  const ids = new Set(Array.from({ length: 20 }, () => new SdpOriginator({ address: '10.0.0.1' }).sessionId));
  assert.ok(ids.size > 15);
  assert.ok([...ids].every((id) => /^\d+$/.test(id)));
});

test.run();
