/** The transport layer over real UDP sockets on 127.0.0.1. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { isPgwError } from '../../../../firmware/src/util/errors.js';
import { createResponse, parseMessage } from '../../../../firmware/src/sip/message/index.js';
import type { SipRequest, SipResponse } from '../../../../firmware/src/sip/message/types.js';
import type { InboundMessage } from '../../../../firmware/src/sip/transport/api.js';
import { createTransportLayer } from '../../../../firmware/src/sip/transport/transport-layer.js';
import type { SipTransportLayer } from '../../../../firmware/src/sip/transport/transport-layer.js';
import { responseRoute } from '../../../../firmware/src/sip/transport/response-route.js';
import { readTopVia } from '../../../../firmware/src/sip/transport/via-stamp.js';
import { captureLogger } from './capture-logger.js';
import { rawRequest, udpPeer, waitFor } from './socket-helpers.js';
import type { UdpPeer } from './socket-helpers.js';

interface World {
  layer: SipTransportLayer;
  port: number;
  peer: UdpPeer;
  inbound: InboundMessage[];
  logger: ReturnType<typeof captureLogger>;
}

async function world(host = '127.0.0.1', level: 'debug' | 'info' = 'info'): Promise<World> {
  const logger = captureLogger(level);
  const layer = await createTransportLayer({ listen: [{ protocol: 'udp', host, port: 0 }], logger, clock: new FakeClock() });
  const inbound: InboundMessage[] = [];
  layer.onMessage((m) => inbound.push(m));
  const peer = await udpPeer();
  return { layer, port: layer.listening()[0]!.port, peer, inbound, logger };
}

async function done(w: World): Promise<void> {
  await w.layer.close();
  await w.peer.close();
}

/** Run a test body and always close its sockets, pass or fail. */
async function withWorld(fn: (w: World) => Promise<void>, host = '127.0.0.1', level: 'debug' | 'info' = 'info'): Promise<void> {
  const w = await world(host, level);
  try {
    await fn(w);
  } finally {
    await done(w);
  }
}

function parsed(data: Buffer): SipResponse {
  const r = parseMessage(data);
  if (!r.ok || r.message.kind !== 'response') throw new Error('not a response: ' + data.toString());
  return r.message;
}

test('port 0 binds a real port; listening() reports it', async () => {
  await withWorld(async (w) => {
    const [ep] = w.layer.listening();
    assert.is(ep!.protocol, 'udp');
    assert.is(ep!.address, '127.0.0.1');
    assert.ok(ep!.port > 0);
  });
});

test('inbound request: source, local, received and rport stamped (RFC 3581)', async () => {
  await withWorld(async (w) => {
    await w.peer.send(rawRequest({ via: 'SIP/2.0/UDP 10.9.9.9:5070;rport;branch=z9hG4bKu1' }), w.port);
    const m = await waitFor(() => w.inbound[0], 'inbound request');
    assert.equal(m.source, { protocol: 'udp', address: '127.0.0.1', port: w.peer.port });
    assert.equal(m.local, { protocol: 'udp', address: '127.0.0.1', port: w.port });
    assert.is(m.connectionId, undefined);
    assert.is(m.message.headers.get('Via'), `SIP/2.0/UDP 10.9.9.9:5070;rport=${w.peer.port};branch=z9hG4bKu1;received=127.0.0.1`);
  }, '0.0.0.0');
});

test('a response goes back to received:rport, from the listening port', async () => {
  await withWorld(async (w) => {
    await w.peer.send(rawRequest({ via: 'SIP/2.0/UDP 10.9.9.9:5070;rport;branch=z9hG4bKu2' }), w.port);
    const m = await waitFor(() => w.inbound[0], 'inbound request');
    const req = m.message as SipRequest;
    const route = responseRoute(readTopVia(req)!, m);
    await w.layer.send(createResponse(req, 200, 'OK', { toTag: 'tt' }), route.destination, route.options);
    const got = await waitFor(() => w.peer.received[0], 'response at the peer');
    assert.is(got.port, w.port, 'sent from the port the request arrived on');
    const res = parsed(got.data);
    assert.is(res.status, 200);
    assert.match(res.headers.get('Via')!, /rport=\d+/);
  });
});

test('a 60,000-byte datagram is received whole', async () => {
  await withWorld(async (w) => {
    const body = 'a'.repeat(60_000);
    await w.peer.send(rawRequest({ method: 'MESSAGE', via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKbig', body, extra: 'Content-Type: text/plain\r\n' }), w.port);
    const m = await waitFor(() => w.inbound[0], 'big request');
    assert.is(m.message.body.length, 60_000);
  });
});

test('sending more than fits a UDP datagram rejects with PGW_E_SIP_TRANSPORT', async () => {
  await withWorld(async (w) => {
    const req: SipResponse = createResponse(
      (parseMessage(Buffer.from(rawRequest({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx' }))) as { message: SipRequest }).message,
      200,
      'OK',
      { body: Buffer.alloc(70_000, 0x61), contentType: 'text/plain' },
    );
    try {
      await w.layer.send(req, { protocol: 'udp', address: '127.0.0.1', port: w.peer.port });
      assert.unreachable('should have rejected');
    } catch (err) {
      assert.ok(isPgwError(err, 'PGW_E_SIP_TRANSPORT'), String(err));
    }
  });
});

test('a malformed request is answered 400 with a reason saying what is wrong', async () => {
  await withWorld(async (w) => {
    await w.peer.send(rawRequest({ via: 'SIP/2.0/UDP 10.9.9.9:5070;rport;branch=z9hG4bKbad', extra: 'Max-Forwards: 69\r\n' }), w.port);
    const got = await waitFor(() => w.peer.received[0], '400');
    const res = parsed(got.data);
    assert.is(res.status, 400);
    assert.match(res.reason, /Max-Forwards/i);
    assert.match(res.headers.get('Via')!, /branch=z9hG4bKbad/);
    assert.match(res.headers.get('To')!, /;tag=/);
    assert.is(w.inbound.length, 0, 'not passed up');
  });
});

test('a request missing Call-ID cannot be answered in a way the client could parse: dropped', async () => {
  await withWorld(async (w) => {
    await w.peer.send(rawRequest({ via: 'SIP/2.0/UDP 10.9.9.9:5070;rport;branch=z9hG4bKbad', callId: null }), w.port);
    await w.peer.send(rawRequest({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKok' }), w.port);
    await waitFor(() => w.inbound[0], 'the good request');
    assert.is(w.peer.received.length, 0);
    assert.ok(w.logger.lines.some((l) => l.msg === 'bad request dropped' && l.fields.dropped === 'no Call-ID'));
  });
});

test('a bad SIP version gets 505; a bad ACK, garbage and bad responses are dropped', async () => {
  await withWorld(async (w) => {
    await w.peer.send(rawRequest({ via: 'SIP/2.0/UDP 127.0.0.1;rport;branch=z9hG4bKv' }).replace('SIP/2.0\r\n', 'SIP/7.0\r\n'), w.port);
    const got = await waitFor(() => w.peer.received[0], '505');
    assert.is(parsed(got.data).status, 505);
    await w.peer.send(rawRequest({ method: 'ACK', via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKa', callId: null }), w.port);
    await w.peer.send('\x16\x03\x01 not sip at all', w.port);
    await w.peer.send('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKr\r\n\r\n', w.port);
    // A good request after them proves the garbage was processed (in order) and ignored.
    await w.peer.send(rawRequest({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKok' }), w.port);
    await waitFor(() => w.inbound[0], 'the good request');
    assert.is(w.inbound.length, 1);
    assert.is(w.peer.received.length, 1, 'only the 505 was answered');
  });
});

test('bad input is logged at a limited rate per source', async () => {
  await withWorld(async (w) => {
    for (let i = 0; i < 30; i++) await w.peer.send(`garbage ${i}\r\n\r\n`, w.port);
    await w.peer.send(rawRequest({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKok' }), w.port);
    await waitFor(() => w.inbound[0], 'the good request');
    const warns = w.logger.lines.filter((l) => l.level === 'warn');
    assert.is(warns.length, 5);
  });
});

test('CRLF and STUN keep-alives on UDP are ignored silently', async () => {
  await withWorld(async (w) => {
    await w.peer.send('\r\n\r\n', w.port);
    await w.peer.send(Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), w.port);
    await w.peer.send(rawRequest({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKok' }), w.port);
    await waitFor(() => w.inbound[0], 'the good request');
    assert.is(w.logger.lines.filter((l) => l.level === 'warn').length, 0);
  });
});

test('a handler that throws does not stop delivery or the process', async () => {
  await withWorld(async (w) => {
    w.layer.onMessage(() => {
      throw new Error('TU bug');
    });
    const seen: InboundMessage[] = [];
    w.layer.onMessage((m) => seen.push(m));
    await w.peer.send(rawRequest({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1' }), w.port);
    await waitFor(() => seen[0], 'delivery to the second handler');
    assert.ok(w.logger.lines.some((l) => l.level === 'error' && /handler threw/.test(l.msg)));
  });
});

test('SIP traces at debug level carry the full text, direction and remote', async () => {
  await withWorld(async (w) => {
    const text = rawRequest({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKtr' });
    await w.peer.send(text, w.port);
    await waitFor(() => w.inbound[0], 'request');
    const trace = w.logger.lines.find((l) => l.msg === 'sip recv');
    assert.ok(trace);
    assert.is(trace!.fields.text, text);
    assert.is(trace!.fields.remote, `udp:127.0.0.1:${w.peer.port}`);
  }, '127.0.0.1', 'debug');
});

test('no trace is built at info level', async () => {
  await withWorld(async (w) => {
    await w.peer.send(rawRequest({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKtr' }), w.port);
    await waitFor(() => w.inbound[0], 'request');
    assert.is(w.logger.lines.filter((l) => l.msg.startsWith('sip ')).length, 0);
  }, '127.0.0.1', 'info');
});

test('localFor: the interface facing the remote with the UDP port; specific binds report themselves', async () => {
  await withWorld(async (w) => {
    assert.equal(w.layer.localFor({ protocol: 'udp', address: '127.0.0.1', port: 5060 }), { protocol: 'udp', address: '127.0.0.1', port: w.port });
    assert.equal(await w.layer.resolveLocal({ protocol: 'udp', address: '127.0.0.1', port: 5060 }), { protocol: 'udp', address: '127.0.0.1', port: w.port });
  }, '0.0.0.0');
  await withWorld(async (v) => {
    assert.equal(v.layer.localFor({ protocol: 'udp', address: '192.0.2.200', port: 5060 }).address, '127.0.0.1');
  });
});

test('IPv6: a request from [::1] is stamped and answered over IPv6', async () => {
  const { createSocket } = await import('node:dgram');
  const logger = captureLogger('info');
  const layer = await createTransportLayer({ listen: [{ protocol: 'udp', host: '::1', port: 0 }], logger, clock: new FakeClock() });
  const peer = createSocket('udp6');
  const got: Buffer[] = [];
  peer.on('message', (d) => got.push(d));
  try {
    await new Promise<void>((r) => peer.bind(0, '::1', () => r()));
    const inbound: InboundMessage[] = [];
    layer.onMessage((m) => inbound.push(m));
    const port = layer.listening()[0]!.port;
    peer.send(Buffer.from(rawRequest({ via: 'SIP/2.0/UDP [::1]:5999;rport;branch=z9hG4bK6' })), port, '::1');
    const m = await waitFor(() => inbound[0], 'IPv6 request');
    assert.is(m.source.address, '::1');
    assert.is(m.message.headers.get('Via'), `SIP/2.0/UDP [::1]:5999;rport=${peer.address().port};branch=z9hG4bK6;received=::1`);
    const route = responseRoute(readTopVia(m.message)!, m);
    await layer.send(createResponse(m.message as SipRequest, 200, 'OK', { toTag: 'v6' }), route.destination, route.options);
    await waitFor(() => got[0], 'IPv6 response');
    assert.match(got[0]!.toString(), /^SIP\/2\.0 200 OK/);
  } finally {
    peer.close();
    await layer.close();
  }
});

test('binding a port in use fails with PGW_E_SIP_TRANSPORT', async () => {
  await withWorld(async (w) => {
    try {
      await createTransportLayer({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: w.port }], logger: captureLogger(), clock: new FakeClock() });
      assert.unreachable('should not bind twice');
    } catch (err) {
      assert.ok(isPgwError(err, 'PGW_E_SIP_TRANSPORT'), String(err));
    }
  });
});

test.run();
