import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../firmware/src/cli/run-cli.js';
import { createDeviceIdentity } from '../../../hw/identity/device-identity.js';
import { fakeContext } from './fake-context.js';

function box() {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-cli-reset-'));
  const data = join(dir, 'var');
  mkdirSync(join(data, 'ota'), { recursive: true });
  writeFileSync(join(data, 'practice.json'), '{}');
  writeFileSync(join(dir, 'gateway.json'), JSON.stringify({ device: { id: 'pgw-x', board: 'generic' }, practice: { version: 2 } }));
  return { dir, data, args: ['--data', data, '--config', join(dir, 'gateway.json'), '--identity', join(dir, 'identity')] };
}

test('without --yes nothing happens: what would be erased, exit 2', async () => {
  const b = box();
  try {
    const ctx = fakeContext();
    assert.is(await runCli(['factory-reset', ...b.args], ctx), 2);
    assert.match(ctx.stderr, /refused without --yes/);
    assert.match(ctx.stderr, /practice config/);
    assert.ok(existsSync(join(b.data, 'practice.json')));
  } finally {
    rmSync(b.dir, { recursive: true, force: true });
  }
});

test('no gateway running: erased offline, new identity printed', async () => {
  const b = box();
  try {
    const old = await createDeviceIdentity(join(b.dir, 'identity'));
    const ctx = fakeContext();
    assert.is(await runCli(['factory-reset', '--yes', ...b.args], ctx), 0, ctx.stderr);
    const claim = readFileSync(join(b.dir, 'identity', 'claim-code'), 'utf8').trim();
    assert.match(ctx.stdout, new RegExp(`no gateway was running.*claim code ${claim}`));
    assert.is.not(claim, old.claimCode);
    assert.not.ok(existsSync(join(b.data, 'practice.json')));
    assert.equal(JSON.parse(readFileSync(join(b.dir, 'gateway.json'), 'utf8')).device.board, 'generic');
    // Offline needs the gateway file.
    const ctx2 = fakeContext();
    assert.is(await runCli(['factory-reset', '--yes', '--data', b.data], ctx2), 2);
    assert.match(ctx2.stderr, /needs --config/);
  } finally {
    rmSync(b.dir, { recursive: true, force: true });
  }
});

test('offline, an update on trial refuses the reset (exit 5)', async () => {
  const b = box();
  try {
    writeFileSync(join(b.data, 'ota', 'state.json'), '{"state":"trial"}');
    const ctx = fakeContext();
    assert.is(await runCli(['factory-reset', '--yes', ...b.args], ctx), 5);
    assert.match(ctx.stderr, /update is in progress \(trial/);
    assert.ok(existsSync(join(b.data, 'practice.json')));
  } finally {
    rmSync(b.dir, { recursive: true, force: true });
  }
});

test.run();
