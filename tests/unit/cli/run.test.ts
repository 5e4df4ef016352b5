import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from '../../../firmware/src/cli/run-cli.js';
import { STOP_DEADLINE_MS } from '../../../firmware/src/cli/cmd-run.js';
import type { RunningGateway } from '../../../firmware/src/gateway.js';
import { PgwError } from '../../../firmware/src/util/errors.js';
import { EXAMPLE_PATH, minimalPractice } from '../config/practice-fixture.js';
import { fakeContext } from './fake-context.js';
import type { FakeContext } from './fake-context.js';
import { pgw } from './cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'pgw-cli-run-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A gateway whose stop() is settled by the test. */
function controllableGateway(): { gateway: RunningGateway; stops: number; settle: { resolve(): void; reject(e: Error): void } } {
  const state = {
    stops: 0,
    settle: { resolve: () => undefined, reject: (_e: Error) => undefined } as { resolve(): void; reject(e: Error): void },
    gateway: undefined as unknown as RunningGateway,
  };
  state.gateway = {
    adminUrl: 'http://127.0.0.1:0',
    sipListening: [],
    practice: null,
    stop: () => {
      state.stops++;
      return new Promise<void>((res, rej) => {
        state.settle = { resolve: res, reject: rej };
      });
    },
  };
  return state;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Starts `pgw run` and waits until it is running; `exit` settles when the command ends. */
async function started(ctx: FakeContext, args: string[] = ['run', '--config', EXAMPLE_PATH]): Promise<{ exit: Promise<number> }> {
  const exit = runCli(args, ctx);
  // Reading and validating the config file goes through the thread pool: wait on time, not a tick count,
  // so a busy machine does not fail the test.
  for (let waited = 0; waited < 5_000 && ctx.listeners() === 0; waited += 10) await new Promise((r) => setTimeout(r, 10));
  assert.is(ctx.listeners(), 3, 'SIGTERM, SIGINT and process errors are watched');
  return { exit };
}

test('runs the gateway with absolute paths, ./var by default and the log level', async () => {
  const g = controllableGateway();
  const ctx = fakeContext({ runGateway: async () => g.gateway });
  const { exit } = await started(ctx, ['run', '--config', EXAMPLE_PATH, '--log-level', 'debug']);
  assert.is(ctx.gatewayCalls[0]!.configFile, resolve(EXAMPLE_PATH));
  assert.is(ctx.gatewayCalls[0]!.dataDir, resolve('./var'));
  assert.ok(ctx.logs.some((l) => l.msg === 'gateway running' && l.component === 'cli' && l.level === 'info'));
  ctx.signals.emit('SIGTERM', 'SIGTERM');
  g.settle.resolve();
  assert.is(await exit, 0);
});

test('SIGTERM → stop() → exit 0, and the listeners are removed', async () => {
  const g = controllableGateway();
  const ctx = fakeContext({ runGateway: async () => g.gateway });
  const { exit } = await started(ctx, ['run', '--config', EXAMPLE_PATH, '--data', join(dir, 'd')]);
  assert.is(ctx.gatewayCalls[0]!.dataDir, join(dir, 'd'));
  ctx.signals.emit('SIGTERM', 'SIGTERM');
  assert.is(g.stops, 1);
  await tick();
  g.settle.resolve();
  assert.is(await exit, 0);
  assert.is(ctx.listeners(), 0);
  assert.ok(ctx.logs.some((l) => l.msg === 'stopping' && l.signal === 'SIGTERM'));
  assert.ok(ctx.logs.some((l) => l.msg === 'stopped'));
});

test('SIGINT does the same', async () => {
  const g = controllableGateway();
  const ctx = fakeContext({ runGateway: async () => g.gateway });
  const { exit } = await started(ctx);
  ctx.signals.emit('SIGINT', 'SIGINT');
  g.settle.resolve();
  assert.is(await exit, 0);
});

test('a stop() that hangs: exit 3 at the 5 s deadline, not before', async () => {
  const g = controllableGateway();
  const ctx = fakeContext({ runGateway: async () => g.gateway });
  const { exit } = await started(ctx);
  let code: number | undefined;
  void exit.then((c) => (code = c));
  ctx.signals.emit('SIGTERM', 'SIGTERM');
  ctx.clock.advance(STOP_DEADLINE_MS - 1);
  await tick();
  assert.is(code, undefined);
  ctx.clock.advance(1);
  assert.is(await exit, 3);
  assert.is(STOP_DEADLINE_MS, 5000);
  assert.ok(ctx.logs.some((l) => l.level === 'error' && /did not stop in time/.test(String(l.msg))));
});

test('a stop() that fails: exit 3', async () => {
  const g = controllableGateway();
  const ctx = fakeContext({ runGateway: async () => g.gateway });
  const { exit } = await started(ctx);
  ctx.signals.emit('SIGTERM', 'SIGTERM');
  g.settle.reject(new Error('store flush failed'));
  assert.is(await exit, 3);
  assert.is(ctx.clock.pending(), 0, 'the deadline timer is cancelled');
});

test('a second signal while stopping: exit 3 at once, stop() asked only once', async () => {
  const g = controllableGateway();
  const ctx = fakeContext({ runGateway: async () => g.gateway });
  const { exit } = await started(ctx);
  ctx.signals.emit('SIGINT', 'SIGINT');
  ctx.signals.emit('SIGINT', 'SIGINT');
  assert.is(await exit, 3);
  assert.is(g.stops, 1);
});

test('an uncaught exception stops the gateway and exits 3; an unhandled rejection is only logged', async () => {
  const g = controllableGateway();
  const ctx = fakeContext({ runGateway: async () => g.gateway });
  const { exit } = await started(ctx);
  ctx.processErrors.emit('error', 'unhandledRejection', new Error('stray'));
  assert.is(g.stops, 0);
  assert.ok(ctx.logs.some((l) => /unhandled promise rejection/.test(String(l.msg))));
  ctx.processErrors.emit('error', 'uncaughtException', new Error('boom'));
  assert.is(g.stops, 1);
  g.settle.resolve();
  assert.is(await exit, 3);
});

test('the gateway failing to start: exit 3, logged', async () => {
  const ctx = fakeContext({
    runGateway: async () => {
      throw new PgwError('PGW_E_SIP_TRANSPORT', 'cannot bind udp 0.0.0.0:5060');
    },
  });
  assert.is(await runCli(['run', '--config', EXAMPLE_PATH], ctx), 3);
  const line = ctx.logs.find((l) => l.msg === 'the gateway failed to start');
  assert.ok(line);
  assert.match(JSON.stringify(line), /cannot bind udp/);
});

test('the gateway refusing its config: exit 1 with the problem lines', async () => {
  const ctx = fakeContext({
    runGateway: async () => {
      throw new PgwError('PGW_E_CONFIG_INVALID', 'bad', { context: { errors: [{ path: 'practice.x', message: 'no' }] } });
    },
  });
  assert.is(await runCli(['run', '--config', EXAMPLE_PATH], ctx), 1);
  assert.match(ctx.stderr, /^practice\.x: no\n/);
});

test('an invalid gateway file: exit 1 before the gateway is built, one line per problem', async () => {
  const practice = minimalPractice();
  practice.extensions[2].number = '201';
  const f = join(dir, 'invalid.json');
  writeFileSync(f, JSON.stringify({ device: { id: 'x' }, practice }));
  const ctx = fakeContext();
  assert.is(await runCli(['run', '--config', f], ctx), 1);
  assert.is(ctx.gatewayCalls.length, 0);
  assert.match(ctx.stderr, /^practice\.extensions\[2\]\.number: 201 is already used by extensions\[0\]\npgw run: .* is not a valid gateway file \(1 problem\)\n$/);
});

test('usage errors: no --config, a bad log level, a positional', async () => {
  for (const args of [['run'], ['run', '--config', EXAMPLE_PATH, '--log-level', 'loud'], ['run', 'file.json'], ['run', '--config']]) {
    const ctx = fakeContext();
    assert.is(await runCli(args, ctx), 2, args.join(' '));
    assert.match(ctx.stderr, /Usage:/);
  }
});

test('as a process: an unreadable config file is exit 1', async () => {
  const r = await pgw(['run', '--config', join(dir, 'absent.json'), '--data', join(dir, 'var')]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /pgw run: cannot read .*absent\.json: no such file/);
});

test.run();
