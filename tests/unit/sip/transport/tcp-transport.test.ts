/** The transport layer over real TCP sockets on 127.0.0.1: framing, keep-alives, reuse, routing, idle close, the §18.1.1 rule. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { createResponse, parseMessage } from '../../../../firmware/src/sip/message/index.js';
import type { SipRequest } from '../../../../firmware/src/sip/message/types.js';
import type { ConnectionInfo, InboundMessage } from '../../../../firmware/src/sip/transport/api.js';
import { createTransportLayer } from '../../../../firmware/src/sip/transport/transport-layer.js';
import type { SipTransportLayer } from '../../../../firmware/src/sip/transport/transport-layer.js';
import { responseRoute } from '../../../../firmware/src/sip/transport/response-route.js';
import { readTopVia } from '../../../../firmware/src/sip/transport/via-stamp.js';
import { captureLogger } from './capture-logger.js';
import { rawRequest, sleep, tcpClient, tcpServer, udpPeer, waitFor } from './socket-helpers.js';

interface World {
  layer: SipTransportLayer;
  clock: FakeClock;
  tcpPort: number;
  udpPort: number;
  inbound: InboundMessage[];
  closed: ConnectionInfo[];
}

async function withWorld(fn: (w: World) => Promise<void>, opts: { idleMs?: number } = {}): Promise<void> {
  const clock = new FakeClock();
  const layer = await createTransportLayer({
    listen: [
      { protocol: 'udp', host: '127.0.0.1', port: 0 },
      { protocol: 'tcp', host: '127.0.0.1', port: 0 },
    ],
    logger: captureLogger('info'),
    clock,
    ...(opts.idleMs ? { connectionIdleMs: opts.idleMs } : {}),
  });
  const inbound: InboundMessage[] = [];
  const closed: ConnectionInfo[] = [];
  layer.onMessage((m) => inbound.push(m));
  layer.onConnectionClosed((c) => closed.push(c));
  const eps = layer.listening();
  const w = { layer, clock, tcpPort: eps.find((e) => e.protocol === 'tcp')!.port, udpPort: eps.find((e) => e.protocol === 'udp')!.port, inbound, closed };
  try {
    await fn(w);
  } finally {
    await layer.close();
  }
}

const req = (branch: string, body = ''): string => rawRequest({ via: `SIP/2.0/TCP 10.9.9.9:5070;branch=${branch}`, body, ...(body ? { method: 'MESSAGE' } : {}) });

test('several messages in one segment and one split across segments', async () => {
  await withWorld(async (w) => {
    const c = await tcpClient(w.tcpPort);
    try {
      const a = req('z9hG4bKa');
      const b = req('z9hG4bKb', 'hello');
      const d = req('z9hG4bKd', 'split body');
      c.socket.write(a + b + d.slice(0, 40));
      await waitFor(() => w.inbound.length >= 2 || undefined, 'two messages');
      await sleep(20);
      c.socket.write(d.slice(40));
      await waitFor(() => w.inbound.length >= 3 || undefined, 'the split message');
      assert.equal(
        w.inbound.map((m) => readTopVia(m.message)!.params.get('branch')),
        ['z9hG4bKa', 'z9hG4bKb', 'z9hG4bKd'],
      );
      assert.is(w.inbound[2]!.message.body.toString(), 'split body');
      const m = w.inbound[0]!;
      assert.is(m.source.protocol, 'tcp');
      assert.ok(m.connectionId);
      assert.equal(m.local, { protocol: 'tcp', address: '127.0.0.1', port: w.tcpPort });
      assert.match(m.message.headers.get('Via')!, /received=127\.0\.0\.1/);
    } finally {
      c.close();
    }
  });
});

test('double-CRLF ping gets a single CRLF pong; stray CRLFs between messages are skipped', async () => {
  await withWorld(async (w) => {
    const c = await tcpClient(w.tcpPort);
    try {
      c.socket.write('\r\n\r\n');
      await waitFor(() => c.text() === '\r\n' || undefined, 'pong');
      c.socket.write(req('z9hG4bK1') + '\r\n' + req('z9hG4bK2'));
      await waitFor(() => w.inbound.length >= 2 || undefined, 'both messages');
      assert.is(c.text(), '\r\n');
    } finally {
      c.close();
    }
  });
});

test('responses go back over the connection the request came on', async () => {
  await withWorld(async (w) => {
    const c = await tcpClient(w.tcpPort);
    try {
      c.socket.write(req('z9hG4bKr'));
      const m = await waitFor(() => w.inbound[0], 'request');
      const r = m.message as SipRequest;
      const route = responseRoute(readTopVia(r)!, m);
      assert.is(route.options.connectionId, m.connectionId);
      await w.layer.send(createResponse(r, 200, 'OK', { toTag: 'x' }), route.destination, route.options);
      await waitFor(() => c.text().startsWith('SIP/2.0 200 OK') || undefined, 'response on the same connection');
      assert.is(w.layer.connectionCount(), 1);
    } finally {
      c.close();
    }
  });
});

test('a request to a peer that connected to us reuses its connection', async () => {
  await withWorld(async (w) => {
    const c = await tcpClient(w.tcpPort);
    try {
      c.socket.write(req('z9hG4bKin'));
      const m = await waitFor(() => w.inbound[0], 'request');
      const invite = (parseMessage(Buffer.from(rawRequest({ method: 'NOTIFY', via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKout' }))) as { message: SipRequest }).message;
      await w.layer.send(invite, m.source);
      await waitFor(() => c.text().startsWith('NOTIFY ') || undefined, 'request over the inbound connection');
      assert.is(w.layer.connectionCount(), 1);
    } finally {
      c.close();
    }
  });
});

test('outbound connections are reused and closed after the idle time', async () => {
  await withWorld(
    async (w) => {
      const server = await tcpServer();
      try {
        const dest = { protocol: 'tcp' as const, address: '127.0.0.1', port: server.port };
        const msg = (b: string): SipRequest => (parseMessage(Buffer.from(rawRequest({ via: `SIP/2.0/TCP 127.0.0.1;branch=${b}` }))) as { message: SipRequest }).message;
        await Promise.all([w.layer.send(msg('z9hG4bK1'), dest), w.layer.send(msg('z9hG4bK2'), dest)]);
        await w.layer.send(msg('z9hG4bK3'), dest);
        await waitFor(() => (server.text().match(/^OPTIONS /gm)?.length === 3 ? true : undefined), 'three requests');
        assert.is(server.connections.length, 1, 'one connection for all three');
        w.clock.advance(59_000);
        assert.is(w.closed.length, 0);
        w.clock.advance(60_000);
        await waitFor(() => w.closed[0], 'idle close');
        assert.is(w.closed[0]!.inbound, false);
        assert.equal(w.closed[0]!.remote, dest);
        assert.is(w.layer.connectionCount(), 0);
      } finally {
        await server.close();
      }
    },
    { idleMs: 60_000 },
  );
});

test('a connection that talks is not idle', async () => {
  await withWorld(
    async (w) => {
      const c = await tcpClient(w.tcpPort);
      try {
        for (let i = 0; i < 4; i++) {
          w.clock.advance(40_000);
          c.socket.write('\r\n\r\n');
          await waitFor(() => (c.text().length === 2 * (i + 1) ? true : undefined), 'pong');
        }
        assert.is(w.closed.length, 0);
        w.clock.advance(80_000);
        await waitFor(() => w.closed[0], 'idle close');
        await waitFor(() => c.closed() || undefined, 'client sees the close');
      } finally {
        c.close();
      }
    },
    { idleMs: 60_000 },
  );
});

test('missing Content-Length on a stream: 400 with the reason, then the connection closes', async () => {
  await withWorld(async (w) => {
    const c = await tcpClient(w.tcpPort);
    try {
      c.socket.write(rawRequest({ via: 'SIP/2.0/TCP 10.9.9.9;branch=z9hG4bKnocl', contentLength: false }));
      await waitFor(() => c.closed() || undefined, 'close');
      assert.match(c.text(), /^SIP\/2\.0 400 Bad Request \(missing Content-Length[^\r]*\r\n/);
      assert.is(w.inbound.length, 0);
    } finally {
      c.close();
    }
  });
});

test('an oversized header block closes the connection', async () => {
  await withWorld(async (w) => {
    const c = await tcpClient(w.tcpPort);
    try {
      c.socket.write('OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\nX-Junk: ' + 'j'.repeat(70 * 1024));
      await waitFor(() => c.closed() || undefined, 'close');
      assert.is(w.inbound.length, 0);
    } finally {
      c.close();
    }
  });
});

test('§18.1.1: a large UDP request goes over TCP with the Via rewritten; small ones stay on UDP', async () => {
  await withWorld(async (w) => {
    const server = await tcpServer();
    const udp = await udpPeer(server.port).catch(() => undefined);
    try {
      const dest = { protocol: 'udp' as const, address: '127.0.0.1', port: server.port };
      const big = (parseMessage(Buffer.from(rawRequest({ method: 'MESSAGE', via: `SIP/2.0/UDP 127.0.0.1:${w.udpPort};branch=z9hG4bKbig`, body: 'x'.repeat(1400) }))) as { message: SipRequest }).message;
      const small = (parseMessage(Buffer.from(rawRequest({ via: `SIP/2.0/UDP 127.0.0.1:${w.udpPort};branch=z9hG4bKsmall` }))) as { message: SipRequest }).message;
      assert.is(w.layer.outboundProtocol(big, dest), 'tcp');
      assert.is(w.layer.outboundProtocol(small, dest), 'udp');
      assert.is(w.layer.outboundProtocol(createResponse(big, 200), dest), 'udp', 'responses are not moved');
      await w.layer.send(big, dest);
      await waitFor(() => server.text().includes('z9hG4bKbig') || undefined, 'big request over TCP');
      assert.match(server.text(), new RegExp(`Via: SIP/2\\.0/TCP 127\\.0\\.0\\.1:${w.tcpPort};branch=z9hG4bKbig`));
      assert.is(big.headers.get('Via'), `SIP/2.0/UDP 127.0.0.1:${w.udpPort};branch=z9hG4bKbig`, "the caller's message is not changed");
      if (udp) {
        await w.layer.send(small, dest);
        await waitFor(() => udp.received[0], 'small request over UDP');
        await w.layer.send(big, dest, { sizeRule: false });
        await waitFor(() => udp.received[1], 'big request over UDP when the caller says so');
      }
    } finally {
      await server.close();
      await udp?.close();
    }
  });
});

test('§18.1.1: when TCP is refused the large request falls back to UDP', async () => {
  await withWorld(async (w) => {
    const udp = await udpPeer();
    try {
      const dest = { protocol: 'udp' as const, address: '127.0.0.1', port: udp.port };
      const big = (parseMessage(Buffer.from(rawRequest({ method: 'MESSAGE', via: `SIP/2.0/UDP 127.0.0.1:${w.udpPort};branch=z9hG4bKbig`, body: 'x'.repeat(1400) }))) as { message: SipRequest }).message;
      await w.layer.send(big, dest);
      const got = await waitFor(() => udp.received[0], 'big request over UDP');
      assert.match(got.data.toString(), /Via: SIP\/2\.0\/UDP /);
    } finally {
      await udp.close();
    }
  });
});

test('sending to a closed TCP port rejects with a connect-stage PGW_E_SIP_TRANSPORT', async () => {
  await withWorld(async (w) => {
    const server = await tcpServer();
    const port = server.port;
    await server.close();
    const r = (parseMessage(Buffer.from(rawRequest({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKx' }))) as { message: SipRequest }).message;
    try {
      await w.layer.send(r, { protocol: 'tcp', address: '127.0.0.1', port });
      assert.unreachable();
    } catch (err) {
      const e = err as { code?: string; context?: { stage?: string } };
      assert.is(e.code, 'PGW_E_SIP_TRANSPORT');
      assert.is(e.context?.stage, 'connect');
    }
  });
});

test.run();
