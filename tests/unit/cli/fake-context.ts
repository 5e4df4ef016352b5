/** An in-process CliContext: captured output, a fake gateway, fake signals and a fake clock. */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import type { CliContext } from '../../../firmware/src/cli/context.js';
import type { GatewayOptions, RunningGateway } from '../../../firmware/src/gateway.js';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { createLogger } from '../../../firmware/src/util/logger.js';

export interface FakeContext extends CliContext {
  stdout: string;
  stderr: string;
  logs: Array<Record<string, unknown>>;
  clock: FakeClock;
  signals: EventEmitter;
  processErrors: EventEmitter;
  gatewayCalls: GatewayOptions[];
  listeners(): number;
}

export function fakeContext(options: { runGateway?: (o: GatewayOptions) => Promise<RunningGateway>; env?: Record<string, string> } = {}): FakeContext {
  const signals = new EventEmitter();
  const processErrors = new EventEmitter();
  const ctx: FakeContext = {
    stdout: '',
    stderr: '',
    logs: [],
    clock: new FakeClock(),
    signals,
    processErrors,
    gatewayCalls: [],
    out: (t) => {
      ctx.stdout += t;
    },
    err: (t) => {
      ctx.stderr += t;
    },
    env: options.env ?? {},
    runGateway: async (o) => {
      ctx.gatewayCalls.push(o);
      if (!options.runGateway) throw new Error('no gateway in this test');
      return options.runGateway(o);
    },
    createLogger: (level) =>
      createLogger({
        level,
        destination: new Writable({
          write(chunk: Buffer, _e, cb) {
            ctx.logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
            cb();
          },
        }),
      }),
    onSignal: (names, fn) => {
      for (const n of names) signals.on(n, fn);
      return () => {
        for (const n of names) signals.off(n, fn);
      };
    },
    onProcessError: (fn) => {
      processErrors.on('error', fn);
      return () => processErrors.off('error', fn);
    },
    listeners: () => signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT') + processErrors.listenerCount('error'),
  };
  return ctx;
}
