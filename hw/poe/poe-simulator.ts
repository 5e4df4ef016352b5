/**
 * The PoE controller's microcontroller on the far end of a LineLink
 * (docs/HARDWARE.md, "PoE controller protocol"): ports with phones plugged in
 * or not, classes and draw, a power budget, and power cycles that take the
 * phone's link down and bring it back after the phone has booted.
 */
import type { Clock, TimerHandle } from '../../firmware/src/util/clock.js';
import type { LineLink } from '../serial/line-link.js';
import type { PoePortStatus } from './poe-controller.js';
import { formatBudgetLine, formatPortLine } from './poe-protocol.js';

export interface SimPhone {
  mac: string;
  powerClass: number;
  drawMw: number;
  /** From power on to link up. */
  bootMs?: number;
}

interface SimPort {
  enabled: boolean;
  phone: SimPhone | null;
  powered: boolean;
  linkUp: boolean;
  cycling: boolean;
  timers: TimerHandle[];
}

export interface PoeSimOptions {
  link: LineLink;
  clock: Clock;
  ports?: number;
  budgetMw?: number;
}

export class PoeSimulator {
  readonly budgetMw: number;
  private readonly portsState: SimPort[];
  readonly received: string[] = [];
  private wasOver = false;
  private readonly off: () => void;

  constructor(private readonly options: PoeSimOptions) {
    this.budgetMw = options.budgetMw ?? 120_000;
    this.portsState = Array.from({ length: options.ports ?? 8 }, () => ({
      enabled: true,
      phone: null,
      powered: false,
      linkUp: false,
      cycling: false,
      timers: [],
    }));
    this.off = options.link.onLine((line) => void this.onLine(line));
  }

  dispose(): void {
    this.off();
    for (const p of this.portsState) for (const t of p.timers) t.cancel();
  }

  // ------------------------------------------------------------ controls

  /** A phone is plugged in: it is powered at once and its link comes up after it boots. */
  plug(port: number, phone: SimPhone): void {
    const p = this.get(port);
    p.phone = phone;
    if (p.enabled) this.powerOn(port);
  }

  unplug(port: number): void {
    const p = this.get(port);
    for (const t of p.timers.splice(0)) t.cancel();
    p.phone = null;
    p.powered = false;
    p.linkUp = false;
    p.cycling = false;
    this.emitPort(port);
  }

  setDraw(port: number, drawMw: number): void {
    const p = this.get(port);
    if (p.phone) p.phone.drawMw = drawMw;
    this.emitPort(port);
  }

  status(port: number): PoePortStatus {
    const p = this.get(port);
    const on = p.powered && p.phone !== null;
    return {
      port,
      enabled: p.enabled,
      link: p.linkUp ? 'up' : 'down',
      power: p.cycling ? 'cycling' : on ? 'on' : 'off',
      powerClass: on ? p.phone!.powerClass : null,
      drawMw: on ? p.phone!.drawMw : 0,
      mac: p.linkUp && p.phone ? p.phone.mac : null,
    };
  }

  usedMw(): number {
    return this.portsState.reduce((sum, _p, i) => sum + this.status(i + 1).drawMw, 0);
  }

  // ------------------------------------------------------------ protocol

  private get(port: number): SimPort {
    const p = this.portsState[port - 1];
    if (!p) throw new Error(`no port ${port}`);
    return p;
  }

  private write(line: string): Promise<void> {
    return this.options.link.writeLine(line).catch(() => undefined);
  }

  private emitPort(port: number): void {
    void this.write(`EVT ${formatPortLine(this.status(port))}`);
    const used = this.usedMw();
    const over = used > this.budgetMw;
    if (over !== this.wasOver) {
      this.wasOver = over;
      void this.write(`EVT ${formatBudgetLine({ usedMw: used, maxMw: this.budgetMw })} ${over ? 'over' : 'ok'}`);
    }
  }

  private powerOn(port: number): void {
    const p = this.get(port);
    if (!p.phone) return;
    p.powered = true;
    this.emitPort(port);
    const t = this.options.clock.setTimer(p.phone.bootMs ?? 300, () => {
      if (!p.powered || !p.phone) return;
      p.linkUp = true;
      this.emitPort(port);
    });
    p.timers.push(t);
  }

  private powerOff(port: number): void {
    const p = this.get(port);
    for (const t of p.timers.splice(0)) t.cancel();
    p.powered = false;
    p.linkUp = false;
  }

  private async onLine(line: string): Promise<void> {
    this.received.push(line);
    for (const r of this.apply(line.trim())) await this.write(r);
  }

  private apply(line: string): string[] {
    const n = this.portsState.length;
    if (line === 'INFO') return [`INFO ports=${n} budget=${this.budgetMw} fw=sim-1`, 'OK'];
    if (line === 'STATUS') {
      const lines = this.portsState.map((_p, i) => formatPortLine(this.status(i + 1)));
      return [...lines, formatBudgetLine({ usedMw: this.usedMw(), maxMw: this.budgetMw }), 'OK'];
    }
    const m = /^(PORT|ENABLE|DISABLE|CYCLE) (\d{1,2})(?: (\d{1,6}))?$/.exec(line);
    if (!m) return ['ERR unknown command'];
    const port = Number(m[2]);
    if (port < 1 || port > n) return ['ERR bad port'];
    const p = this.get(port);
    switch (m[1]) {
      case 'PORT':
        return [formatPortLine(this.status(port)), 'OK'];
      case 'ENABLE':
        if (!p.enabled) {
          p.enabled = true;
          this.powerOn(port);
        }
        return ['OK'];
      case 'DISABLE':
        if (p.enabled) {
          p.enabled = false;
          this.powerOff(port);
          this.emitPort(port);
        }
        return ['OK'];
      case 'CYCLE': {
        if (m[3] === undefined) return ['ERR missing off time'];
        if (!p.enabled) return ['ERR port disabled'];
        this.powerOff(port);
        p.cycling = true;
        this.emitPort(port);
        const t = this.options.clock.setTimer(Number(m[3]), () => {
          p.cycling = false;
          this.powerOn(port);
        });
        p.timers.push(t);
        return ['OK'];
      }
      default:
        return ['ERR unknown command'];
    }
  }
}
