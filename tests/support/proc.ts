/**
 * Small process helpers shared by the harness: run a command to completion
 * with a bounded time, spawn a long-running peer and keep the tail of its
 * output for debugging, stop it politely then firmly, and bound any promise.
 *
 * Test-harness code, not protocol code: it may use real timers (the injected
 * Clock rule of ARCHITECTURE.md is for firmware/).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';

/** Raised by harness helpers; `detail` carries logs worth printing on failure. */
export class HarnessError extends Error {
  readonly detail: string;
  constructor(message: string, detail = '') {
    super(detail ? `${message}\n--- detail ---\n${detail}` : message);
    this.name = 'HarnessError';
    this.detail = detail;
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Kill the command (SIGKILL) after this many ms. Default 10 s. */
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Bytes written to stdin, which is then closed. */
  input?: string;
}

/** Runs a command to completion; never rejects for a non-zero exit (check `code`). */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    const timer = setTimeout(() => {
      stderr += `\n[harness] ${cmd} killed after ${opts.timeoutMs ?? 10_000} ms`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 10_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new HarnessError(`cannot run ${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Like run() but rejects with stdout/stderr in the message when the exit code is not 0. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new HarnessError(`${cmd} ${args.join(' ')} exited ${r.code ?? r.signal}`, `${r.stdout}${r.stderr}`.trim());
  }
  return r.stdout;
}

/**
 * Synchronous run for exit handlers, where nothing asynchronous can happen any
 * more (process 'exit'). Returns the exit status; never throws.
 */
export function runSyncQuiet(cmd: string, args: readonly string[], timeoutMs = 5_000): number | null {
  try {
    return spawnSync(cmd, args, { stdio: 'ignore', timeout: timeoutMs }).status;
  } catch {
    return null;
  }
}

/** Keeps the last `max` characters written to it: enough to debug, bounded in memory. */
export class OutputTail {
  private text = '';
  constructor(private readonly max = 256 * 1024) {}
  append(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.max) this.text = this.text.slice(this.text.length - this.max);
  }
  toString(): string {
    return this.text;
  }
}

/** A long-running child with its merged stdout+stderr tail and an exit promise. */
export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly output: OutputTail;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves when it is gone. */
  stop(opts?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Children are spawned in the test file's process group on purpose: when the
 * test runner kills a hung file it kills the group (tests/run.ts), and our
 * peers go with it. This hook covers the normal and the exception exits.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

/** Spawns a peer process, capturing its output; it is SIGKILLed if this process exits first. */
export function spawnManaged(cmd: string, args: readonly string[], opts: SpawnOptions & { label?: string } = {}): ManagedProcess {
  installExitHook();
  const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = new OutputTail();
  child.stdout?.on('data', (d: Buffer) => output.append(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.append(d.toString()));
  let done = false;
  live.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      output.append(`\n[harness] spawn ${cmd} failed: ${err.message}\n`);
      done = true;
      live.delete(child);
      resolve({ code: null, signal: null });
    });
    child.on('close', (code, signal) => {
      done = true;
      live.delete(child);
      resolve({ code, signal });
    });
  });
  const proc: ManagedProcess = {
    child,
    pid: child.pid ?? -1,
    output,
    exited,
    hasExited: () => done,
    async stop({ signal = 'SIGTERM', graceMs = 3_000 } = {}) {
      if (!done) {
        child.kill(signal);
        const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(killer);
      }
      return exited;
    },
  };
  return proc;
}

/** Rejects with a HarnessError naming `what` if `p` has not settled within `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HarnessError(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `intervalMs` until it returns a value other than undefined/false, or times out. */
export async function waitUntil<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() >= deadline) throw new HarnessError(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}`);
    await sleep(opts.intervalMs ?? 50);
  }
}

/**
 * Whether helpers keep the temp dirs they created themselves (config, logs,
 * recordings) after stop(): set PGW_KEEP_TEST_FILES=1 to debug a failure.
 * Dirs a test passes in (workDir) are the test's to remove.
 */
export function keepTestFiles(): boolean {
  return process.env.PGW_KEEP_TEST_FILES === '1';
}

/** True if `name` is an executable on PATH. */
export function hasCommand(name: string): boolean {
  return runSyncQuiet('sh', ['-c', `command -v ${name} >/dev/null 2>&1`]) === 0;
}
