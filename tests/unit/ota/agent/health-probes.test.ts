/** The trial's health probes against a fake SIP responder and a fake admin API on 127.0.0.1. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { adminStatusProbe, combineHealth, sipOptionsProbe } from '../../../../ota/agent/health-probes.js';

async function sipResponder(status: number | null): Promise<{ port: number; close: () => void; got: string[] }> {
  const sock = dgram.createSocket('udp4');
  const got: string[] = [];
  sock.on('message', (buf, rinfo) => {
    const text = buf.toString();
    got.push(text);
    if (status === null) return;
    const header = (name: string): string => text.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)) ?? '';
    const reply = [`SIP/2.0 ${status} ${status === 200 ? 'OK' : 'Nope'}`, header('Via'), header('From'), `${header('To')};tag=x`, header('Call-ID'), header('CSeq'), 'Content-Length: 0', '', ''].join('\r\n');
    sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return { port: (sock.address() as AddressInfo).port, close: () => sock.close(), got };
}

async function statusApi(body: unknown, code = 200): Promise<{ url: string; close: () => Promise<void>; hits: () => number }> {
  let hits = 0;
  const srv = http.createServer((req, res) => {
    hits++;
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, close: () => new Promise((r) => srv.close(() => r())), hits: () => hits };
}

test('SIP OPTIONS: 200 is healthy, 503 is not, silence is not (on abort)', async () => {
  const ok = await sipResponder(200);
  const r1 = await sipOptionsProbe({ host: '127.0.0.1', port: ok.port }).run(new AbortController().signal);
  assert.equal(r1, { ok: true, detail: 'OPTIONS answered 200' });
  assert.match(ok.got[0]!, /^OPTIONS sip:127\.0\.0\.1:\d+ SIP\/2\.0\r\n/);
  assert.match(ok.got[0]!, /\r\nMax-Forwards: 0\r\n/);
  ok.close();
  const busy = await sipResponder(503);
  assert.equal((await sipOptionsProbe({ host: '127.0.0.1', port: busy.port }).run(new AbortController().signal)).ok, false);
  busy.close();
  const mute = await sipResponder(null);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  assert.equal(await sipOptionsProbe({ host: '127.0.0.1', port: mute.port }).run(ac.signal), { ok: false, detail: 'no answer to OPTIONS' });
  mute.close();
});

test('admin status: config applied and an uplink up or standby; one request per round', async () => {
  const api = await statusApi({ configVersion: 7, uplinks: [{ name: 'cloud', state: 'down' }, { name: 'backup', state: 'standby' }] });
  const h = combineHealth(adminStatusProbe({ api: api.url }));
  const r = await h.check(new AbortController().signal);
  assert.ok(r.healthy);
  assert.equal(r.checks.map((c) => [c.name, c.ok]), [['config', true], ['uplink', true]]);
  assert.match(r.checks[1]!.detail!, /backup/);
  assert.is(api.hits(), 1);
  await api.close();
  const bad = await statusApi({ configVersion: null, uplinks: [{ name: 'cloud', state: 'down' }] });
  const r2 = await combineHealth(adminStatusProbe({ api: bad.url })).check(new AbortController().signal);
  assert.not.ok(r2.healthy);
  assert.equal(r2.checks.map((c) => c.ok), [false, false]);
  await bad.close();
  const down = await statusApi({}, 500);
  const r3 = await combineHealth(adminStatusProbe({ api: down.url })).check(new AbortController().signal);
  assert.not.ok(r3.healthy);
  assert.match(r3.checks[0]!.detail!, /500/);
  await down.close();
});

test('combineHealth: healthy only when every probe passes, and a throwing probe is a failed check', async () => {
  const h = combineHealth([
    { name: 'a', run: async () => ({ ok: true }) },
    { name: 'b', run: async () => Promise.reject(new Error('boom')) },
  ]);
  const r = await h.check(new AbortController().signal);
  assert.not.ok(r.healthy);
  assert.equal(r.checks, [{ name: 'a', ok: true }, { name: 'b', ok: false, detail: 'boom' }]);
  assert.not.ok((await combineHealth([]).check(new AbortController().signal)).healthy, 'no probes is not healthy');
});

test.run();
