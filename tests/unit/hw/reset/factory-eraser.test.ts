import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import { DeviceSchema } from '../../../../firmware/src/config/device-schema.js';
import { readDeviceIdentity } from '../../../../hw/identity/device-identity.js';
import {
  beginFactoryReset,
  completeFactoryReset,
  factoryReset,
  finishPendingFactoryReset,
  readResetMarker,
  type FactoryResetPaths,
  type ResetStep,
} from '../../../../hw/reset/factory-eraser.js';

const NOW = () => Date.parse('2025-03-01T10:00:00Z');

function put(path: string, text = 'x'): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Every file under dir, relative, sorted. */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** A box's /data as the gateway leaves it after a while in a practice. */
function box(): { root: string; paths: FactoryResetPaths; conf: string } {
  const root = mkdtempSync(join(tmpdir(), 'pgw-reset-'));
  const data = join(root, 'data/pgw');
  const ident = join(root, 'data/identity');
  const conf = join(root, 'data/config');
  put(join(data, 'practice.json'), '{"schemaVersion":1,"applied":{}}');
  put(join(data, 'practice.json.v0.bak'));
  put(join(data, 'practice.json.corrupt-20250101'));
  put(join(data, 'sync/cdr-outbox.jsonl'), '{"id":"c1","from":"201","to":"01632960123"}\n');
  put(join(data, 'ota/state.json'), '{"state":"idle"}');
  put(join(data, 'ota/download-0123456789abcdef.bundle'));
  put(join(data, 'recordings/2025/02/call-1.wav'));
  put(join(data, 'voicemail/201/msg-1.wav'));
  put(join(data, 'something-a-later-version-writes.json'));
  put(join(data, 'slots-sim/bootenv.json'), '{"primary":"b"}');
  put(join(data, 'slots-sim/booted.json'), '{"slot":"b"}');
  put(join(data, 'slots-sim/a.img'));
  put(join(data, 'control.sock'));
  for (const f of ['device.key', 'device.pub', 'device-id', 'claim-code', 'claimed']) put(join(ident, f), 'old');
  put(join(conf, 'tls/client.crt'));
  put(join(conf, 'tls/client.key'));
  put(join(conf, 'tls/sip.pem'));
  put(join(conf, 'tls/not-named.txt'));
  put(
    join(conf, 'gateway.json'),
    JSON.stringify({
      device: {
        id: 'pgw-0123456789ab',
        board: 'rpi4-poe',
        interfaces: { lan: 'eth0', hscn: 'eth1' },
        admin: { listen: '0.0.0.0:8080' },
        cloud: { mqtt: { url: 'mqtts://cloud.example:8883', ca: '/etc/pgw/cloud-ca.pem', cert: join(conf, 'tls/client.crt'), key: join(conf, 'tls/client.key') } },
        ota: { soakSeconds: 120 },
      },
      practice: { version: 3, sip: { listen: [{ transport: 'tls', tls: { cert: join(conf, 'tls/sip.pem'), key: join(conf, 'tls/client.key') } }] } },
    }),
  );
  return { root, conf, paths: { dataDir: data, configFile: join(conf, 'gateway.json'), identityDir: ident } };
}

const KEPT_DATA = ['control.sock', 'slots-sim/a.img', 'slots-sim/booted.json', 'slots-sim/bootenv.json'];

function assertFactoryFresh(b: ReturnType<typeof box>, deviceId: string, claimCode: string): void {
  assert.equal(files(b.paths.dataDir), KEPT_DATA);
  assert.equal(files(b.paths.identityDir), ['claim-code', 'device-id', 'device.key', 'device.pub']);
  assert.equal(files(b.conf), ['gateway.json', 'tls/not-named.txt']);
  assert.is(readFileSync(join(b.paths.identityDir, 'claim-code'), 'utf8').trim(), claimCode);
  assert.is(readFileSync(join(b.paths.dataDir, 'slots-sim/bootenv.json'), 'utf8'), '{"primary":"b"}');
  const file = JSON.parse(readFileSync(b.paths.configFile, 'utf8')) as { device: Record<string, unknown> };
  assert.equal(file, { device: { id: deviceId, board: 'rpi4-poe', admin: { listen: '0.0.0.0:8080' }, ota: { soakSeconds: 120 } } });
  assert.ok(DeviceSchema.safeParse(file.device).success, 'the rewritten device section is valid');
}

test('a reset erases exactly the practice data and the identity, keeps the slots, and rewrites the gateway file', async () => {
  const b = box();
  try {
    const r = await factoryReset(b.paths, { source: 'panel', now: NOW });
    assert.equal(r.erased.filter((e) => e.startsWith('data/')), [
      'data/ota',
      'data/practice.json',
      'data/practice.json.corrupt-20250101',
      'data/practice.json.v0.bak',
      'data/recordings',
      'data/something-a-later-version-writes.json',
      'data/sync',
      'data/voicemail',
    ]);
    assert.equal(r.erased.filter((e) => e.startsWith('identity/')), ['identity/claim-code', 'identity/claimed', 'identity/device-id', 'identity/device.key', 'identity/device.pub']);
    assert.equal(r.erased.filter((e) => e.startsWith('/')), [join(b.conf, 'tls/client.crt'), join(b.conf, 'tls/client.key'), join(b.conf, 'tls/sip.pem')]);
    assert.is.not(r.deviceId, 'pgw-0123456789ab');
    assertFactoryFresh(b, r.deviceId, r.claimCode);
    assert.is((await readDeviceIdentity(b.paths.identityDir))?.deviceId, r.deviceId);
    assert.is(await readResetMarker(b.paths.dataDir), null);
  } finally {
    rmSync(b.root, { recursive: true, force: true });
  }
});

/** Plays a power cut: the hook throws after `after`; the marker is left as a real cut would leave it. */
async function cutAfter(b: ReturnType<typeof box>, where: { removed?: string; step?: ResetStep }): Promise<void> {
  const marker = await beginFactoryReset(b.paths, { source: 'panel', now: NOW });
  const cut = new Error('power cut');
  await completeFactoryReset(b.paths, marker, {
    onRemoved: (w) => {
      if (w === where.removed) throw cut;
    },
    onStep: (s) => {
      if (s === where.step) throw cut;
    },
  }).then(
    () => assert.unreachable('the cut should have stopped the erase'),
    (e: Error) => assert.match(e.message, /power cut/),
  );
}

test('a power cut in the middle of the data erase: the marker stays and the next start finishes the erase', async () => {
  const b = box();
  try {
    await cutAfter(b, { removed: 'data/ota' });
    // Half done: the OTA files are gone, the practice is not, the old identity is still there.
    assert.ok(existsSync(join(b.paths.dataDir, 'factory-reset.pending')));
    assert.ok(existsSync(join(b.paths.dataDir, 'practice.json')));
    assert.not.ok(existsSync(join(b.paths.dataDir, 'ota')));
    assert.is(readFileSync(join(b.paths.identityDir, 'device-id'), 'utf8'), 'old');
    const r = await finishPendingFactoryReset(b.paths, silentLogger());
    assert.ok(r);
    assertFactoryFresh(b, r.deviceId, r.claimCode);
    // The next start after that finds nothing pending and touches nothing.
    assert.is(await finishPendingFactoryReset(b.paths, silentLogger()), null);
    assertFactoryFresh(b, r.deviceId, r.claimCode);
  } finally {
    rmSync(b.root, { recursive: true, force: true });
  }
});

test('a cut after the old identity went, or after the new one was made, still ends with one consistent identity', async () => {
  for (const step of ['identity', 'new-identity', 'gateway-file'] as const) {
    const b = box();
    try {
      await cutAfter(b, { step });
      assert.ok(existsSync(join(b.paths.dataDir, 'factory-reset.pending')), step);
      const r = await finishPendingFactoryReset(b.paths, silentLogger());
      assert.ok(r);
      assertFactoryFresh(b, r.deviceId, r.claimCode);
      // The gateway file names the identity that is on disk, not one made by the cut run.
      assert.is((await readDeviceIdentity(b.paths.identityDir))?.deviceId, r.deviceId);
    } finally {
      rmSync(b.root, { recursive: true, force: true });
    }
  }
});

test('the marker keeps what the gateway file had: a cut after the file was rewritten keeps the board and admin', async () => {
  const b = box();
  try {
    await cutAfter(b, { step: 'gateway-file' });
    const first = JSON.parse(readFileSync(b.paths.configFile, 'utf8')) as { device: { board: string } };
    assert.is(first.device.board, 'rpi4-poe');
    const r = await finishPendingFactoryReset(b.paths, silentLogger());
    assert.ok(r);
    assertFactoryFresh(b, r.deviceId, r.claimCode);
  } finally {
    rmSync(b.root, { recursive: true, force: true });
  }
});

test('a gateway file and identity inside the data directory (`make run`) are left to their own steps', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pgw-reset-dev-'));
  try {
    const data = join(root, 'var');
    const paths = { dataDir: data, configFile: join(data, 'gateway.dev.json'), identityDir: join(data, 'identity') };
    put(paths.configFile, JSON.stringify({ device: { id: 'pgw-dev', board: 'dev-sim', admin: { listen: '127.0.0.1:8080' } }, practice: { version: 1 } }));
    put(join(data, 'practice.json'));
    put(join(data, 'identity/claimed'));
    // A cut right after the data step: the gateway file must still be there for the next start.
    await cutAfter({ root, conf: data, paths }, { step: 'data' });
    assert.equal(files(data), ['factory-reset.pending', 'gateway.dev.json', 'identity/claimed']);
    const r = await finishPendingFactoryReset(paths, silentLogger());
    assert.ok(r);
    assert.equal(files(data), ['gateway.dev.json', 'identity/claim-code', 'identity/device-id', 'identity/device.key', 'identity/device.pub']);
    assert.equal(JSON.parse(readFileSync(paths.configFile, 'utf8')), { device: { id: r.deviceId, board: 'dev-sim', admin: { listen: '127.0.0.1:8080' } } });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an unreadable gateway file still resets, to the generic board', async () => {
  const b = box();
  try {
    writeFileSync(b.paths.configFile, '{ not json');
    const r = await factoryReset(b.paths, { source: 'cli-offline', now: NOW });
    assert.equal(JSON.parse(readFileSync(b.paths.configFile, 'utf8')), { device: { id: r.deviceId, board: 'generic' } });
    assert.equal(files(b.paths.dataDir), KEPT_DATA);
    // Files it named cannot be known: the ones nobody named stay.
    assert.equal(files(b.conf), ['gateway.json', 'tls/client.crt', 'tls/client.key', 'tls/not-named.txt', 'tls/sip.pem']);
  } finally {
    rmSync(b.root, { recursive: true, force: true });
  }
});

test.run();
