/**
 * TLS uplinks (issue 6) on the fake clock: the server name each request
 * carries (the URI host, RFC 5922, or tls.serverName), sip: vs sips: URIs,
 * the uplink's CA and client certificate handed to the transport for the
 * peer's address, and an uplink whose files cannot be read kept down.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Practice } from '../../../firmware/src/config/practice-schema.js';
import type { ClientTlsSettings } from '../../../firmware/src/sip/transport/api.js';
import { UplinkManager } from '../../../firmware/src/uplinks/uplink-manager.js';
import { UplinkTls } from '../../../firmware/src/uplinks/uplink-tls.js';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { FakeLink, FakeUa, fakeDns, flush, practice } from './fakes.js';

const SBC = '192.0.2.10';
const CARRIER = '192.0.2.20';
const CARRIER_PROXY = '192.0.2.30';

function tlsPractice(extra: Record<string, unknown> = {}): Practice {
  return practice({
    uplinks: {
      cloud: { proxy: 'sips:sbc.example' },
      trunks: [
        {
          name: 'backup',
          registrar: 'sip:carrier.example:5061;transport=tls',
          username: 'riverside',
          password: 'trunk-secret',
          tls: { ca: '/etc/pgw/carrier-ca.pem', cert: '/etc/pgw/trunk.pem', key: '/etc/pgw/trunk.key' },
        },
        {
          name: 'spare',
          registrar: 'sip:carrier.example:5061;transport=tls',
          proxy: `sip:${CARRIER_PROXY}:5061;transport=tls`,
          username: 'rs2',
          password: 'trunk2-secret',
          tls: { serverName: 'edge.carrier.example' },
        },
      ],
    },
    ...extra,
  });
}

async function world(p: Practice, files: Map<string, string>) {
  const clock = new FakeClock();
  const ua = new FakeUa();
  const calls: Array<{ peer: string; settings: ClientTlsSettings | undefined }> = [];
  const transport = {
    setClientTls: (peer: { address: string; port: number }, settings: ClientTlsSettings | undefined) =>
      calls.push({ peer: `${peer.address}:${peer.port}`, settings }),
  };
  const reads: string[] = [];
  const readFile = (path: string): Promise<Buffer> => {
    reads.push(path);
    const text = files.get(path);
    return text === undefined ? Promise.reject(new Error(`ENOENT: ${path}`)) : Promise.resolve(Buffer.from(text));
  };
  const m = new UplinkManager({
    practice: p,
    ua,
    clock,
    logger: silentLogger(),
    dns: fakeDns({ 'carrier.example': [CARRIER], 'sbc1.example': [SBC] }, { '_sips._tcp.sbc.example': [{ name: 'sbc1.example', port: 5061, priority: 1, weight: 1 }] }),
    linkFor: () => new FakeLink('if0'),
    transport,
    readFile,
  });
  await m.start();
  await flush();
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      await flush();
      clock.advance(100);
      await flush();
    }
  };
  const stop = async () => {
    const done = m.stop(2_000);
    await flush();
    clock.advance(2_000);
    await done;
  };
  const sent = (method: string, address: string) => ua.sent.filter((o) => o.method === method && o.destination.address === address);
  return { clock, ua, m, calls, reads, run, stop, sent, stateOf: (n: string) => m.status().uplinks.find((u) => u.name === n)?.state };
}

const FILES = new Map([
  ['/etc/pgw/carrier-ca.pem', 'CARRIER CA'],
  ['/etc/pgw/trunk.pem', 'TRUNK CERT'],
  ['/etc/pgw/trunk.key', 'TRUNK KEY'],
]);

test('the server name: the URI host by default, tls.serverName when given, nothing off TLS or for a bare address', () => {
  const tls = new UplinkTls({ name: 't', config: undefined, transport: undefined });
  assert.is(tls.serverNameFor({ endpoint: { protocol: 'tls', address: '192.0.2.1', port: 5061 }, tlsServerName: 'carrier.example' }), 'carrier.example');
  assert.is(tls.serverNameFor({ endpoint: { protocol: 'tls', address: '192.0.2.1', port: 5061 } }), undefined);
  assert.is(tls.serverNameFor({ endpoint: { protocol: 'tcp', address: '192.0.2.1', port: 5060 }, tlsServerName: 'x.example' }), undefined);
  const named = new UplinkTls({ name: 't', config: { serverName: 'edge.example' }, transport: undefined });
  assert.is(named.serverNameFor({ endpoint: { protocol: 'tls', address: '192.0.2.1', port: 5061 } }), 'edge.example');
});

test('probes, registrations and calls carry the server name; sips: only toward a sips: URI', async () => {
  const w = await world(tlsPractice(), FILES);
  const cloudProbe = w.sent('OPTIONS', SBC)[0];
  assert.equal(cloudProbe?.destination, { protocol: 'tls', address: SBC, port: 5061 });
  assert.is(cloudProbe?.tlsServerName, 'sbc.example', 'the URI host, not the SRV target');
  assert.is(cloudProbe?.uri, 'sips:sbc.example');
  const trunkProbe = w.sent('OPTIONS', CARRIER)[0];
  assert.is(trunkProbe?.tlsServerName, 'carrier.example');
  assert.is(trunkProbe?.uri, 'sip:carrier.example:5061', 'transport=tls keeps the sip: scheme');
  const spareProbe = w.sent('OPTIONS', CARRIER_PROXY)[0];
  assert.is(spareProbe?.tlsServerName, 'edge.carrier.example', 'serverName for an address-literal proxy');

  const regs = w.sent('REGISTER', CARRIER);
  assert.is(regs.length, 2, 'both trunks register at the carrier');
  for (const r of regs) {
    assert.is(r.tlsServerName, r.to.includes('rs2') ? 'edge.carrier.example' : 'carrier.example');
    assert.is(r.uri, 'sip:carrier.example:5061');
  }

  const call = { kind: 'external' as const, dialled: '01632960123', caller: { number: '201', name: 'Reception 1' } };
  const [c] = w.m.outbound(call);
  assert.is(c?.uplink, 'cloud');
  assert.is(c?.tlsServerName, 'sbc.example');
  assert.is(c?.uri, 'sips:+441632960123@sbc.example');
  const emergency = w.m.outbound({ ...call, kind: 'emergency', dialled: '999' });
  assert.equal(
    emergency.map((t) => [t.uplink, t.tlsServerName, t.uri]),
    [
      ['cloud', 'sbc.example', 'sips:999@sbc.example'],
      ['backup', 'carrier.example', 'sip:999@carrier.example:5061'],
      ['spare', 'edge.carrier.example', 'sip:999@carrier.example:5061'],
    ],
  );
  await w.stop();
});

test("the trunk's CA and client certificate go to the transport for its address, and are taken back at stop", async () => {
  const w = await world(tlsPractice(), FILES);
  // The probes' peer and the registrar are one here: the same settings, given (idempotently) before each may connect.
  assert.ok(w.calls.length >= 1);
  for (const c of w.calls) {
    assert.is(c.peer, `${CARRIER}:5061`);
    assert.equal(c.settings, { ca: Buffer.from('CARRIER CA'), cert: Buffer.from('TRUNK CERT'), key: Buffer.from('TRUNK KEY') });
  }
  assert.equal(w.reads.sort(), ['/etc/pgw/carrier-ca.pem', '/etc/pgw/trunk.key', '/etc/pgw/trunk.pem'], 'each file read once');
  assert.is(w.stateOf('backup'), 'standby');
  await w.stop();
  assert.equal(w.calls.at(-1), { peer: `${CARRIER}:5061`, settings: undefined });
});

test('a CA file that cannot be read: that uplink is not contacted and is down; once the file is there it comes up', async () => {
  const files = new Map(FILES);
  files.delete('/etc/pgw/carrier-ca.pem');
  const p = tlsPractice({
    uplinks: {
      trunks: [
        {
          name: 'backup',
          registrar: 'sip:carrier.example:5061;transport=tls',
          username: 'riverside',
          password: 'trunk-secret',
          tls: { ca: '/etc/pgw/carrier-ca.pem', cert: '/etc/pgw/trunk.pem', key: '/etc/pgw/trunk.key' },
        },
      ],
    },
  });
  const w = await world(p, files);
  await w.run(3000);
  assert.is(w.sent('OPTIONS', CARRIER).length, 0, 'no probe goes out with a trust it was not configured with');
  assert.is(w.sent('REGISTER', CARRIER).length, 0, 'nor a registration');
  assert.is(w.stateOf('backup'), 'down');
  assert.equal(w.calls, []);
  assert.equal(w.m.outbound({ kind: 'external', dialled: '01632960123', caller: { number: '201', name: 'Reception 1' } }), []);
  files.set('/etc/pgw/carrier-ca.pem', 'CARRIER CA');
  await w.run(11_000);
  assert.ok(w.sent('OPTIONS', CARRIER).length > 0);
  assert.ok(w.sent('REGISTER', CARRIER).length > 0);
  assert.is(w.calls[0]?.peer, `${CARRIER}:5061`);
  assert.is(w.stateOf('backup'), 'standby', 'answering, serving its recovery time');
  await w.run(30_000);
  assert.is(w.stateOf('backup'), 'up');
  await w.stop();
});

test('register mode over TLS: the upstream registrations carry the SBC name', async () => {
  const p = tlsPractice({
    extensions: [{ number: '201', name: 'Reception 1', password: 'pw-201-secret', cloudAccount: { username: 'rs-201', password: 'cloud-201-pw' } }],
    huntGroups: [],
    inbound: [],
  });
  const q = { ...p, uplinks: { ...p.uplinks!, cloud: { ...p.uplinks!.cloud!, mode: 'register' as const } } };
  const w = await world(q, FILES);
  const [r] = w.sent('REGISTER', SBC);
  assert.is(r?.tlsServerName, 'sbc.example');
  assert.is(r?.uri, 'sips:sbc.example');
  assert.is(r?.to, '<sips:rs-201@sbc.example>');
  await w.stop();
});

test.run();
