/**
 * SIPp (Debian `sip-tester` 3.6.1) as a scripted peer and load generator.
 *
 *   // UAC: run to completion
 *   const r = await runSipp({
 *     scenario: sippScenario('register-auth.xml'), remote: '10.90.1.1:5060',
 *     netns: topo.ns('lan'), localIp: topo.addr('lan', 'gw'),
 *     injectionFile: writeInjectionFile(join(dir, 'users.csv'), rows),
 *     calls: 20, rate: 10, timeoutMs: 20_000,
 *   });
 *   assert.ok(r.ok, r.report);          // exit code 0: every call passed
 *   r.stats?.successful;                // 20
 *
 *   // UAS: in the background, stopped by the test
 *   const uas = startSipp({ scenario: sippScenario('uas-busy.xml'), localIp, localPort: 5080, timeoutMs: 30_000 });
 *   await uas.ready;
 *   ...
 *   const res = await uas.stop();
 *
 * How it is run, and why:
 * - `-nostdin`, and stdout discarded: its screen is redrawn continuously and
 *   only the final one matters, which `-trace_screen -screen_file` keeps.
 * - Statistics come from `-trace_stat -stf <file> -fd <period>`: the last CSV
 *   row is the final cumulative state. Response times need `start_rtd`/`rtd`
 *   in the scenario (ours mark them).
 * - `-trace_err -error_file` keeps every unexpected message for the report.
 * - Every run has a bound: `-timeout` (with `-timeout_error`, so a hang is a
 *   failure) plus a SIGKILL a few seconds later should SIPp not exit.
 * - A UAS is stopped with SIGUSR1 (SIPp's "quit after current calls"),
 *   then SIGKILL. Exit codes: 0 all calls succeeded, 1 some failed, 97 quit
 *   by command/signal, 99 no call processed, 255/254 fatal (e.g. 254: port in use).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nsSpawn, waitForListening } from './netns.js';
import { HarnessError, keepTestFiles } from './proc.js';
import type { ManagedProcess } from './proc.js';

/** Absolute path of a scenario in tests/sipp/. */
export function sippScenario(name: string): string {
  return fileURLToPath(new URL(`../sipp/${name}`, import.meta.url));
}

export interface SippOptions {
  /** Scenario XML file (see sippScenario()). */
  scenario: string;
  /** Where requests go ('host:port'); omit for a pure UAS. */
  remote?: string;
  netns?: string;
  /** Local IP for Via/Contact/From and for binding (-i). */
  localIp: string;
  /** Local SIP port (-p); default: SIPp picks a free one (UAC only, a UAS needs one). */
  localPort?: number;
  /** -t: u1 (one UDP socket, default), un (one per call), t1 / tn (TCP). */
  transport?: 'u1' | 'un' | 't1' | 'tn';
  /** -m: stop after this many calls. */
  calls?: number;
  /** -r: new calls per rate period (default period 1 s, see ratePeriodMs). */
  rate?: number;
  /** -rp in milliseconds. */
  ratePeriodMs?: number;
  /** -l: at most this many calls at once. */
  limit?: number;
  /** -inf: injection CSV (see users.ts for the field layout our scenarios use). */
  injectionFile?: string;
  /** -key name value: fills `[name]` in the scenario. */
  keys?: Record<string, string>;
  /** -s: the Request-URI user ([service]). */
  service?: string;
  /** -mi / -mp: media IP and RTP port (for rtp_stream / pcap play and -rtp_echo). */
  mediaIp?: string;
  mediaPort?: number;
  rtpEcho?: boolean;
  /** Whole-run bound; becomes `-timeout` and a SIGKILL 5 s later. Default 30 s. */
  timeoutMs?: number;
  /** -fd: statistics period in seconds (default 1). */
  statsPeriodSec?: number;
  /** -trace_msg into messages.log (costly under load; for debugging). */
  traceMessages?: boolean;
  /** -recv_timeout in ms: fail a call that waits longer than this for a message. */
  recvTimeoutMs?: number;
  /** Any other arguments, appended. */
  extraArgs?: string[];
  /**
   * Where logs go (and the cwd, so relative files such as rtp-tone.ulaw are
   * found there). Default: a fresh temp dir, removed once the results are
   * read unless PGW_KEEP_TEST_FILES=1.
   */
  workDir?: string;
}

/** Final counters from the -stf CSV (cumulative columns). */
export interface SippStats {
  created: number;
  successful: number;
  failed: number;
  outgoing: number;
  incoming: number;
  /** Seconds from start to the last row. */
  elapsedSec: number;
  /** Cumulative call rate (calls/s) as SIPp computed it. */
  callRate: number;
  /** Average response time in ms per rtd counter ('1'..'5'), from the ResponseTimeN(C) columns. */
  responseTimeMs: Record<string, number>;
  /** Non-zero failure counters, e.g. { FailedUnexpectedMessage: 2 }. */
  failures: Record<string, number>;
  /** The last row as column → value. */
  raw: Record<string, string>;
}

export interface SippResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** exitCode === 0. */
  ok: boolean;
  stats: SippStats | undefined;
  stderr: string;
  /** Unexpected messages (-trace_err), possibly empty. */
  errors: string;
  /** Final screen (message counts per step). */
  screen: string;
  /** SIP messages, when traceMessages was set. */
  messages: string;
  workDir: string;
  /** A readable summary for assertion messages: exit code, counters, stderr, errors, screen. */
  report: string;
}

/** Parses SIPp's "HH:MM:SS:uuuuuu" or "HH:MM:SS" durations to milliseconds. */
export function parseSippDuration(v: string): number {
  const p = v.split(':').map(Number);
  if (p.some((x) => !Number.isFinite(x))) return NaN;
  const [h = 0, m = 0, s = 0, us = 0] = p;
  return ((h * 60 + m) * 60 + s) * 1000 + us / 1000;
}

/** Parses the last row of a -trace_stat CSV (';'-separated, header first). */
export function parseSippStatCsv(text: string): SippStats | undefined {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return undefined;
  const head = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const raw: Record<string, string> = {};
  head.forEach((k, i) => {
    if (k) raw[k] = last[i] ?? '';
  });
  const num = (k: string): number => Number(raw[k] ?? NaN);
  const failures: Record<string, number> = {};
  const responseTimeMs: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw)) {
    const f = /^(Failed\w+)\(C\)$/.exec(k);
    if (f && Number(v) > 0) failures[f[1]!] = Number(v);
    const rt = /^ResponseTime(\d+)\(C\)$/.exec(k);
    if (rt) responseTimeMs[rt[1]!] = parseSippDuration(v);
  }
  return {
    created: num('TotalCallCreated'),
    successful: num('SuccessfulCall(C)'),
    failed: num('FailedCall(C)'),
    outgoing: num('OutgoingCall(C)'),
    incoming: num('IncomingCall(C)'),
    elapsedSec: parseSippDuration(raw['ElapsedTime(C)'] ?? '') / 1000,
    callRate: num('CallRate(C)'),
    responseTimeMs,
    failures,
    raw,
  };
}

function buildArgs(o: SippOptions, dir: string): string[] {
  const timeoutSec = Math.ceil((o.timeoutMs ?? 30_000) / 1000);
  const args: string[] = [];
  if (o.remote) args.push(o.remote);
  args.push('-sf', o.scenario, '-i', o.localIp, '-nostdin');
  if (o.localPort !== undefined) args.push('-p', String(o.localPort));
  if (o.transport) args.push('-t', o.transport);
  if (o.calls !== undefined) args.push('-m', String(o.calls));
  if (o.rate !== undefined) args.push('-r', String(o.rate));
  if (o.ratePeriodMs !== undefined) args.push('-rp', `${o.ratePeriodMs}ms`);
  if (o.limit !== undefined) args.push('-l', String(o.limit));
  if (o.injectionFile) args.push('-inf', o.injectionFile);
  for (const [k, v] of Object.entries(o.keys ?? {})) args.push('-key', k, v);
  if (o.service) args.push('-s', o.service);
  if (o.mediaIp) args.push('-mi', o.mediaIp);
  if (o.mediaPort !== undefined) args.push('-mp', String(o.mediaPort));
  if (o.rtpEcho) args.push('-rtp_echo');
  if (o.recvTimeoutMs !== undefined) args.push('-recv_timeout', `${o.recvTimeoutMs}ms`);
  args.push('-timeout', `${timeoutSec}s`, '-timeout_error');
  args.push('-trace_stat', '-stf', join(dir, 'stats.csv'), '-fd', String(o.statsPeriodSec ?? 1));
  args.push('-trace_err', '-error_file', join(dir, 'errors.log'));
  args.push('-trace_screen', '-screen_file', join(dir, 'screen.log'));
  if (o.traceMessages) args.push('-trace_msg', '-message_file', join(dir, 'messages.log'));
  args.push(...(o.extraArgs ?? []));
  return args;
}

function readIfExists(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

function collect(dir: string, proc: ManagedProcess, exit: { code: number | null; signal: NodeJS.Signals | null }, removeDir: boolean): SippResult {
  const stats = parseSippStatCsv(readIfExists(join(dir, 'stats.csv')));
  const errors = readIfExists(join(dir, 'errors.log'));
  const screen = readIfExists(join(dir, 'screen.log'));
  const messages = readIfExists(join(dir, 'messages.log'));
  const stderr = proc.output.toString();
  const counters = stats
    ? `created ${stats.created}, successful ${stats.successful}, failed ${stats.failed} ${JSON.stringify(stats.failures)}`
    : 'no statistics';
  const report = [
    `sipp exit ${exit.code ?? exit.signal}: ${counters}`,
    stderr.trim() && `--- stderr ---\n${stderr.trim().slice(-3000)}`,
    errors.trim() && `--- unexpected messages ---\n${errors.trim().slice(-4000)}`,
    // The message table (counts per scenario step) is what explains a failure;
    // the statistics screen after it repeats the counters above.
    screen.trim() && `--- screen ---\n${(screen.split('----------------------------- Statistics Screen')[0] ?? '').trim().slice(-3000)}`,
    removeDir ? '(set PGW_KEEP_TEST_FILES=1 to keep the SIPp logs)' : `(logs in ${dir})`,
  ]
    .filter(Boolean)
    .join('\n');
  if (removeDir) rmSync(dir, { recursive: true, force: true });
  return { exitCode: exit.code, signal: exit.signal, ok: exit.code === 0, stats, stderr, errors, screen, messages, workDir: dir, report };
}

/** A SIPp running in the background (UAS roles, or a UAC the test wants to watch). */
export interface SippProcess {
  readonly proc: ManagedProcess;
  readonly workDir: string;
  /** Resolves once its SIP port listens (needs localPort and UDP); else at once. */
  readonly ready: Promise<void>;
  /** Resolves when SIPp exits by itself. */
  readonly done: Promise<SippResult>;
  /** SIGUSR1 (finish current calls and quit), then SIGKILL after graceMs (default 3 s). */
  stop(graceMs?: number): Promise<SippResult>;
}

/** Starts SIPp without waiting for it to finish. */
export function startSipp(o: SippOptions): SippProcess {
  if (!existsSync(o.scenario)) throw new HarnessError(`no scenario file ${o.scenario}`);
  const dir = o.workDir ?? mkdtempSync(join(tmpdir(), 'pgwt-sipp-'));
  // stdout is the ever-redrawn screen: discard it (screen.log keeps the last one).
  const proc = nsSpawn(o.netns, 'sh', ['-c', 'exec "$@" >/dev/null', 'sipp', 'sipp', ...buildArgs(o, dir)], { cwd: dir });
  const hardLimit = setTimeout(() => {
    proc.output.append(`\n[harness] sipp still running ${(o.timeoutMs ?? 30_000) + 5_000} ms after start: killed\n`);
    proc.child.kill('SIGKILL');
  }, (o.timeoutMs ?? 30_000) + 5_000);
  const done = proc.exited.then((exit) => {
    clearTimeout(hardLimit);
    return collect(dir, proc, exit, o.workDir === undefined && !keepTestFiles());
  });
  const udp = o.transport === undefined || o.transport === 'u1' || o.transport === 'un';
  const ready =
    o.localPort !== undefined && udp
      ? Promise.race([
          waitForListening({ netns: o.netns, port: o.localPort, proto: 'udp', timeoutMs: 10_000 }),
          proc.exited.then(() => {
            throw new HarnessError('sipp exited before it was ready', proc.output.toString());
          }),
        ])
      : Promise.resolve();
  // A caller that only awaits `done` must not see an unhandled rejection from `ready`.
  ready.catch(() => undefined);
  return {
    proc,
    workDir: dir,
    ready,
    done,
    async stop(graceMs = 3_000) {
      if (!proc.hasExited()) await proc.stop({ signal: 'SIGUSR1', graceMs });
      return done;
    },
  };
}

/** Runs SIPp to completion (bounded by timeoutMs) and returns its result. */
export function runSipp(o: SippOptions): Promise<SippResult> {
  return startSipp(o).done;
}
