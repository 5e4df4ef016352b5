/**
 * Runs the real gateway (`pgw run`, from the TypeScript source through tsx,
 * so a test always runs the code as it stands) inside a namespace of a test
 * topology, with a gateway file the test writes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Topology } from './netns.js';
import { spawnManaged, waitUntil, type ManagedProcess } from './proc.js';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface TestExtension {
  number: string;
  name: string;
  password: string;
}

export interface GatewayUnderTest {
  proc: ManagedProcess;
  configFile: string;
  dataDir: string;
  /** JSON log lines so far. */
  logs(): Array<Record<string, unknown>>;
  /** Resolve when a log line matches. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface StartGatewayOptions {
  /** Where to run it; without a topology it runs in the test's own namespace (loopback tests). */
  topo?: Topology;
  node?: string;
  dir: string;
  practice: Record<string, unknown>;
  device?: Record<string, unknown>;
  logLevel?: 'debug' | 'info' | 'warn';
}

/** A practice document for tests: the given extensions and groups, UDP+TCP on 5060. */
export function testPractice(opts: {
  extensions: TestExtension[];
  huntGroups?: Array<Record<string, unknown>>;
  extra?: Record<string, unknown>;
  calls?: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    version: 1,
    site: { name: 'Test Surgery', timezone: 'Europe/London' },
    sip: {
      domain: 'test.pgw.local',
      listen: [
        { transport: 'udp', host: '0.0.0.0', port: 5060 },
        { transport: 'tcp', host: '0.0.0.0', port: 5060 },
      ],
      rtp: { portMin: 20000, portMax: 20999 },
    },
    extensions: opts.extensions,
    huntGroups: opts.huntGroups ?? [],
    ...(opts.calls ? { calls: opts.calls } : {}),
    ...(opts.extra ?? {}),
  };
}

export async function startGateway(o: StartGatewayOptions): Promise<GatewayUnderTest> {
  mkdirSync(o.dir, { recursive: true });
  const configFile = join(o.dir, 'gateway.json');
  const dataDir = join(o.dir, 'var');
  writeFileSync(
    configFile,
    JSON.stringify({ device: { id: 'pgw-test', admin: { listen: '127.0.0.1:8080' }, ...(o.device ?? {}) }, practice: o.practice }, null, 2),
  );
  const args = [
    '--import',
    'tsx',
    join(ROOT, 'firmware/src/cli/main.ts'),
    'run',
    '--config',
    configFile,
    '--data',
    dataDir,
    '--log-level',
    o.logLevel ?? 'info',
  ];
  const proc = o.topo && o.node ? o.topo.spawn(o.node, process.execPath, args, { cwd: ROOT }) : spawnManaged(process.execPath, args, { cwd: ROOT, label: 'pgw' });
  const logs = (): Array<Record<string, unknown>> =>
    proc.output
      .toString()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  const waitForLog = (match: (line: Record<string, unknown>) => boolean, timeoutMs = 20_000) =>
    waitUntil(
      () => {
        if (proc.hasExited()) throw new Error(`the gateway exited:\n${proc.output.toString().slice(-3000)}`);
        return logs().find(match);
      },
      { timeoutMs, what: 'a gateway log line' },
    );
  await waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('ready:'), 30_000);
  return {
    proc,
    configFile,
    dataDir,
    logs,
    waitForLog,
    stop: async () => {
      await proc.stop({ signal: 'SIGTERM', graceMs: 6000 });
    },
  };
}
