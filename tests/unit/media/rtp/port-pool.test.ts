import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { RtpPortPool } from '../../../../firmware/src/media/rtp/port-pool.js';
import type { RtpPortPair } from '../../../../firmware/src/media/rtp/port-pool.js';
import { isPgwError } from '../../../../firmware/src/util/errors.js';

// A range unlikely to collide with the other test files that run beside this one.
const BASE = 41000 + (process.pid % 400) * 20;

function bindOther(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => resolve(s));
  });
}

test('allocates even/odd pairs bound on the address, reuses released ones last', async () => {
  const pool = new RtpPortPool({ min: BASE + 1, max: BASE + 8 });
  assert.is(pool.min, BASE + 2);
  assert.is(pool.capacity, 3);
  const a = await pool.allocate({ address: '127.0.0.1' });
  assert.is(a.rtpPort % 2, 0);
  assert.is(a.rtcpPort, a.rtpPort + 1);
  assert.equal(a.rtp.address(), { address: '127.0.0.1', family: 'IPv4', port: a.rtpPort });
  assert.is(a.rtcp.address().port, a.rtcpPort);
  const b = await pool.allocate({ address: '127.0.0.1' });
  assert.is.not(a.rtpPort, b.rtpPort);
  assert.is(pool.inUse, 2);
  await a.close();
  await a.close(); // idempotent
  assert.is(pool.inUse, 1);
  const c = await pool.allocate({ address: '127.0.0.1' });
  assert.is.not(c.rtpPort, a.rtpPort, 'the just-released pair goes to the back');
  const d = await pool.allocate({ address: '127.0.0.1' });
  assert.is(d.rtpPort, a.rtpPort);
  await Promise.all([b.close(), c.close(), d.close()]);
  assert.is(pool.inUse, 0);
  assert.is(pool.available, 3);
});

test('skips ports held by someone else, then reports exhaustion', async () => {
  const pool = new RtpPortPool({ min: BASE + 10, max: BASE + 13 });
  const squatter = await bindOther(BASE + 11); // the RTCP port of the first pair
  const got: RtpPortPair[] = [];
  try {
    const p = await pool.allocate({ address: '127.0.0.1' });
    got.push(p);
    assert.is(p.rtpPort, BASE + 12);
    try {
      got.push(await pool.allocate({ address: '127.0.0.1' }));
      assert.unreachable('should be exhausted');
    } catch (e) {
      assert.ok(isPgwError(e, 'PGW_E_MEDIA_PORTS'), String(e));
    }
    // The first pair was not leaked: once the squatter leaves it can be allocated.
    squatter.close();
    const q = await pool.allocate({ address: '127.0.0.1' });
    got.push(q);
    assert.is(q.rtpPort, BASE + 10);
  } finally {
    await Promise.all(got.map((p) => p.close()));
  }
});

test('an address that is not ours is an error, not a retry loop', async () => {
  const pool = new RtpPortPool({ min: BASE + 14, max: BASE + 19 });
  for (const address of ['not-an-ip', '192.0.2.77']) {
    try {
      await pool.allocate({ address });
      assert.unreachable(address);
    } catch (e) {
      assert.ok(isPgwError(e, 'PGW_E_MEDIA_PORTS'), String(e));
    }
  }
  assert.is(pool.available, 3);
  assert.throws(() => new RtpPortPool({ min: 5000, max: 5000 }));
  assert.throws(() => new RtpPortPool({ min: 80, max: 200 }));
});

test.run();
