/**
 * Builds rtp-farm.c (cc -O2, into the benchmark's work dir: no build output in
 * the tree) and runs it inside a namespace; one command line in, one JSON line
 * back for `stats`. See rtp-farm.c for what it sends and why.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { inNamespace } from '../../support/netns.js';
import { HarnessError, withTimeout } from '../../support/proc.js';

const SOURCE = fileURLToPath(new URL('./rtp-farm.c', import.meta.url));

export type FarmPhases = 'random' | 'aligned';

/** The farm's nice value: ahead of the gateway's media threads (-10) and everything else. */
export const FARM_NICE = -15;

export interface FarmStats {
  streams: number;
  sent: number;
  received: number;
  /** Sequence numbers missing in what came back (gaps minus late arrivals). */
  gaps: number;
  /** Sends more than 1 ms behind their schedule: the farm itself fell behind. */
  late: number;
}

export interface RtpFarm {
  readonly pid: number;
  /** One more phone stream, to the gateway's RTP port `port`. */
  add(port: number): void;
  stats(): Promise<FarmStats>;
  stop(): Promise<void>;
}

export function buildRtpFarm(workDir: string): string {
  const bin = join(workDir, 'rtp-farm');
  const r = spawnSync('cc', ['-O2', '-Wall', '-o', bin, SOURCE], { encoding: 'utf8' });
  if (r.status !== 0) throw new HarnessError(`cannot build ${SOURCE} with cc: ${r.error?.message ?? r.stderr}`);
  return bin;
}

/** Streams bind basePort, basePort + 1, …: ports no other peer of the benchmark uses. */
export async function startRtpFarm(o: { netns: string; host: string; bin: string; phases: FarmPhases; basePort: number }): Promise<RtpFarm> {
  // A phone's packet clock is its own hardware: it sends on time whatever the gateway is doing. The farm
  // stands in for many of them on the gateway's CPUs, so it runs ahead of everything (nice -15) to keep time.
  const [cmd, args] = inNamespace(o.netns, 'nice', ['-n', String(FARM_NICE), o.bin, o.host, o.phases, String(o.basePort)]);
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill);
  const waiting: Array<(line: string) => void> = [];
  const errors: string[] = [];
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('{"error"')) errors.push(line);
    else waiting.shift()?.(line);
  });
  const next = (what: string): Promise<string> =>
    withTimeout(
      new Promise<string>((resolve, reject) => {
        waiting.push(resolve);
        void exited.then(() => reject(new HarnessError(`rtp-farm exited: ${stderr.slice(-2000)}`)));
      }),
      10_000,
      what,
    );
  const ready = JSON.parse(await next('rtp-farm to start')) as { ready?: boolean };
  if (!ready.ready) throw new HarnessError('rtp-farm did not start');
  return {
    pid: child.pid ?? -1,
    add(port) {
      child.stdin.write(`add ${port}\n`);
    },
    async stats() {
      const answer = next('rtp-farm stats');
      child.stdin.write('stats\n');
      const s = JSON.parse(await answer) as FarmStats;
      if (errors.length > 0) throw new HarnessError(`rtp-farm: ${errors.join(' ')}`);
      return s;
    },
    async stop() {
      child.stdin.write('quit\n');
      child.stdin.end();
      await withTimeout(exited, 5_000, 'rtp-farm exit').catch(kill);
      process.off('exit', kill);
    },
  };
}
