/**
 * The gateway as built (`dist/cli.js`, what `make build` makes) running for a
 * benchmark inside a network namespace the benchmark owns, on the
 * namespace's loopback: SIP on 127.0.0.1:5060 (UDP), RTP from the practice's
 * port range, the admin API on 127.0.0.1:8080 reached through a Unix-socket
 * forward (tests/support/ns-forward.ts).
 *
 * Why a namespace with only `lo`: nothing else on this shared machine binds
 * in it (no port clashes with other engineers' tests), and the kernel's UDP
 * counters (/proc/net/snmp: receive-buffer drops) are the benchmark's alone,
 * so a loss figure can be read from them honestly.
 *
 * The gateway's stdout (JSON log lines at `info`, the production default) goes
 * to a file on tmpfs, not through a pipe into the benchmark process, so the
 * log volume under load (one line per registration) costs the gateway a
 * write, not the benchmark a parse.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forwardTcpFromNamespace, getJsonOverSocket, type NsForward } from '../../support/ns-forward.js';
import { nsRun, nsSpawn, waitForListening } from '../../support/netns.js';
import { HarnessError, keepTestFiles, waitUntil, type ManagedProcess } from '../../support/proc.js';
import type { SipUser } from '../../support/users.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
export const GATEWAY_CLI = join(ROOT, 'dist/cli.js');

export const SIP_HOST = '127.0.0.1';
export const SIP_PORT = 5060;
const ADMIN_PORT = 8080;

export interface BenchGateway {
  readonly proc: ManagedProcess;
  readonly pid: number;
  /** host:port for SIPp. */
  readonly sipTarget: string;
  readonly logPath: string;
  /** GET on the admin API (JSON). */
  api<T>(path: string): Promise<T>;
  /** JSON log lines written so far. */
  logLines(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface BenchGatewayOptions {
  netns: string;
  dir: string;
  users: readonly SipUser[];
  rtp?: { portMin: number; portMax: number };
  logLevel?: 'info' | 'warn' | 'debug';
  /** calls.deadMediaSeconds (default: the product default). */
  deadMediaSeconds?: number;
  /**
   * Extra node options before the script (e.g. ['--cpu-prof'] to find a bottleneck); default from
   * PGW_BENCH_GATEWAY_NODE_ARGS (space-separated), so any benchmark can be profiled without editing it:
   *   PGW_BENCH_GATEWAY_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' node --import tsx tests/bench/run.ts sip-media --no-doc
   */
  nodeArgs?: string[];
  /** device.media.workers; default from PGW_BENCH_MEDIA_WORKERS, else the product default (auto). */
  mediaWorkers?: number | 'auto';
  /** Run the gateway on these CPUs only (taskset -c list, e.g. "1"); default: anywhere. */
  cpus?: string;
}

function envMediaWorkers(): number | 'auto' {
  const v = process.env.PGW_BENCH_MEDIA_WORKERS;
  return v === undefined || v === '' || v === 'auto' ? 'auto' : Number(v);
}

/** Throws when dist/cli.js is missing or older than the firmware sources it was built from. */
export function assertBuilt(): void {
  if (!existsSync(GATEWAY_CLI)) throw new HarnessError(`${GATEWAY_CLI} is missing: run make build (make bench does)`);
}

/** When dist/cli.js was built (ms since the epoch). */
export function builtAt(): number {
  return statSync(GATEWAY_CLI).mtimeMs;
}

function envNodeArgs(): string[] {
  return (process.env.PGW_BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

export function benchPractice(o: BenchGatewayOptions): Record<string, unknown> {
  return {
    version: 1,
    site: { name: 'Bench Surgery', timezone: 'Europe/London' },
    sip: {
      domain: 'bench.pgw.local',
      listen: [{ transport: 'udp', host: SIP_HOST, port: SIP_PORT }],
      rtp: o.rtp ?? { portMin: 20000, portMax: 29999 },
      codecs: ['PCMU', 'PCMA'],
    },
    extensions: o.users.map((u) => ({ number: u.user, name: `Bench ${u.user}`, password: u.password })),
    huntGroups: [],
    ...(o.deadMediaSeconds ? { calls: { deadMediaSeconds: o.deadMediaSeconds } } : {}),
  };
}


export async function startBenchGateway(o: BenchGatewayOptions): Promise<BenchGateway> {
  assertBuilt();
  mkdirSync(o.dir, { recursive: true });
  const configFile = join(o.dir, 'gateway.json');
  const dataDir = join(o.dir, 'var');
  // The log goes to tmpfs: a file on this shared machine's busy disk would make the
  // gateway's synchronous stdout writes wait for I/O (production logs go to journald
  // through a pipe, which costs a copy, not a disk).
  const logDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pgw-bench-log-'));
  const logPath = join(logDir, 'gateway.log');
  writeFileSync(
    configFile,
    JSON.stringify({
      device: { id: 'pgw-bench', admin: { listen: `127.0.0.1:${ADMIN_PORT}` }, media: { workers: o.mediaWorkers ?? envMediaWorkers() } },
      practice: benchPractice(o),
    }),
  );
  writeFileSync(logPath, '');
  // `ip netns exec`, `sh -c exec` and taskset all exec: the pid is the gateway's own (for /proc sampling).
  const proc = nsSpawn(
    o.netns,
    'sh',
    ['-c', 'exec "$@" >>"$LOG" 2>&1', 'pgw', ...(o.cpus ? ['taskset', '-c', o.cpus] : []), process.execPath, ...(o.nodeArgs ?? envNodeArgs()), GATEWAY_CLI, 'run', '--config', configFile, '--data', dataDir, '--log-level', o.logLevel ?? 'info'],
    { cwd: ROOT, env: { ...process.env, LOG: logPath } },
  );
  const logLines = (): Array<Record<string, unknown>> =>
    readFileSync(logPath, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  let fwd: NsForward | undefined;
  const stop = async (): Promise<void> => {
    await fwd?.close().catch(() => undefined);
    await proc.stop({ signal: 'SIGTERM', graceMs: 6_000 });
    if (!keepTestFiles()) rmSync(logDir, { recursive: true, force: true });
  };
  try {
    await waitUntil(
      () => {
        if (proc.hasExited()) throw new HarnessError('the gateway exited during startup', readFileSync(logPath, 'utf8').slice(-3000) + proc.output.toString());
        return readFileSync(logPath, 'utf8').includes('"msg":"ready:');
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the gateway ready line' },
    );
    await waitForListening({ netns: o.netns, port: ADMIN_PORT, proto: 'tcp' });
    fwd = await forwardTcpFromNamespace({ netns: o.netns, host: '127.0.0.1', port: ADMIN_PORT });
  } catch (e) {
    await stop();
    throw e;
  }
  const socketPath = fwd.socketPath;
  return {
    proc,
    pid: proc.pid,
    sipTarget: `${SIP_HOST}:${SIP_PORT}`,
    logPath,
    api: <T>(path: string) => getJsonOverSocket<T>(socketPath, path, 30_000),
    logLines,
    stop,
  };
}

/** The namespace's UDP counters (/proc/net/snmp, "Udp:" lines) as name → value. */
export async function udpCounters(netns: string): Promise<Record<string, number>> {
  const r = await nsRun(netns, 'cat', ['/proc/net/snmp'], { timeoutMs: 5_000 });
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = (lines[0] ?? '').split(/\s+/).slice(1);
  const values = (lines[1] ?? '').split(/\s+/).slice(1).map(Number);
  const out: Record<string, number> = {};
  names.forEach((n, i) => (out[n] = values[i] ?? NaN));
  return out;
}
