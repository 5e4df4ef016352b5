/**
 * A watchdog the gateway pets while it is healthy. Two real kinds:
 *
 * - `/dev/watchdog` (Linux watchdog API, Documentation/watchdog/watchdog-api.rst):
 *   opening it arms the timer, any write pets it, and writing the magic
 *   character 'V' just before close disarms it (when the driver supports
 *   magic close; with CONFIG_WATCHDOG_NOWAYOUT nothing disarms it).
 * - systemd's service watchdog (sd_notify(3), `WatchdogSec=` in the unit):
 *   `WATCHDOG=1` datagrams on $NOTIFY_SOCKET; systemd restarts the service when
 *   they stop, and systemd itself pets the hardware (`RuntimeWatchdogSec=`).
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { PgwError } from '../../firmware/src/util/errors.js';
import type { NotifySender } from './notify-sender.js';

export interface WatchdogDevice {
  readonly kind: 'dev' | 'systemd' | 'none';
  /** Arm the watchdog. */
  open(): Promise<void>;
  pet(): Promise<void>;
  /** A deliberate stop. disarm: use the magic close / tell systemd we are stopping, so no reset follows. */
  close(options: { disarm: boolean }): Promise<void>;
}

const PET = Buffer.from('1');
const MAGIC_CLOSE = Buffer.from('V');

export class DevWatchdog implements WatchdogDevice {
  readonly kind = 'dev';
  private fh: FileHandle | null = null;

  constructor(private readonly path = '/dev/watchdog') {}

  async open(): Promise<void> {
    if (this.fh) return;
    try {
      this.fh = await open(this.path, 'w');
    } catch (err) {
      throw new PgwError('PGW_E_HW_IO', `cannot open watchdog ${this.path}`, { cause: err, context: { path: this.path } });
    }
  }

  async pet(): Promise<void> {
    if (!this.fh) throw new PgwError('PGW_E_HW_IO', `watchdog ${this.path} is not open`);
    await this.fh.write(PET);
  }

  async close(options: { disarm: boolean }): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (!fh) return;
    try {
      if (options.disarm) await fh.write(MAGIC_CLOSE);
    } finally {
      await fh.close();
    }
  }
}

export class SystemdWatchdog implements WatchdogDevice {
  readonly kind = 'systemd';

  constructor(private readonly sender: NotifySender) {}

  async open(): Promise<void> {
    // With Type=notify, READY=1 ends "activating"; harmless with Type=simple.
    await this.sender.send('READY=1');
  }

  pet(): Promise<void> {
    return this.sender.send('WATCHDOG=1');
  }

  async close(options: { disarm: boolean }): Promise<void> {
    try {
      if (options.disarm) await this.sender.send('STOPPING=1');
    } finally {
      await this.sender.close();
    }
  }
}

/** For boards and runs with no watchdog (development, tests, a VM without NOTIFY_SOCKET). */
export class NoWatchdog implements WatchdogDevice {
  readonly kind = 'none';
  pets = 0;
  open(): Promise<void> {
    return Promise.resolve();
  }
  pet(): Promise<void> {
    this.pets++;
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The pet interval systemd asks for: half of WATCHDOG_USEC (sd_watchdog_enabled(3)
 * recommends petting at half the timeout), or null when the watchdog is not
 * for this process (WATCHDOG_PID names another) or not set.
 */
export function systemdWatchdogIntervalMs(env: NodeJS.ProcessEnv, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(100, Math.floor(usec / 2000));
}
