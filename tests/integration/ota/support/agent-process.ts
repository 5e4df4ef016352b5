/** Runs agent-entry.ts as a child process with an IPC channel; kills it with SIGKILL on demand. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { EntryConfig } from './agent-entry.js';

const ENTRY = new URL('./agent-entry.ts', import.meta.url).pathname;

export type ChildMessage = { t: 'transition'; state: string; seq: number } | { t: 'paused'; at: string } | { t: 'reboot'; arg: string | null };

export class AgentProcess {
  readonly messages: ChildMessage[] = [];
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(cfg: EntryConfig) {
    this.child = spawn(process.execPath, ['--import', 'tsx', ENTRY, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.on('message', (m: ChildMessage) => this.messages.push(m));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  setCalls(n: number): void {
    this.child.send({ t: 'calls', n });
  }

  async waitFor(pred: (m: ChildMessage) => boolean, what: string, timeoutMs = 30_000): Promise<ChildMessage> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.messages.find(pred);
      if (hit) return hit;
      if (!this.running && !this.messages.find(pred)) {
        await new Promise((r) => setTimeout(r, 20));
        const late = this.messages.find(pred);
        if (late) return late;
        throw new Error(`the agent process exited while waiting for ${what}\n${this.output.slice(-3000)}`);
      }
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(this.messages)}\n${this.output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}
