import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import { createAdminServer } from '../../../firmware/src/admin/server.js';
import type { AdminServer } from '../../../firmware/src/admin/server.js';
import type { GatewayStatus, StatusProvider } from '../../../firmware/src/admin/status-provider.js';
import { runCli } from '../../../firmware/src/cli/run-cli.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { pgw } from './cli-process.js';
import { fakeContext } from './fake-context.js';

const STATUS: GatewayStatus = {
  mode: 'normal',
  configVersion: 7,
  uplinks: [
    { name: 'cloud', state: 'up' },
    { name: 'backup', state: 'standby' },
  ],
  registrations: 12,
  activeCalls: 3,
  firmware: { version: '1.0.0', slot: 'a' },
};

const provider: StatusProvider = {
  status: () => STATUS,
  registrations: () => [
    { extension: '201', contact: 'sip:201@192.0.2.10:5062', source: '192.0.2.10:5062', transport: 'udp', expiresIn: 287, userAgent: null },
  ],
  calls: () => [
    {
      id: 'c1',
      from: { number: '201', name: 'Reception 1' },
      to: { number: '600', name: null },
      state: 'ringing',
      startTime: '2026-06-01T12:00:00.000Z',
      answerTime: null,
      legs: [{ id: 'l1', role: 'caller', peer: '201', state: 'early', media: null }],
    },
  ],
};

let server: AdminServer;
test.before(async () => {
  server = await createAdminServer({ listen: '127.0.0.1:0', status: provider, logger: silentLogger() });
});
test.after(() => server.close());

/** A port nobody listens on: bound and released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('pgw status: a readable summary', async () => {
  const r = await pgw(['status', '--api', server.url()]);
  assert.is(r.code, 0, r.stderr);
  assert.is(
    r.stdout,
    [
      'mode            normal',
      'config version  7',
      'registrations   12',
      'active calls    3',
      'firmware        1.0.0 (slot a)',
      'uplinks',
      '  cloud   up',
      '  backup  standby',
      '',
    ].join('\n'),
  );
});

test('pgw status --json: the raw answer', async () => {
  const ctx = fakeContext();
  assert.is(await runCli(['status', '--json', '--api', `${server.url()}/`], ctx), 0, ctx.stderr);
  assert.equal(JSON.parse(ctx.stdout), STATUS);
});

test('PGW_API is the default --api', async () => {
  const ctx = fakeContext({ env: { PGW_API: server.url() } });
  assert.is(await runCli(['status', '--json'], ctx), 0, ctx.stderr);
  assert.is((JSON.parse(ctx.stdout) as GatewayStatus).configVersion, 7);
});

test('pgw status when nothing listens: exit 4 and a clear message', async () => {
  const port = await closedPort();
  const r = await pgw(['status', '--api', `http://127.0.0.1:${port}`]);
  assert.is(r.code, 4);
  assert.match(r.stderr, new RegExp(`pgw status: cannot reach the gateway at http://127\\.0\\.0\\.1:${port}: connection refused`));
  assert.is(r.stdout, '');
});

test('an API error answer: exit 4 with its message', async () => {
  const ctx = fakeContext();
  // Not an endpoint of this server: a JSON 404.
  assert.is(await runCli(['status', '--api', `${server.url()}/api/v1/nothing`], ctx), 4);
  assert.match(ctx.stderr, /answered HTTP 404: no such endpoint/);
});

test('--api must be an http URL: usage error', async () => {
  const ctx = fakeContext();
  assert.is(await runCli(['status', '--api', 'ftp://x'], ctx), 2);
  assert.match(ctx.stderr, /--api ftp:\/\/x is not an http/);
  assert.is(await runCli(['status', 'extra'], fakeContext()), 2);
});

test('pgw registrations and pgw calls: tables', async () => {
  let ctx = fakeContext();
  assert.is(await runCli(['registrations', '--api', server.url()], ctx), 0, ctx.stderr);
  assert.equal(ctx.stdout.split('\n').slice(0, 2), [
    'EXT  CONTACT                  SOURCE           TRANSPORT  EXPIRES  USER-AGENT',
    '201  sip:201@192.0.2.10:5062  192.0.2.10:5062  udp        287s     -',
  ]);
  ctx = fakeContext();
  assert.is(await runCli(['calls', '--api', server.url()], ctx), 0, ctx.stderr);
  assert.match(ctx.stdout, /^c1 {2}201 \(Reception 1\) → 600 {2}ringing {2}started 2026-06-01T12:00:00\.000Z\n {2}caller 201 {2}early {2}no media\n$/);
});

test.run();
