/**
 * The state of the interface an uplink leaves by (the HSCN port for the
 * cloud, the WAN or 4G for trunks). An interface that goes down (cable out,
 * router off: the kernel reports no carrier) fails the uplink at once,
 * without waiting for probes to be lost.
 *
 * The Linux source reads `/sys/class/net/IF/operstate` (RFC 2863 operStatus
 * as the kernel reports it) on the injected clock: a read of a small sysfs
 * file every 200 ms costs nothing and needs no netlink binding. `down`,
 * `lowerlayerdown` (no carrier) and `notpresent` (or no such interface) are
 * down; `up`, `dormant` and `unknown` (what some PPP/tun/wwan drivers
 * report while working) count as up.
 *
 * Tests drive a FakeLinkSource instead.
 */
import { readFileSync } from 'node:fs';
import type { Clock, TimerHandle } from '../util/clock.js';

export type LinkState = 'up' | 'down';

export interface LinkStateSource {
  /** Begin watching; `onChange` is called with every change (not with the first reading). */
  start(onChange: (state: LinkState) => void): void;
  stop(): void;
  /** The latest reading. */
  current(): LinkState;
  /** What is watched, for logs. */
  readonly description: string;
}

const DOWN_STATES = new Set(['down', 'lowerlayerdown', 'notpresent']);

/** `up` or `down` for an operstate file's content (undefined: no such interface). */
export function linkStateOf(operstate: string | undefined): LinkState {
  if (operstate === undefined) return 'down';
  return DOWN_STATES.has(operstate.trim().toLowerCase()) ? 'down' : 'up';
}

export interface SysfsLinkWatcherOptions {
  clock: Clock;
  iface: string;
  /** Default 200 ms. */
  pollMs?: number;
  /** Reads a file; default readFileSync (tests inject one). Throwing means no such interface. */
  read?: (path: string) => string;
}

export class SysfsLinkWatcher implements LinkStateSource {
  readonly description: string;
  private timer: TimerHandle | undefined;
  private last: LinkState;
  private readonly read: (path: string) => string;
  private readonly path: string;

  constructor(private readonly o: SysfsLinkWatcherOptions) {
    this.read = o.read ?? ((p) => readFileSync(p, 'utf8'));
    this.path = `/sys/class/net/${o.iface}/operstate`;
    this.description = `${o.iface} (${this.path})`;
    this.last = this.sample();
  }

  current(): LinkState {
    return this.last;
  }

  start(onChange: (state: LinkState) => void): void {
    this.stop();
    this.last = this.sample();
    const poll = (): void => {
      this.timer = this.o.clock.setTimer(this.o.pollMs ?? 200, () => {
        const now = this.sample();
        if (now !== this.last) {
          this.last = now;
          onChange(now);
        }
        poll();
      });
    };
    poll();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private sample(): LinkState {
    let text: string | undefined;
    try {
      text = this.read(this.path);
    } catch {
      text = undefined;
    }
    return linkStateOf(text);
  }
}

/** A link source that is always up: an uplink whose interface is not known. */
export class AlwaysUpLink implements LinkStateSource {
  readonly description = 'no interface watched';
  start(): void {}
  stop(): void {}
  current(): LinkState {
    return 'up';
  }
}
