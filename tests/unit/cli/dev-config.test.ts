import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateGatewayFile } from '../../../firmware/src/config/index.js';
import { EXAMPLE_PATH, readExample } from '../config/practice-fixture.js';
import { pgw } from './cli-process.js';
import { runCli } from '../../../firmware/src/cli/run-cli.js';
import { fakeContext } from './fake-context.js';

const dir = mkdtempSync(join(tmpdir(), 'pgw-cli-dev-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('dev-config of the example: a valid standalone gateway file for make run', async () => {
  const r = await pgw(['dev-config', EXAMPLE_PATH]);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const v = validateGatewayFile(out);
  if (!v.ok) assert.unreachable(JSON.stringify(v.errors));
  assert.equal(out.device, { id: 'pgw-0001', admin: { listen: '127.0.0.1:8080' } });
  assert.equal(out.practice.sip.listen, [
    { transport: 'udp', host: '0.0.0.0', port: 5060 },
    { transport: 'tcp', host: '0.0.0.0', port: 5060 },
  ]);
  // The rest of the practice is the example's, unchanged.
  const example = readExample() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(out.practice.extensions, example.practice.extensions);
  assert.equal(out.practice.huntGroups, example.practice.huntGroups);
  assert.equal(out.practice.uplinks, example.practice.uplinks);
  assert.is(out.practice.sip.domain, example.practice.sip.domain);
});

test('--admin, --sip-port and --no-uplinks', async () => {
  const ctx = fakeContext();
  assert.is(await runCli(['dev-config', EXAMPLE_PATH, '--admin', '127.0.0.1:0', '--sip-port', '15060', '--no-uplinks'], ctx), 0, ctx.stderr);
  const out = JSON.parse(ctx.stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.is(out.device.admin.listen, '127.0.0.1:0');
  assert.is(out.practice.sip.listen[1].port, 15060);
  assert.is(out.practice.uplinks, undefined);
  assert.ok(validateGatewayFile(out).ok);
});

test('a practice document works as the source too, with a dev device id', async () => {
  const f = join(dir, 'practice.json');
  writeFileSync(f, JSON.stringify(readExample().practice));
  const ctx = fakeContext();
  assert.is(await runCli(['dev-config', f], ctx), 0, ctx.stderr);
  assert.is((JSON.parse(ctx.stdout) as { device: { id: string } }).device.id, 'pgw-dev');
});

test('bad input: exit 1; bad options: exit 2', async () => {
  const noPractice = join(dir, 'device-only.json');
  writeFileSync(noPractice, JSON.stringify({ device: { id: 'x' } }));
  let ctx = fakeContext();
  assert.is(await runCli(['dev-config', noPractice], ctx), 1);
  assert.match(ctx.stderr, /has no practice/);
  ctx = fakeContext();
  assert.is(await runCli(['dev-config', join(dir, 'missing.json')], ctx), 1);
  assert.match(ctx.stderr, /no such file/);
  const invalid = join(dir, 'invalid.json');
  writeFileSync(invalid, JSON.stringify({ version: 1, site: { name: 'x' }, sip: {}, extensions: [{ number: '1' }] }));
  ctx = fakeContext();
  assert.is(await runCli(['dev-config', invalid], ctx), 1);
  assert.match(ctx.stderr, /practice\.extensions\[0\]\.number/);
  assert.is(ctx.stdout, '');
  ctx = fakeContext();
  assert.is(await runCli(['dev-config', EXAMPLE_PATH, '--sip-port', 'x'], ctx), 2);
  ctx = fakeContext();
  assert.is(await runCli(['dev-config', EXAMPLE_PATH, '--admin', 'nope'], ctx), 2);
});

test.run();
