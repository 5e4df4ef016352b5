/**
 * Sends sd_notify(3) messages to $NOTIFY_SOCKET, an AF_UNIX datagram socket.
 * Node has no AF_UNIX datagram sockets (node:dgram is UDP only), so a helper
 * process does the sending: one long-lived `socat -u STDIN UNIX-SENDTO:...`
 * child, fed one message per write. Long-lived matters: systemd attributes a
 * datagram to a unit through the sender's PID, and a short-lived helper
 * (systemd-notify) can be gone before systemd looks it up, so its messages
 * are dropped (a known race in systemd < 254). The unit sets
 * NotifyAccess=all so that a message from the helper, a child in the
 * service's cgroup, is accepted.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { PgwError } from '../../firmware/src/util/errors.js';

export interface NotifySender {
  send(message: string): Promise<void>;
  close(): Promise<void>;
}

/** The socat address for a NOTIFY_SOCKET value: a path, or '@name' in the abstract namespace. */
export function socatNotifyAddress(socket: string): string {
  if (socket.startsWith('@')) return `ABSTRACT-SENDTO:${socket.slice(1)}`;
  if (!socket.startsWith('/')) {
    throw new PgwError('PGW_E_HW_IO', `NOTIFY_SOCKET must be an absolute path or @abstract: ${socket}`);
  }
  return `UNIX-SENDTO:${socket}`;
}

export class SocatNotifySender implements NotifySender {
  private child: ChildProcessWithoutNullStreams | null = null;
  private exited: Error | null = null;

  constructor(private readonly options: { socket: string; socat?: string }) {}

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    this.exited = null;
    const child = spawn(this.options.socat ?? 'socat', ['-u', 'STDIN', socatNotifyAddress(this.options.socket)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.on('error', (err) => {
      if (this.child === child) this.exited = err;
    });
    child.on('exit', (code) => {
      if (this.child === child) this.exited = new Error(`socat exited with ${code}`);
    });
    child.stdin.on('error', () => undefined);
    // The helper must not keep a stopping gateway alive.
    child.unref();
    this.child = child;
    return child;
  }

  send(message: string): Promise<void> {
    if (this.child && this.exited) {
      // The helper died (socket gone, systemd restarted): say so once, respawn on the next send.
      const cause = this.exited;
      this.child = null;
      this.exited = null;
      return Promise.reject(new PgwError('PGW_E_HW_IO', `sd_notify helper failed: ${cause.message}`, { cause }));
    }
    const child = this.ensure();
    return new Promise((resolve, reject) => {
      child.stdin.write(message.endsWith('\n') ? message : `${message}\n`, (err) => {
        if (err || this.exited) reject(new PgwError('PGW_E_HW_IO', 'sd_notify helper is gone', { cause: err ?? this.exited }));
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.stdin.end();
    });
  }
}
