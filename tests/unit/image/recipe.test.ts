/**
 * A smoke test of the image recipe's files that builds nothing: the scripts
 * parse, the systemd units say what the appliance needs, the partition
 * tables agree with the board profiles, grub.cfg and fstab, and the first
 * boot script makes a key, a device id and a claim code.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boardProfile } from '../../../hw/boards/index.js';
import { BOOT_TREE_DIR, installBootTree } from '../../../hw/slots/boot-tree.js';

const IMAGE = new URL('../../../image/', import.meta.url).pathname;
const read = (p: string) => readFileSync(join(IMAGE, p), 'utf8');

/** systemd unit files: sections of Key=Value lines (systemd.syntax(7)), keys may repeat. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let cur: Map<string, string[]> | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const sec = /^\[([A-Za-z]+)\]$/.exec(line);
    if (sec) {
      cur = new Map();
      sections.set(sec[1]!, cur);
      return;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (!kv || !cur) throw new Error(`line ${i + 1} is not Key=Value inside a section: ${raw}`);
    cur.set(kv[1]!, [...(cur.get(kv[1]!) ?? []), kv[2]!]);
  });
  return sections;
}

const one = (u: Map<string, Map<string, string[]>>, section: string, key: string) => u.get(section)?.get(key)?.at(-1);

/** The `partition NAME { ... }` blocks of a genimage config, in order. */
function genimagePartitions(text: string): Array<{ name: string; image?: string; type?: string; size?: string }> {
  const out: Array<{ name: string; image?: string; type?: string; size?: string }> = [];
  const re = /partition\s+([a-z0-9-]+)\s*\{([^}]*)\}/g;
  for (const m of text.matchAll(re)) {
    const body = m[2]!;
    const get = (k: string) => new RegExp(`${k}\\s*=\\s*"?([^"\\n]+)"?`).exec(body)?.[1]?.trim();
    out.push({ name: m[1]!, image: get('image'), type: get('partition-type-uuid'), size: get('size') });
  }
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? (n === 'out' ? [] : walk(p)) : [p];
  });
}

test('every shell script parses (bash -n) and the entry points are executable', () => {
  const scripts = walk(IMAGE).filter((p) => p.endsWith('.sh'));
  assert.ok(scripts.length >= 5, scripts.join(' '));
  for (const s of scripts) {
    const r = spawnSync('bash', ['-n', s], { encoding: 'utf8' });
    assert.is(r.status, 0, `${s}: ${r.stderr}`);
  }
  for (const s of ['build.sh', 'ota-bundle.sh', 'qemu-smoke.sh', 'rootfs/usr/lib/pgw/firstboot.sh', 'rootfs/usr/bin/pgw']) {
    assert.ok((statSync(join(IMAGE, s)).mode & 0o111) !== 0, `${s} is executable`);
  }
});

test('pgw on the console runs the bundle pgw.service runs, passing every argument', () => {
  const wrapper = read('rootfs/usr/bin/pgw');
  const service = one(parseUnit(read('rootfs/etc/systemd/system/pgw.service')), 'Service', 'ExecStart') ?? '';
  const bundle = service.split(' ').slice(0, 2).join(' ');
  assert.ok(wrapper.includes(`exec ${bundle} "$@"`), `${bundle} in:\n${wrapper}`);
  const r = spawnSync('sh', ['-n', join(IMAGE, 'rootfs/usr/bin/pgw')], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
});

test('pgw.service: restart policy, watchdog, notify access, stop deadline, data mount', () => {
  const u = parseUnit(read('rootfs/etc/systemd/system/pgw.service'));
  assert.is(one(u, 'Service', 'Restart'), 'always');
  assert.ok(Number(one(u, 'Service', 'WatchdogSec')) > 0);
  assert.is(one(u, 'Service', 'Type'), 'notify');
  assert.is(one(u, 'Service', 'NotifyAccess'), 'all', 'the sd_notify helper is a child process');
  // CONTRACT.md: SIGTERM ends the process within 5 s.
  assert.ok(Number(one(u, 'Service', 'TimeoutStopSec')) >= 5);
  assert.match(one(u, 'Service', 'ExecStart') ?? '', /^\/usr\/bin\/node \/usr\/lib\/pgw\/app\/dist\/cli\.js run --config \/data\/config\/gateway\.json --data \/data\/pgw$/);
  assert.is(one(u, 'Unit', 'RequiresMountsFor'), '/data');
  assert.match(one(u, 'Unit', 'Requires') ?? '', /pgw-firstboot\.service/);
  assert.is(one(u, 'Install', 'WantedBy'), 'multi-user.target');
});

test('first-boot unit runs once, before the gateway', () => {
  const u = parseUnit(read('rootfs/etc/systemd/system/pgw-firstboot.service'));
  assert.is(one(u, 'Service', 'Type'), 'oneshot');
  assert.is(one(u, 'Service', 'ExecStart'), '/usr/lib/pgw/firstboot.sh');
  assert.is(one(u, 'Unit', 'ConditionPathExists'), '!/data/identity/device.key');
  assert.is(one(u, 'Unit', 'Before'), 'pgw.service');
  const wd = parseUnit(read('rootfs/etc/systemd/system.conf.d/pgw-watchdog.conf'));
  assert.ok(/^\d+s$/.test(one(wd, 'Manager', 'RuntimeWatchdogSec') ?? ''), 'systemd pets the hardware watchdog');
});

test('x86 partition table: ESP, root A, root B (same size), data; agrees with grub.cfg and the board profile', () => {
  const parts = genimagePartitions(read('boards/x86-poe/genimage.cfg'));
  assert.equal(parts.map((p) => p.name), ['efi', 'root-a', 'root-b', 'data']);
  assert.is(parts[0]!.type, 'U');
  assert.is(parts[1]!.size, parts[2]!.size);
  assert.is(parts[1]!.image, 'rootfs.ext4');
  assert.match(read('boards/x86-poe/genimage.cfg'), /partition-table-type = "gpt"/);
  const grub = read('boards/x86-poe/grub.cfg');
  // root A is partition 2 and root B 3, as in the table above.
  assert.match(grub, /if \[ "\$pgw_slot" = "b" \]; then set pgw_part=3; else set pgw_part=2; fi/);
  // The variables hw/slots/grub.ts reads and writes.
  const loads = /^load_env .*$/m.exec(grub)?.[0] ?? '';
  for (const v of ['pgw_primary', 'pgw_try', 'pgw_trying']) assert.match(loads, new RegExp(`\\b${v}\\b`));
  assert.match(grub, /^save_env .*pgw_try pgw_trying$/m);
  assert.match(grub, /root=PARTLABEL=root-\$pgw_slot ro /);
  assert.match(grub, /pgw\.slot=\$pgw_slot/);
  assert.match(read('boards/x86-poe/grub-early.cfg'), /--label PGWEFI/);
  assert.match(read('build.sh'), /-n PGWEFI/);
  const b = boardProfile('x86-poe');
  assert.ok(b.slots.kind === 'grub');
  assert.equal(b.slots.rootDevices, { a: '/dev/disk/by-partlabel/root-a', b: '/dev/disk/by-partlabel/root-b' });
  assert.ok(b.slots.envFile.startsWith('/boot/efi/'), 'grubenv lives on the ESP, mounted at /boot/efi');
  assert.match(read('build.sh'), /grub-editenv "\$esp\/grub\/grubenv" set pgw_primary=a/);
});

test('Raspberry Pi partition table matches the rpi-tryboot slots of the board profiles', () => {
  for (const board of ['rpi4-poe', 'rpi5-poe']) {
    const parts = genimagePartitions(read(`boards/${board}/genimage.cfg`));
    assert.equal(parts.map((p) => p.name), ['bootsel', 'boot-a', 'boot-b', 'root-a', 'root-b', 'data']);
    const b = boardProfile(board);
    assert.ok(b.slots.kind === 'rpi-tryboot');
    for (const slot of ['a', 'b'] as const) {
      const s = b.slots.slots[slot];
      assert.is(parts[s.bootPartition - 1]!.name, `boot-${slot}`);
      assert.is(s.rootDevice, `/dev/disk/by-partlabel/root-${slot}`);
    }
    const auto = read(`boards/${board}/autoboot.txt`);
    assert.match(auto, /\[all\][^[]*boot_partition=2/);
    assert.match(auto, /\[tryboot\][^[]*boot_partition=3/);
    assert.match(read(`boards/${board}/cmdline.txt`), /root=PARTLABEL=root-@SLOT@ ro .*pgw\.slot=@SLOT@/);
  }
});

test('fstab: data partition, tmpfs for the writable bits, no rw root', () => {
  const fstab = read('rootfs/etc/fstab')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => l.trim().split(/\s+/));
  for (const f of fstab) assert.is(f.length, 6, f.join(' '));
  const byMount = new Map(fstab.map((f) => [f[1]!, f]));
  assert.is(byMount.get('/data')?.[0], 'PARTLABEL=data');
  assert.is(byMount.get('/'), undefined, 'the root stays as the kernel mounted it: read-only');
  for (const m of ['/tmp', '/var/log', '/var/tmp']) assert.is(byMount.get(m)?.[2], 'tmpfs');
});

test('udev rules make every device path the board profiles name', () => {
  const rules = read('rootfs/etc/udev/rules.d/70-pgw-devices.rules');
  for (const name of ['rpi4-poe', 'rpi5-poe', 'x86-poe']) {
    const b = boardProfile(name);
    for (const dev of [b.panel, b.modem, b.poe]) {
      assert.ok(dev);
      const link = dev.path.replace('/dev/', '');
      assert.match(rules, new RegExp(`SYMLINK\\+="${link}"`), `${name}: ${dev.path}`);
    }
  }
});

test('first boot makes the key pair, device id, claim code and gateway file, and writes the panel', () => {
  const root = mkdtempSync(join(tmpdir(), 'pgw-firstboot-'));
  try {
    mkdirSync(join(root, 'etc/pgw'), { recursive: true });
    writeFileSync(join(root, 'etc/pgw/board'), 'x86-poe\n');
    // A regular file stands in for the panel's tty (the script only writes it).
    const panel = join(root, 'panel.txt');
    spawnSync('mkfifo', [panel]);
    const reader = spawnSync('bash', ['-c', `cat "${panel}" > "${panel}.out" & PGW_ROOT="${root}" PGW_PANEL="${panel}" "${join(IMAGE, 'rootfs/usr/lib/pgw/firstboot.sh')}"; wait`], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.is(reader.status, 0, reader.stderr);
    const id = readFileSync(join(root, 'data/identity/device-id'), 'utf8').trim();
    const claim = readFileSync(join(root, 'data/identity/claim-code'), 'utf8').trim();
    assert.match(id, /^pgw-[0-9a-f]{12}$/);
    assert.match(claim, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    assert.match(readFileSync(join(root, 'data/identity/device.key'), 'utf8'), /BEGIN PRIVATE KEY/);
    assert.is(statSync(join(root, 'data/identity/device.key')).mode & 0o077, 0, 'the private key is not readable by others');
    const gw = JSON.parse(readFileSync(join(root, 'data/config/gateway.json'), 'utf8')) as { device: { id: string; board: string } };
    assert.equal([gw.device.id, gw.device.board], [id, 'x86-poe']);
    assert.ok(reader.stdout.includes(`claim code ${claim}`));
    const lcd = readFileSync(`${panel}.out`, 'utf8').split('\n');
    assert.equal(lcd.slice(0, 3), ['CLR', 'TXT 0 CLAIM CODE', `TXT 1 ${claim}`]);
    // A second boot keeps the identity.
    const again = spawnSync(join(IMAGE, 'rootfs/usr/lib/pgw/firstboot.sh'), { env: { ...process.env, PGW_ROOT: root, PGW_PANEL: join(root, 'none') }, encoding: 'utf8' });
    assert.is(again.status, 0, again.stderr);
    assert.is(readFileSync(join(root, 'data/identity/device-id'), 'utf8').trim(), id);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the build script covers the issue: mmdebstrap bookworm, Node, dist, units enabled, genimage', () => {
  const b = read('build.sh');
  assert.match(b, /SUITE=bookworm/);
  assert.match(b, /mmdebstrap --mode=root/);
  assert.match(b, /node_package_of_arch|node-linux-/);
  assert.match(b, /systemctl enable pgw\.service pgw-firstboot\.service/);
  assert.match(b, /genimage --config/);
  assert.match(b, /nice -n 19/);
});

/** Regular files under `dir`: relative path → content. */
function filesOf(dir: string, rel = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const n of readdirSync(join(dir, rel)).sort()) {
    const r = rel === '' ? n : `${rel}/${n}`;
    if (statSync(join(dir, r)).isDirectory()) for (const [k, v] of filesOf(dir, r)) out.set(k, v);
    else out.set(r, readFileSync(join(dir, r)));
  }
  return out;
}

test('Pi boot partitions: the image build and the update agent fill them from the same tree in the root', async () => {
  for (const board of ['rpi4-poe', 'rpi5-poe']) {
    const tmp = mkdtempSync(join(tmpdir(), 'pgw-boottree-'));
    try {
      // A root file system as mmdebstrap leaves it: raspi-firmware's /boot/firmware (with its own
      // kernel copy, config.txt and cmdline.txt) and the Debian kernel in /boot.
      const rootfs = join(tmp, 'rootfs');
      const put = (rel: string, content: string) => {
        mkdirSync(join(rootfs, rel, '..'), { recursive: true });
        writeFileSync(join(rootfs, rel), content);
      };
      put('boot/firmware/start4.elf', 'firmware');
      put('boot/firmware/bcm2711-rpi-4-b.dtb', 'dtb');
      put('boot/firmware/overlays/uart3.dtbo', 'overlay');
      put('boot/firmware/vmlinuz', 'stale kernel copy');
      put('boot/firmware/config.txt', 'raspi-firmware default');
      put('boot/firmware/cmdline.txt', 'root=/dev/mmcblk0p2');
      put('boot/vmlinuz-6.1.0-21-arm64', 'kernel 6.1.0-21');
      put('boot/initrd.img-6.1.0-21-arm64', 'initramfs 6.1.0-21');
      const r = spawnSync(
        'bash',
        ['-c', `set -euo pipefail; . "${IMAGE}lib/common.sh"; make_boot_tree "$1" 6.1.0-21-arm64 "$2"; for s in a b; do fill_boot_partition "$1/${BOOT_TREE_DIR}" $s "$3/boot-$s"; done`, 'x', rootfs, join(IMAGE, 'boards', board), tmp],
        { encoding: 'utf8' },
      );
      assert.is(r.status, 0, r.stderr);
      const tree = join(rootfs, BOOT_TREE_DIR);
      assert.is(statSync(join(tree, 'vmlinuz')).nlink, 2, 'the kernel is a hard link, not a second copy');
      assert.is(readFileSync(join(rootfs, 'boot/firmware/config.txt'), 'utf8'), 'raspi-firmware default', 'the board files do not write through the hard links');
      assert.is(readFileSync(join(tree, 'cmdline.txt'), 'utf8'), read(`boards/${board}/cmdline.txt`), 'the tree keeps the templates');
      for (const slot of ['a', 'b'] as const) {
        const built = filesOf(join(tmp, `boot-${slot}`));
        assert.equal([...built.keys()], ['bcm2711-rpi-4-b.dtb', 'cmdline.txt', 'config.txt', 'initrd.img', 'overlays/uart3.dtbo', 'start4.elf', 'vmlinuz']);
        assert.is(built.get('vmlinuz')!.toString(), 'kernel 6.1.0-21');
        const cmdline = built.get('cmdline.txt')!.toString();
        assert.match(cmdline, new RegExp(`root=PARTLABEL=root-${slot} `));
        assert.match(cmdline, new RegExp(`pgw\\.slot=${slot} `));
        assert.not.match(cmdline + built.get('config.txt')!.toString(), /@SLOT@/);
        // The agent's copy of the same tree is byte for byte the build's.
        const agent = join(tmp, `agent-${slot}`);
        mkdirSync(agent);
        writeFileSync(join(agent, 'leftover'), 'x');
        await installBootTree(rootfs, agent, slot);
        assert.equal(filesOf(agent), built);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
});

test.run();
