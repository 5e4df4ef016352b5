/**
 * Starts rtp-probe.ts inside a namespace and talks to it over stdin/stdout
 * (one command line, one JSON line back). See rtp-probe.ts for what it measures.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { inNamespace } from '../../support/netns.js';
import { HarnessError, withTimeout } from '../../support/proc.js';

const PROBE = fileURLToPath(new URL('./rtp-probe.ts', import.meta.url));
const RELAY = fileURLToPath(new URL('./udp-relay.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface PathStats {
  sent: number;
  received: number;
  lost: number;
  delayUs: { p50: number; p99: number; max: number; mean: number };
}

export interface ProbeWindow {
  seconds: number;
  aToB: PathStats;
  bToA: PathStats;
  throughGateway: PathStats;
  direct: PathStats;
  /** Through udp-relay.ts, a minimal relay in another process. */
  reference: PathStats;
  /** Packets that arrived twice or on the wrong socket. */
  extraReceived: number;
  /** Per packet: its time through the gateway minus the time of the direct packet sent in the same tick (µs). */
  pairedAddedUs: { n: number; p50: number; p99: number; max: number };
}

export interface RtpProbe {
  readonly pid: number;
  /** Statistics since the previous call (the first call only starts the window). */
  window(): Promise<ProbeWindow>;
  stop(): Promise<void>;
}

/**
 * The probe uses aPort and bPort (the call's SDP ports) and aPort+4 .. aPort+10
 * (the direct and reference paths); the reference relay listens on aPort+12.
 */
export async function startRtpProbe(o: { netns: string; aPort: number; bPort: number; gwA: number; gwB: number }): Promise<RtpProbe> {
  const directPort = o.aPort + 4;
  const refPort = o.aPort + 12;
  const [rcmd, rargs] = inNamespace(o.netns, process.execPath, ['--import', 'tsx', RELAY, '--listen', String(refPort), '--to', String(directPort + 6)]);
  const relay = spawn(rcmd, rargs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      relay.stdout.once('data', () => resolve());
      relay.once('close', () => reject(new HarnessError('the reference relay exited')));
    }),
    15_000,
    'the reference relay to start',
  );
  const [cmd, args] = inNamespace(o.netns, process.execPath, [
    '--import', 'tsx', PROBE,
    '--a-port', String(o.aPort), '--b-port', String(o.bPort), '--gw-a', String(o.gwA), '--gw-b', String(o.gwB),
    '--direct-port', String(directPort), '--ref-port', String(refPort),
  ]);
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const kill = (): void => {
    child.kill('SIGKILL');
    relay.kill('SIGKILL');
  };
  process.once('exit', kill);
  const waiting: Array<(line: string) => void> = [];
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(line));
  const next = (what: string): Promise<string> =>
    withTimeout(
      new Promise<string>((resolve, reject) => {
        waiting.push(resolve);
        void exited.then(() => reject(new HarnessError(`rtp probe exited: ${stderr.slice(-2000)}`)));
      }),
      15_000,
      what,
    );
  const ready = JSON.parse(await next('the rtp probe to start')) as { ready?: boolean };
  if (!ready.ready) throw new HarnessError('rtp probe did not start');
  return {
    pid: child.pid ?? -1,
    async window() {
      const answer = next('an rtp probe window');
      child.stdin.write('window\n');
      return JSON.parse(await answer) as ProbeWindow;
    },
    async stop() {
      child.stdin.write('quit\n');
      child.stdin.end();
      await withTimeout(exited, 5_000, 'rtp probe exit').catch(kill);
      relay.kill('SIGTERM');
      process.off('exit', kill);
    },
  };
}
