import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GrubSlotBackend, slotFromCmdline } from '../../../../hw/slots/grub.js';
import { GRUBENV_SIZE, parseGrubEnv, serializeGrubEnv } from '../../../../hw/slots/grubenv.js';
import { tempDir } from '../../ota/support/bundles.js';

/** grub-editenv from PATH or $PGW_GRUB_EDITENV, for the interop checks; skipped when absent. */
function findEditenv(): string | null {
  const env = process.env.PGW_GRUB_EDITENV;
  if (env && existsSync(env)) return env;
  const r = spawnSync('sh', ['-c', 'command -v grub-editenv']);
  return r.status === 0 ? r.stdout.toString().trim() : null;
}
const EDITENV = findEditenv();

test('the block is exactly 1024 bytes: signature, variables, # padding; escapes round-trip', () => {
  const vars = new Map([
    ['pgw_primary', 'a'],
    ['odd', 'back\\slash and\nnewline'],
  ]);
  const b = serializeGrubEnv(vars);
  assert.is(b.length, GRUBENV_SIZE);
  const text = b.toString('latin1');
  assert.ok(text.startsWith('# GRUB Environment Block\npgw_primary=a\nodd=back\\\\slash and\\\nnewline\n#'));
  assert.ok(/#+$/.test(text));
  assert.equal([...parseGrubEnv(b)], [...vars]);
});

test('comment lines are skipped; a full block is refused rather than truncated; bad signature rejected', () => {
  const withComment = Buffer.from(`# GRUB Environment Block\n# WARNING: do not edit\nx=1\n`.padEnd(1024, '#'), 'latin1');
  assert.equal([...parseGrubEnv(withComment)], [['x', '1']]);
  assert.throws(() => serializeGrubEnv(new Map([['big', 'v'.repeat(1100)]])), /1024/);
  assert.throws(() => parseGrubEnv(Buffer.from('not grub'.padEnd(1024, '#'))), /signature/);
  assert.throws(() => serializeGrubEnv(new Map([['bad name', 'x']])));
});

test('the kernel command line names the slot', () => {
  assert.is(slotFromCmdline('BOOT_IMAGE=/vmlinuz root=/dev/sda2 pgw.slot=b quiet'), 'b');
  assert.is(slotFromCmdline('pgw.slot=a'), 'a');
  assert.is(slotFromCmdline('pgw.slot=c'), undefined);
  assert.is(slotFromCmdline('xpgw.slot=a'), undefined);
});

async function setup(root: string, editenv: string | null): Promise<{ be: GrubSlotBackend; env: string; cmdline: string }> {
  const env = join(root, 'grubenv');
  const cmdline = join(root, 'cmdline');
  await writeFile(cmdline, 'root=/dev/sda2 pgw.slot=a ro\n');
  await writeFile(join(root, 'sda2'), Buffer.alloc(64 * 1024));
  await writeFile(join(root, 'sda3'), Buffer.alloc(64 * 1024));
  const be = new GrubSlotBackend({ envFile: env, cmdlineFile: cmdline, editenv, slots: { a: { rootDevice: join(root, 'sda2') }, b: { rootDevice: join(root, 'sda3') } } });
  return { be, env, cmdline };
}

/** What grub.cfg (docs/OTA.md) does at boot, on the env: the boot-once pattern. */
async function grubBoots(env: string, cmdline: string): Promise<string> {
  const vars = parseGrubEnv(await readFile(env));
  const tryS = vars.get('pgw_try');
  let slot: string;
  if (tryS) {
    slot = tryS;
    vars.delete('pgw_try');
    vars.set('pgw_trying', tryS);
  } else {
    slot = vars.get('pgw_primary') ?? 'a';
    vars.delete('pgw_trying');
  }
  await writeFile(env, serializeGrubEnv(vars));
  await writeFile(cmdline, `root=x pgw.slot=${slot}\n`);
  return slot;
}

for (const mode of ['own writer', 'grub-editenv'] as const) {
  test(`boot-once cycle with the ${mode}`, async () => {
    if (mode === 'grub-editenv' && !EDITENV) {
      console.log('    (grub-editenv not installed: interop check skipped)');
      return;
    }
    const t = await tempDir();
    try {
      const { be, env, cmdline } = await setup(t.path, mode === 'own writer' ? null : EDITENV);
      assert.equal(await be.status(), { booted: 'a', primary: 'a', armed: null, trialBoot: false });
      assert.equal(await be.arm('b'), {});
      assert.is((await readFile(env)).length, 1024);
      assert.is((await be.status()).armed, 'b');
      assert.is(await grubBoots(env, cmdline), 'b');
      assert.equal(await be.status(), { booted: 'b', primary: 'a', armed: null, trialBoot: true });
      // Not committed: the next boot is a again.
      assert.is(await grubBoots(env, cmdline), 'a');
      await be.arm('b');
      await grubBoots(env, cmdline);
      await be.commit('b');
      assert.equal(await be.status(), { booted: 'b', primary: 'b', armed: null, trialBoot: false });
      assert.is(await grubBoots(env, cmdline), 'b');
      await be.arm('a');
      await be.disarm();
      assert.is(await grubBoots(env, cmdline), 'b');
      if (EDITENV) {
        // Whichever wrote it, grub-editenv reads it.
        const list = spawnSync(EDITENV, [env, 'list']).stdout.toString();
        assert.match(list, /pgw_primary=b/);
      }
    } finally {
      await t.remove();
    }
  });
}

test('our reader reads what grub-editenv writes', async () => {
  if (!EDITENV) return;
  const t = await tempDir();
  try {
    const env = join(t.path, 'env');
    assert.is(spawnSync(EDITENV, [env, 'create']).status, 0);
    assert.is(spawnSync(EDITENV, [env, 'set', 'pgw_primary=b', 'x=a\\b']).status, 0);
    const vars = parseGrubEnv(await readFile(env));
    assert.is(vars.get('pgw_primary'), 'b');
    assert.is(vars.get('x'), 'a\\b');
  } finally {
    await t.remove();
  }
});

test('status fails clearly without pgw.slot on the command line', async () => {
  const t = await tempDir();
  try {
    const { be, cmdline } = await setup(t.path, null);
    await writeFile(cmdline, 'root=/dev/sda2\n');
    await be.status().then(
      () => assert.unreachable('no slot accepted'),
      (e: unknown) => assert.match((e as Error).message, /pgw\.slot/),
    );
  } finally {
    await t.remove();
  }
});

test.run();
