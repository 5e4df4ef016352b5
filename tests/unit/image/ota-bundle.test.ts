/**
 * image/ota-bundle.sh on a tiny ext4 root file system: the bundle it makes
 * reads back with the OTA code's own reader, naming the board and version.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBundleHead } from '../../../ota/bundle/read.js';

const SCRIPT = new URL('../../../image/ota-bundle.sh', import.meta.url).pathname;

test('a root file system image becomes an unsigned bundle for its board', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-otab-'));
  try {
    const rootfs = join(dir, 'rootfs.ext4');
    const mk = spawnSync('mkfs.ext4', ['-q', '-F', rootfs, '4M'], { encoding: 'utf8' });
    assert.is(mk.status, 0, mk.stderr);
    writeFileSync(join(dir, 'build-info.json'), JSON.stringify({ version: '2.3.4' }));
    const r = spawnSync('bash', [SCRIPT, 'BOARD=x86-poe', `ROOTFS=${rootfs}`], { encoding: 'utf8', timeout: 60_000 });
    assert.is(r.status, 0, r.stderr);
    const out = join(dir, 'pgw-x86-poe-2.3.4.pgwb');
    assert.ok(existsSync(out));
    const head = await readBundleHead(out);
    assert.is(head.manifest.version, '2.3.4');
    assert.equal(head.manifest.compatible, ['x86-poe']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file that is not ext4 is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-otab-'));
  try {
    const rootfs = join(dir, 'rootfs.ext4');
    writeFileSync(rootfs, Buffer.alloc(65536, 7));
    const r = spawnSync('bash', [SCRIPT, 'BOARD=x86-poe', 'VERSION=1.0.0', `ROOTFS=${rootfs}`], { encoding: 'utf8' });
    assert.is.not(r.status, 0);
    assert.match(r.stderr, /not a clean ext4/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
