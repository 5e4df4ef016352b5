/**
 * The TLS client side toward one peer (issue 6, TLS uplinks): per-peer
 * client settings (setClientTls: the peer's CA, our client certificate for
 * it), the server name checked (RFC 5922: SIP URI or DNS SANs), over real
 * sockets on 127.0.0.1 against a Node TLS server that demands a client
 * certificate from its own CA, with certificates made for the test.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type PeerCertificate, type Server, type TLSSocket } from 'node:tls';
import { parseMessage } from '../../../../firmware/src/sip/message/index.js';
import type { SipRequest } from '../../../../firmware/src/sip/message/types.js';
import { readListenerTls } from '../../../../firmware/src/sip/transport/listener-tls.js';
import { checkSipServerIdentity, sipUriDomains } from '../../../../firmware/src/sip/transport/sip-server-identity.js';
import { createTransportLayer, type SipTransportLayer } from '../../../../firmware/src/sip/transport/transport-layer.js';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { isPgwError } from '../../../../firmware/src/util/errors.js';
import { captureLogger } from './capture-logger.js';
import { rawRequest } from './socket-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pgw-client-tls-'));
function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
function ca(name: string): void {
  openssl('req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`);
}
function leaf(name: string, signer: string, ext: string): { cert: Buffer; key: Buffer } {
  openssl('req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.pem`, '-CAkey', `${signer}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  return { cert: readFileSync(join(dir, `${name}.pem`)), key: readFileSync(join(dir, `${name}.key`)) };
}
ca('carrier-ca');
ca('box-ca');
const carrierCa = readFileSync(join(dir, 'carrier-ca.pem'));
const carrierServer = leaf('carrier-server', 'carrier-ca', 'subjectAltName=DNS:carrier.test');
const sbcServer = leaf('sbc-server', 'carrier-ca', 'subjectAltName=URI:sip:sbc.test');
/** The certificate the carrier issued the practice for its trunk. */
const trunkClient = leaf('riverside-trunk', 'carrier-ca', 'extendedKeyUsage=clientAuth');
/** The box's own listener certificate, from a CA the carrier does not know. */
const boxListener = leaf('box-listener', 'box-ca', 'subjectAltName=DNS:gw.practice.test');
const listenerCertPath = join(dir, 'box-listener.pem');
const listenerKeyPath = join(dir, 'box-listener.key');
const listenerFromFiles = await readListenerTls([
  { transport: 'udp' },
  { transport: 'tls', tls: { cert: listenerCertPath, key: listenerKeyPath } },
]);
rmSync(dir, { recursive: true, force: true });

interface Peer {
  server: Server;
  port: number;
  /** Client certificate CN of each connection the peer accepted. */
  clients: string[];
  /** SIP text received. */
  received: string[];
  /** Handshakes the peer refused. */
  refused: string[];
}

/** A carrier's TLS edge: its own certificate, and only clients with a certificate from its CA. */
async function peer(identity: { cert: Buffer; key: Buffer }): Promise<Peer> {
  const p: Omit<Peer, 'port'> & { port: number } = { server: undefined as unknown as Server, port: 0, clients: [], received: [], refused: [] };
  const server = createServer({ ...identity, ca: carrierCa, requestCert: true, rejectUnauthorized: true }, (socket: TLSSocket) => {
    const c = socket.getPeerCertificate() as PeerCertificate;
    p.clients.push(String(c.subject?.CN ?? ''));
    socket.on('data', (d: Buffer) => p.received.push(d.toString()));
    socket.on('error', () => undefined);
  });
  server.on('tlsClientError', (err) => p.refused.push(err.message));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  p.server = server;
  p.port = (server.address() as { port: number }).port;
  return p;
}

async function box(): Promise<SipTransportLayer> {
  return createTransportLayer({
    listen: [{ protocol: 'tls', host: '127.0.0.1', port: 0 }],
    tls: listenerFromFiles!,
    logger: captureLogger('info'),
    clock: new FakeClock(),
  });
}

const OPTIONS = (parseMessage(Buffer.from(rawRequest({ via: 'SIP/2.0/TLS 127.0.0.1;branch=z9hG4bKct' }))) as { message: SipRequest }).message;

async function settle(ms = 150): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

async function sendFails(layer: SipTransportLayer, port: number, name: string): Promise<string> {
  try {
    await layer.send(OPTIONS, { protocol: 'tls', address: '127.0.0.1', port }, { tlsServerName: name });
  } catch (e) {
    assert.ok(isPgwError(e, 'PGW_E_SIP_TRANSPORT'), String(e));
    return (e as Error).message;
  }
  assert.unreachable(`a connection to ${name} was accepted`);
  return '';
}

test('the listener files are read for the transport; none without a TLS listening point; an unreadable file is PGW_E_CONFIG_READ', async () => {
  assert.ok(listenerFromFiles);
  assert.equal(listenerFromFiles!.cert, boxListener.cert);
  assert.is(await readListenerTls([{ transport: 'udp' }, { transport: 'tcp' }]), undefined);
  try {
    await readListenerTls([{ transport: 'tls', tls: { cert: '/nonexistent/pgw.pem', key: '/nonexistent/pgw.key' } }]);
    assert.unreachable();
  } catch (e) {
    assert.ok(isPgwError(e, 'PGW_E_CONFIG_READ'));
    assert.match((e as Error).message, /\/nonexistent\/pgw\.pem/);
  }
});

test('without settings for the peer: its certificate is not trusted (the CA is not the system store\'s)', async () => {
  const carrier = await peer(carrierServer);
  const layer = await box();
  try {
    assert.match(await sendFails(layer, carrier.port, 'carrier.test'), /certificate/i);
    assert.equal(carrier.received, []);
  } finally {
    await layer.close();
    carrier.server.close();
  }
});

test("the peer's CA alone: we trust it, but it refuses the box's own certificate; with the peer's client certificate it takes our SIP", async () => {
  const carrier = await peer(carrierServer);
  const layer = await box();
  const dest = { address: '127.0.0.1', port: carrier.port };
  try {
    layer.setClientTls(dest, { ca: carrierCa });
    await layer.send(OPTIONS, { protocol: 'tls', ...dest }, { tlsServerName: 'carrier.test' }).catch(() => undefined);
    await settle();
    assert.equal(carrier.received, [], 'nothing got through');
    assert.ok(carrier.refused.length >= 1, 'the carrier refused the handshake');
    assert.equal(carrier.clients, []);
    await settle();

    // A fresh box (no connection to reuse) with the carrier's client certificate for this peer.
    const withCert = await box();
    try {
      withCert.setClientTls(dest, { ca: carrierCa, cert: trunkClient.cert, key: trunkClient.key });
      await withCert.send(OPTIONS, { protocol: 'tls', ...dest }, { tlsServerName: 'carrier.test' });
      await settle();
      assert.equal(carrier.clients, ['riverside-trunk'], 'the client certificate presented is the trunk\'s');
      assert.ok(carrier.received.join('').startsWith('OPTIONS '), 'the SIP request arrived');
    } finally {
      await withCert.close();
    }
  } finally {
    await layer.close();
    carrier.server.close();
  }
});

test('the settings are per peer: another port gets the defaults; undefined removes them', async () => {
  const carrier = await peer(carrierServer);
  const other = await peer(carrierServer);
  const layer = await box();
  try {
    layer.setClientTls({ address: '127.0.0.1', port: other.port }, { ca: carrierCa, cert: trunkClient.cert, key: trunkClient.key });
    assert.match(await sendFails(layer, carrier.port, 'carrier.test'), /certificate/i);
    layer.setClientTls({ address: '127.0.0.1', port: other.port }, undefined);
    assert.match(await sendFails(layer, other.port, 'carrier.test'), /certificate/i);
    assert.equal(other.received, []);
  } finally {
    await layer.close();
    carrier.server.close();
    other.server.close();
  }
});

test('the server name: a certificate for another name is refused; a sip: URI SAN names a SIP domain (RFC 5922)', async () => {
  const carrier = await peer(carrierServer);
  const sbc = await peer(sbcServer);
  const settings = { ca: carrierCa, cert: trunkClient.cert, key: trunkClient.key };
  const wrong = await box();
  const right = await box();
  try {
    wrong.setClientTls({ address: '127.0.0.1', port: carrier.port }, settings);
    assert.match(await sendFails(wrong, carrier.port, 'other.test'), /altnames|does not match|other\.test/i);
    wrong.setClientTls({ address: '127.0.0.1', port: sbc.port }, settings);
    assert.match(await sendFails(wrong, sbc.port, 'sbc.example'), /altnames|does not match|sbc\.example/i);
    assert.equal([...carrier.received, ...sbc.received], []);
    right.setClientTls({ address: '127.0.0.1', port: sbc.port }, settings);
    await right.send(OPTIONS, { protocol: 'tls', address: '127.0.0.1', port: sbc.port }, { tlsServerName: 'SBC.test' });
    await settle();
    assert.ok(sbc.received.join('').startsWith('OPTIONS '), 'accepted by its sip: URI SAN');
  } finally {
    await Promise.all([wrong.close(), right.close()]);
    carrier.server.close();
    sbc.server.close();
  }
});

test('sip: URI SANs: hosts only, no user part, no other scheme; other names go to the usual check', () => {
  assert.equal(sipUriDomains('DNS:a.test, URI:sip:sbc.test, URI:sip:SBC2.test:5061;transport=tls, URI:sips:x.test, URI:sip:alice@y.test, URI:"sip:q.test"'), [
    'sbc.test',
    'sbc2.test',
    'q.test',
  ]);
  assert.equal(sipUriDomains(undefined), []);
  const cert = { subject: { CN: 'x' }, subjectaltname: 'URI:sip:sbc.test' } as unknown as PeerCertificate;
  assert.is(checkSipServerIdentity('sbc.test', cert), undefined);
  assert.ok(checkSipServerIdentity('evil.test', cert) instanceof Error);
  const dns = { subject: { CN: 'x' }, subjectaltname: 'DNS:carrier.test' } as unknown as PeerCertificate;
  assert.is(checkSipServerIdentity('carrier.test', dns), undefined);
  assert.ok(checkSipServerIdentity('sbc.test', dns) instanceof Error);
});

test.run();
