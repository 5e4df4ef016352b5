import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { FactoryResetCoordinator, type FactoryResetDeps } from '../../../firmware/src/wiring/factory-reset.js';
import { startControlSocket } from '../../../firmware/src/wiring/control-socket.js';
import { createDeviceIdentity } from '../../../hw/identity/device-identity.js';
import type { BoardRestart } from '../../../hw/reset/board-restart.js';

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}

async function world(over: Partial<FactoryResetDeps> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pgw-wreset-'));
  const paths = { dataDir: join(dir, 'var'), configFile: join(dir, 'gateway.json'), identityDir: join(dir, 'identity') };
  mkdirSync(paths.dataDir, { recursive: true });
  writeFileSync(join(paths.dataDir, 'practice.json'), '{}');
  writeFileSync(paths.configFile, JSON.stringify({ device: { id: 'pgw-x', board: 'dev-sim' }, practice: { version: 1 } }));
  const old = await createDeviceIdentity(paths.identityDir);
  const clock = new FakeClock();
  const log: string[] = [];
  let calls = 0;
  const restarts: string[] = [];
  const restart: BoardRestart = {
    kind: 'sim-reboot',
    restart: async (reason) => {
      restarts.push(reason);
    },
  };
  const deps: FactoryResetDeps = {
    paths,
    clock,
    logger: silentLogger(),
    activeCalls: () => calls,
    holdCalls: () => log.push('hold'),
    resumeCalls: () => log.push('resume'),
    otaState: () => null,
    quiesce: async () => {
      // The writers stop while the data is still there.
      log.push(`quiesce practice=${existsSync(join(paths.dataDir, 'practice.json'))} marker=${existsSync(join(paths.dataDir, 'factory-reset.pending'))}`);
    },
    restart,
    ...over,
  };
  return {
    dir,
    paths,
    old,
    clock,
    log,
    restarts,
    coordinator: new FactoryResetCoordinator(deps),
    setCalls: (n: number) => (calls = n),
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

test('with a call up the reset is refused: nothing held, nothing written, nothing erased', async () => {
  const w = await world();
  try {
    w.setCalls(1);
    const a = await w.coordinator.request('panel');
    assert.equal(a, { outcome: 'refused', reason: 'calls-up', message: 'factory reset refused: 1 call up — hang up first, then confirm again' });
    assert.equal(w.log, []);
    assert.ok(existsSync(join(w.paths.dataDir, 'practice.json')));
    assert.not.ok(existsSync(join(w.paths.dataDir, 'factory-reset.pending')));
  } finally {
    w.done();
  }
});

test('refused while an update is on the slots; an idle or downloading agent does not block', async () => {
  for (const [state, refused] of [
    ['trial', true],
    ['installing', true],
    ['rebooting', true],
    ['rolling-back', true],
    ['idle', false],
    ['downloading', false],
  ] as const) {
    const w = await world({ otaState: () => state });
    try {
      const a = await w.coordinator.request('cli');
      assert.is(a.outcome === 'refused' && a.reason === 'update-running', refused, state);
    } finally {
      w.done();
    }
  }
});

test('no calls: hold, marker, writers stopped, erase, then the board restarts after a moment', async () => {
  const w = await world();
  try {
    const a = await w.coordinator.request('panel');
    assert.is(a.outcome, 'erased');
    if (a.outcome !== 'erased') return;
    assert.equal(w.log, ['hold', 'quiesce practice=true marker=true']);
    assert.not.ok(existsSync(join(w.paths.dataDir, 'practice.json')));
    assert.not.ok(existsSync(join(w.paths.dataDir, 'factory-reset.pending')));
    assert.is.not(a.deviceId, w.old.deviceId);
    assert.is(readFileSync(join(w.paths.identityDir, 'claim-code'), 'utf8').trim(), a.claimCode);
    assert.equal(w.restarts, []);
    w.clock.advance(1500);
    await flush();
    assert.equal(w.restarts, ['factory reset']);
  } finally {
    w.done();
  }
});

test('a marker that cannot be written: calls resumed, nothing erased, no restart', async () => {
  const w = await world();
  try {
    rmSync(w.paths.dataDir, { recursive: true });
    writeFileSync(w.paths.dataDir, 'not a directory');
    const a = await w.coordinator.request('panel');
    assert.is(a.outcome === 'refused' && a.reason, 'failed');
    assert.equal(w.log, ['hold', 'resume']);
    w.clock.advance(5000);
    await flush();
    assert.equal(w.restarts, []);
    assert.ok(existsSync(join(w.paths.identityDir, 'device.key')));
  } finally {
    w.done();
  }
});

test('the control socket: POST with the confirmation resets; without it, 400; a refusal is 409', async () => {
  const w = await world();
  const socket = await startControlSocket({ dataDir: w.paths.dataDir, logger: silentLogger(), factoryReset: () => w.coordinator.request('cli') });
  const { request } = await import('node:http');
  const post = (body: string) =>
    new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = request({ socketPath: socket.path, path: '/v1/factory-reset', method: 'POST' }, (res) => {
        let t = '';
        res.on('data', (d: Buffer) => (t += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(t) as Record<string, unknown> }));
      });
      req.on('error', reject);
      req.end(body);
    });
  try {
    assert.is((await post('{}')).status, 400);
    w.setCalls(2);
    const refused = await post('{"confirm":"factory-reset"}');
    assert.is(refused.status, 409);
    assert.is(refused.body.reason, 'calls-up');
    w.setCalls(0);
    const ok = await post('{"confirm":"factory-reset"}');
    assert.is(ok.status, 200);
    assert.is(ok.body.status, 'erased');
    assert.is(ok.body.claimCode, readFileSync(join(w.paths.identityDir, 'claim-code'), 'utf8').trim());
    // The socket file is not data: it survives the erase it served.
    assert.ok(existsSync(socket.path));
  } finally {
    await socket.close();
    w.done();
  }
});

test.run();
