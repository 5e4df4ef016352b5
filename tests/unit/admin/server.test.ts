import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createAdminServer } from '../../../firmware/src/admin/server.js';
import type { AdminServer } from '../../../firmware/src/admin/server.js';
import type { CallView, GatewayStatus, RegistrationView, StatusProvider } from '../../../firmware/src/admin/status-provider.js';
import { validatePractice } from '../../../firmware/src/config/index.js';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { isPgwError } from '../../../firmware/src/util/errors.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { fullPractice } from '../config/practice-fixture.js';

const logger = silentLogger();

const STATUS: GatewayStatus = {
  mode: 'survivability',
  configVersion: 7,
  uplinks: [
    { name: 'cloud', state: 'down' },
    { name: 'backup', state: 'up' },
  ],
  registrations: 12,
  activeCalls: 1,
  firmware: { version: '1.0.0', slot: 'a' },
};

const REGISTRATIONS: RegistrationView[] = [
  {
    extension: '201',
    contact: 'sip:201@192.0.2.10:5062;transport=udp',
    source: '192.0.2.10:5062',
    transport: 'udp',
    expiresIn: 287,
    userAgent: 'baresip v1.0.0',
  },
];

const CALLS: CallView[] = [
  {
    id: 'c1',
    from: { number: '201', name: 'Reception 1' },
    to: { number: '301', name: 'Dr A' },
    state: 'answered',
    startTime: '2026-06-01T12:00:00.000Z',
    answerTime: '2026-06-01T12:00:03.000Z',
    legs: [
      {
        id: 'c1-a',
        role: 'caller',
        peer: '201',
        state: 'confirmed',
        media: { codec: 'PCMA', local: '192.0.2.1:16384', remote: '192.0.2.10:4000', packetsIn: 50, packetsOut: 49, bytesIn: 8600, bytesOut: 8428 },
      },
    ],
  },
];

class FakeProvider implements StatusProvider {
  calls_ = CALLS;
  failWith: Error | null = null;
  hang = false;
  applied: ReturnType<typeof validatePractice> | null = null;
  status(): GatewayStatus {
    if (this.failWith) throw this.failWith;
    return { ...STATUS, activeCalls: this.calls_.length };
  }
  async registrations(): Promise<RegistrationView[]> {
    if (this.hang) return new Promise(() => undefined);
    return REGISTRATIONS;
  }
  calls(): CallView[] {
    return this.calls_;
  }
  appliedConfig() {
    const r = this.applied;
    return r && r.ok ? { version: r.value.version, appliedAt: null, practice: r.value } : null;
  }
}

let server: AdminServer;
let provider: FakeProvider;
let clock: FakeClock;

test.before.each(async () => {
  provider = new FakeProvider();
  clock = new FakeClock();
  server = await createAdminServer({ listen: '127.0.0.1:0', status: provider, logger, clock });
});
test.after.each(async () => {
  await server.close();
});

async function get(path: string, init?: RequestInit): Promise<{ status: number; body: unknown; headers: Headers }> {
  const r = await fetch(`${server.url()}${path}`, init);
  const text = await r.text();
  return { status: r.status, body: text === '' ? undefined : JSON.parse(text), headers: r.headers };
}

test('listens on the asked host and a free port', () => {
  const a = server.address();
  assert.is(a.host, '127.0.0.1');
  assert.ok(a.port > 0);
  assert.is(server.url(), `http://127.0.0.1:${a.port}`);
});

test('GET /api/v1/status is the provider status, as JSON', async () => {
  const r = await get('/api/v1/status');
  assert.is(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  assert.is(r.headers.get('cache-control'), 'no-store');
  assert.equal(r.body, { ...STATUS, activeCalls: 1 });
  provider.calls_ = [];
  assert.is(((await get('/api/v1/status')).body as GatewayStatus).activeCalls, 0);
});

test('GET /api/v1/registrations and /api/v1/calls', async () => {
  assert.equal((await get('/api/v1/registrations')).body, { registrations: REGISTRATIONS });
  assert.equal((await get('/api/v1/calls')).body, { calls: CALLS });
  assert.equal((await get('/api/v1/calls?verbose=1')).body, { calls: CALLS });
});

test('GET /api/v1/health', async () => {
  assert.equal((await get('/api/v1/health')).body, { status: 'ok' });
});

test('GET /api/v1/config: 404 before a practice is applied, then redacted', async () => {
  const before = await get('/api/v1/config');
  assert.is(before.status, 404);
  assert.is((before.body as { error: { code: string } }).error.code, 'not_found');
  provider.applied = validatePractice(fullPractice());
  const r = await get('/api/v1/config');
  assert.is(r.status, 200);
  const text = JSON.stringify(r.body);
  assert.not.ok(text.includes('pw-201-abcdef'));
  assert.not.ok(text.includes('trunk-pw'));
  assert.ok(text.includes('"password":"***"'));
  assert.is((r.body as { version: number }).version, 3);
});

test('unknown path → 404 JSON error', async () => {
  const r = await get('/api/v1/nope');
  assert.is(r.status, 404);
  assert.equal(r.body, { error: { status: 404, code: 'not_found', message: 'no such endpoint: /api/v1/nope' } });
  assert.is((await get('/')).status, 404);
});

test('wrong method → 405 JSON error with Allow', async () => {
  const r = await get('/api/v1/status', { method: 'POST', body: '{}' });
  assert.is(r.status, 405);
  assert.is(r.headers.get('allow'), 'GET, HEAD');
  assert.is((r.body as { error: { code: string } }).error.code, 'method_not_allowed');
});

test('HEAD answers headers without a body', async () => {
  const r = await get('/api/v1/status', { method: 'HEAD' });
  assert.is(r.status, 200);
  assert.is(r.body, undefined);
  assert.ok(Number(r.headers.get('content-length')) > 10);
});

test('a provider that throws → 500 without the details', async () => {
  provider.failWith = new Error('secret internal detail');
  const r = await get('/api/v1/status');
  assert.is(r.status, 500);
  assert.equal(r.body, { error: { status: 500, code: 'internal', message: 'internal error' } });
});

test('a provider that does not answer → 503 after the timeout (on the injected clock)', async () => {
  provider.hang = true;
  const pending = get('/api/v1/registrations');
  // Let the request reach the handler, then move time past the deadline.
  for (let i = 0; i < 50 && clock.pending() === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.is(clock.pending(), 1);
  clock.advance(5000);
  const r = await pending;
  assert.is(r.status, 503);
  assert.is((r.body as { error: { code: string } }).error.code, 'unavailable');
});

test('a port in use → PGW_E_ADMIN_LISTEN', async () => {
  let err: unknown;
  await createAdminServer({ listen: `127.0.0.1:${server.address().port}`, status: provider, logger }).catch((e: unknown) => (err = e));
  assert.ok(isPgwError(err, 'PGW_E_ADMIN_LISTEN'));
  assert.match((err as Error).message, /EADDRINUSE/);
});

test('a listen value that is not host:port → PGW_E_ADMIN_LISTEN', async () => {
  let err: unknown;
  await createAdminServer({ listen: 'localhost', status: provider, logger }).catch((e: unknown) => (err = e));
  assert.ok(isPgwError(err, 'PGW_E_ADMIN_LISTEN'));
});

test('close stops it listening, even with a kept-alive connection, and twice is fine', async () => {
  await get('/api/v1/health');
  const url = server.url();
  await server.close();
  await server.close();
  let failed = false;
  await fetch(`${url}/api/v1/health`).catch(() => (failed = true));
  assert.ok(failed);
});

test.run();
