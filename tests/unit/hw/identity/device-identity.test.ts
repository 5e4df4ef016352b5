import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeviceIdentity, deriveIdentity, identityOfPublicKeyPem, readDeviceIdentity } from '../../../../hw/identity/device-identity.js';

const FIRSTBOOT = new URL('../../../../image/rootfs/usr/lib/pgw/firstboot.sh', import.meta.url).pathname;

test('the id and claim code come from the public key hash (Crockford base32, no I L O U)', () => {
  const a = deriveIdentity(Buffer.from('key one'));
  const b = deriveIdentity(Buffer.from('key two'));
  assert.match(a.deviceId, /^pgw-[0-9a-f]{12}$/);
  assert.match(a.claimCode, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  assert.is.not(a.claimCode, b.claimCode);
  assert.equal(deriveIdentity(Buffer.from('key one')), a);
});

test('a new identity is written with its files and modes, and reads back the same', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-ident-'));
  try {
    const id = await createDeviceIdentity(join(dir, 'identity'));
    const ident = join(dir, 'identity');
    assert.is(readFileSync(join(ident, 'device-id'), 'utf8').trim(), id.deviceId);
    assert.is(readFileSync(join(ident, 'claim-code'), 'utf8').trim(), id.claimCode);
    assert.match(readFileSync(join(ident, 'device.key'), 'utf8'), /BEGIN PRIVATE KEY/);
    assert.is(statSync(join(ident, 'device.key')).mode & 0o777, 0o600);
    assert.equal(await readDeviceIdentity(ident), id);
    const other = await createDeviceIdentity(ident);
    assert.is.not(other.deviceId, id.deviceId);
    assert.is(await readDeviceIdentity(join(dir, 'none')), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('first boot (image/rootfs/usr/lib/pgw/firstboot.sh) derives the same id and claim code as the firmware', () => {
  const root = mkdtempSync(join(tmpdir(), 'pgw-ident-fb-'));
  try {
    const r = spawnSync('bash', [FIRSTBOOT], { env: { ...process.env, PGW_ROOT: root, PGW_PANEL: join(root, 'no-panel') }, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const ident = join(root, 'data/identity');
    const fromKey = identityOfPublicKeyPem(readFileSync(join(ident, 'device.pub'), 'utf8'));
    assert.is(readFileSync(join(ident, 'device-id'), 'utf8').trim(), fromKey.deviceId);
    assert.is(readFileSync(join(ident, 'claim-code'), 'utf8').trim(), fromKey.claimCode);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('first boot leaves the identity to the gateway while a factory reset is pending', () => {
  const root = mkdtempSync(join(tmpdir(), 'pgw-ident-fb-'));
  try {
    mkdirSync(join(root, 'data/pgw'), { recursive: true });
    writeFileSync(join(root, 'data/pgw/factory-reset.pending'), '{}');
    const r = spawnSync('bash', [FIRSTBOOT], { env: { ...process.env, PGW_ROOT: root, PGW_PANEL: join(root, 'no-panel') }, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /factory reset is pending/);
    assert.not.ok(existsSync(join(root, 'data/identity/device.key')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
