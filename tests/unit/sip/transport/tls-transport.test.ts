/** TLS server and client over real sockets on 127.0.0.1, with a CA and certificate made for the test. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { createResponse, parseMessage } from '../../../../firmware/src/sip/message/index.js';
import type { SipRequest } from '../../../../firmware/src/sip/message/types.js';
import type { InboundMessage } from '../../../../firmware/src/sip/transport/api.js';
import { createTransportLayer } from '../../../../firmware/src/sip/transport/transport-layer.js';
import { responseRoute } from '../../../../firmware/src/sip/transport/response-route.js';
import { readTopVia } from '../../../../firmware/src/sip/transport/via-stamp.js';
import { captureLogger } from './capture-logger.js';
import { rawRequest, waitFor } from './socket-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pgw-tls-'));
function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}
openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=pgw test CA');
openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'gw.key', '-out', 'gw.csr', '-subj', '/CN=gw.practice.test');
writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:gw.practice.test,IP:127.0.0.1\n');
openssl('x509', '-req', '-in', 'gw.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'gw.pem', '-days', '2', '-extfile', 'ext.cnf');
const ca = readFileSync(join(dir, 'ca.pem'));
const cert = readFileSync(join(dir, 'gw.pem'));
const key = readFileSync(join(dir, 'gw.key'));
rmSync(dir, { recursive: true, force: true });

async function layerWith(tls: { rejectUnauthorized?: boolean; ca?: Buffer }) {
  const layer = await createTransportLayer({
    listen: [{ protocol: 'tls', host: '127.0.0.1', port: 0 }],
    tls: { cert, key, ...tls },
    logger: captureLogger('info'),
    clock: new FakeClock(),
  });
  const inbound: InboundMessage[] = [];
  layer.onMessage((m) => inbound.push(m));
  return { layer, inbound, port: layer.listening()[0]!.port };
}

test('TLS server: a client verifying our certificate talks SIP; the response comes back on the same connection', async () => {
  const a = await layerWith({});
  try {
    const socket = connect({ host: '127.0.0.1', port: a.port, ca, servername: 'gw.practice.test' });
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    await new Promise<void>((r, j) => {
      socket.once('secureConnect', () => r());
      socket.once('error', j);
    });
    socket.write(rawRequest({ via: 'SIP/2.0/TLS 10.9.9.9;branch=z9hG4bKtls' }));
    const m = await waitFor(() => a.inbound[0], 'request over TLS');
    assert.is(m.source.protocol, 'tls');
    const r = m.message as SipRequest;
    const route = responseRoute(readTopVia(r)!, m);
    await a.layer.send(createResponse(r, 200, 'OK', { toTag: 't' }), route.destination, route.options);
    await waitFor(() => text.startsWith('SIP/2.0 200 OK') || undefined, 'response over TLS');
    socket.destroy();
  } finally {
    await a.layer.close();
  }
});

test('TLS client: verifies the server against the CA and the name; rejects an unknown CA', async () => {
  const server = await layerWith({});
  const client = await layerWith({ ca });
  const untrusting = await layerWith({});
  try {
    const r = (parseMessage(Buffer.from(rawRequest({ via: 'SIP/2.0/TLS 127.0.0.1;branch=z9hG4bKc' }))) as { message: SipRequest }).message;
    const dest = { protocol: 'tls' as const, address: '127.0.0.1', port: server.port };
    await client.layer.send(r, dest, { tlsServerName: 'gw.practice.test' });
    const m = await waitFor(() => server.inbound[0], 'request from our TLS client');
    assert.is(m.source.protocol, 'tls');
    // Without a name, the certificate's IP SAN is what verifies (a fresh client, no reuse).
    const byIp = await layerWith({ ca });
    try {
      await byIp.layer.send(r, dest);
      await waitFor(() => server.inbound[1], 'request from a client verifying by IP');
    } finally {
      await byIp.layer.close();
    }
    try {
      await untrusting.layer.send(r, dest, { tlsServerName: 'gw.practice.test' });
      assert.unreachable('an unknown CA must be refused');
    } catch (err) {
      assert.is((err as { code?: string }).code, 'PGW_E_SIP_TRANSPORT');
    }
  } finally {
    await Promise.all([server.layer.close(), client.layer.close(), untrusting.layer.close()]);
  }
});

test('a TLS listener without certificate and key is refused', async () => {
  try {
    await createTransportLayer({ listen: [{ protocol: 'tls', host: '127.0.0.1', port: 0 }], logger: captureLogger(), clock: new FakeClock() });
    assert.unreachable();
  } catch (err) {
    assert.is((err as { code?: string }).code, 'PGW_E_SIP_TRANSPORT');
  }
});

test.run();
