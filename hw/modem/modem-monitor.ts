/**
 * Watches a Quectel EC2x/EG2x 4G modem over its AT port: SIM, signal,
 * registration, operator and data attach, polled on the injected Clock and
 * updated at once from URCs; recovers a wedged modem, or one that is attached
 * but passes no data (the data-path probe says so), by resetting it
 * (AT+CFUN=1,1, and a board power-cycle hook when it does not even answer).
 * Resets back off exponentially so a modem in a dead cell is not reset in a loop.
 *
 *                 handshake ok                     `unresponsiveAfter` answers missed
 *   starting ───────────────────▶ ready ──────────────────────────────────▶ unresponsive
 *      ▲   │ link cannot open /     │ data path dead `deadAfter` probes          │   │
 *      │   │ handshake unanswered   │ in a row (and reset allowed)               │   │ answers again
 *      │   └───────────────────────────────────────▶ unresponsive              │   ▼
 *      │                            ▼                                            │ starting
 *      │                        resetting ◀──────── reset allowed by backoff ───┘
 *      └──── settle time passed, or RDY URC ────────┘
 *   any ── stop() ──▶ stopped
 *
 * A USB modem re-enumerates its serial ports when it resets, so the monitor
 * owns the link: it closes it before the settle wait and opens it again
 * through the `openLink` factory.
 */
import type { Clock, TimerHandle } from '../../firmware/src/util/clock.js';
import { PgwError, isPgwError } from '../../firmware/src/util/errors.js';
import type { Logger } from '../../firmware/src/util/logger.js';
import { CommandChannel } from '../serial/command-channel.js';
import type { LineLink } from '../serial/line-link.js';
import { Listeners } from '../serial/line-link.js';
import { AT_DIALECT } from './at-dialect.js';
import type { AccessTech, RegStatus, Registration, ServingCell, SimState } from './at-parse.js';
import {
  isRegistered,
  parseCgatt,
  parseCops,
  parseCpin,
  parseCsq,
  parseQcsq,
  parseReg,
  parseServingCell,
  signalBars,
  simStateFromCmeError,
} from './at-parse.js';
import type { LinkDownReason, LinkHealth, LinkHealthSource } from './link-health.js';

export type ModemPhase = 'starting' | 'ready' | 'unresponsive' | 'resetting' | 'stopped';

const TRANSITIONS: Record<ModemPhase, readonly ModemPhase[]> = {
  starting: ['ready', 'unresponsive', 'stopped'],
  ready: ['unresponsive', 'resetting', 'stopped'],
  unresponsive: ['starting', 'resetting', 'stopped'],
  resetting: ['starting', 'stopped'],
  stopped: [],
};

export interface ModemSignal {
  rssiDbm: number | null;
  rsrp: number | null;
  rsrq: number | null;
  sinrDb: number | null;
  bars: number;
}

export interface ModemStatus {
  phase: ModemPhase;
  sim: SimState;
  /** Packet-switched registration when the modem has one (CEREG), else circuit-switched (CREG). */
  registration: RegStatus;
  tech: AccessTech | null;
  operator: string | null;
  attached: boolean;
  signal: ModemSignal;
  servingCell: ServingCell | null;
  dataPath: 'unknown' | 'ok' | 'dead';
  resets: number;
  lastReset: { reason: string; at: number } | null;
}

export interface ModemMonitorOptions {
  /** Opens the AT port (again after a reset: USB modems re-enumerate). */
  openLink: () => Promise<LineLink>;
  clock: Clock;
  logger: Logger;
  pollIntervalMs?: number;
  commandTimeoutMs?: number;
  /** Consecutive unanswered commands before the modem counts as wedged. */
  unresponsiveAfter?: number;
  /** Says whether data passes over the modem's network interface (e.g. a ping or DNS query over wwan0). */
  dataProbe?: () => Promise<boolean>;
  /**
   * Run the data probe on its own timer at this period (device.modem.dataProbe.intervalSeconds)
   * instead of after each poll, so a dead data path is found sooner than `deadAfter` polls.
   */
  probeIntervalMs?: number;
  /** Consecutive failed data probes before an attached modem is reset. */
  deadAfter?: number;
  probeTimeoutMs?: number;
  /** How long a modem takes to come back after AT+CFUN=1,1 when it sends no RDY. */
  settleMs?: number;
  /** First and longest wait between two resets (doubling in between). */
  resetBackoffMinMs?: number;
  resetBackoffMaxMs?: number;
  /** Ask AT+QENG="servingcell" each poll (Quectel only). */
  servingCell?: boolean;
  /** Board hook to cut the modem's power when it does not answer AT at all. */
  powerCycle?: () => Promise<void>;
}

const EMPTY_SIGNAL: ModemSignal = { rssiDbm: null, rsrp: null, rsrq: null, sinrDb: null, bars: 0 };

export class ModemMonitor implements LinkHealthSource {
  private readonly o: Required<Omit<ModemMonitorOptions, 'dataProbe' | 'powerCycle' | 'probeIntervalMs'>> &
    Pick<ModemMonitorOptions, 'dataProbe' | 'powerCycle' | 'probeIntervalMs'>;
  private st: ModemStatus = {
    phase: 'starting',
    sim: 'unknown',
    registration: 'unknown',
    tech: null,
    operator: null,
    attached: false,
    signal: EMPTY_SIGNAL,
    servingCell: null,
    dataPath: 'unknown',
    resets: 0,
    lastReset: null,
  };
  private link: LineLink | undefined;
  private channel: CommandChannel | undefined;
  private timer: TimerHandle | undefined;
  private probeTimer: TimerHandle | undefined;
  /** A probe round on its own timer, which the poll waits for (one of them talks to the modem at a time). */
  private probeRun: Promise<void> | null = null;
  private settleTimer: TimerHandle | undefined;
  private running = false;
  private ticking = false;
  private missed = 0;
  private deadProbes = 0;
  private qcsqSupported = true;
  private nextResetAt = 0;
  private backoffMs: number;
  private cereg: Registration | null = null;
  private creg: Registration | null = null;
  private health: LinkHealth;
  private readonly changes = new Listeners<[ModemStatus]>();
  private readonly healthChanges = new Listeners<[LinkHealth]>();

  constructor(options: ModemMonitorOptions) {
    this.o = {
      pollIntervalMs: 15_000,
      commandTimeoutMs: 3_000,
      unresponsiveAfter: 3,
      deadAfter: 3,
      probeTimeoutMs: 10_000,
      settleMs: 30_000,
      resetBackoffMinMs: 60_000,
      resetBackoffMaxMs: 30 * 60_000,
      servingCell: false,
      ...options,
    };
    this.backoffMs = this.o.resetBackoffMinMs;
    this.health = { ...this.deriveHealth(), since: this.o.clock.now() };
  }

  status(): ModemStatus {
    return { ...this.st, signal: { ...this.st.signal } };
  }

  onChange(listener: (status: ModemStatus) => void): () => void {
    return this.changes.add(listener);
  }

  linkHealth(): LinkHealth {
    return { ...this.health };
  }

  onLinkHealth(listener: (health: LinkHealth) => void): () => void {
    return this.healthChanges.add(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
    if (this.o.dataProbe && this.o.probeIntervalMs) this.scheduleProbe();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    this.probeTimer?.cancel();
    await this.probeRun;
    this.settleTimer?.cancel();
    if (this.st.phase !== 'stopped') this.transition('stopped', 'stop requested');
    await this.closeLink();
    this.publish();
  }

  /** Run one poll now (the URC path and tests use it); resolves when it is done. */
  async pollNow(): Promise<void> {
    await this.tick();
  }

  // ------------------------------------------------------------ loop

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer?.cancel();
    this.timer = this.o.clock.setTimer(ms, () => {
      void this.tick();
    });
  }

  private scheduleProbe(): void {
    this.probeTimer?.cancel();
    if (!this.running || !this.o.probeIntervalMs) return;
    this.probeTimer = this.o.clock.setTimer(this.o.probeIntervalMs, () => {
      // Skipped while a poll runs (it talks to the modem) or the modem is not ready.
      if (!this.ticking && !this.probeRun && this.st.phase === 'ready') {
        this.probeRun = this.probeData()
          .catch((err: unknown) => this.o.logger.warn({ err: errText(err) }, 'modem data probe round failed'))
          .finally(() => {
            this.probeRun = null;
            this.publish();
          });
      }
      this.scheduleProbe();
    });
  }

  private async tick(): Promise<void> {
    if (this.ticking || !this.running) return;
    this.ticking = true;
    try {
      if (this.probeRun) await this.probeRun;
      await this.step();
    } catch (err) {
      this.o.logger.warn({ err: errText(err) }, 'modem poll failed');
    } finally {
      this.ticking = false;
      this.publish();
      if (this.running && this.st.phase !== 'resetting') this.schedule(this.o.pollIntervalMs);
    }
  }

  private async step(): Promise<void> {
    switch (this.st.phase) {
      case 'starting':
        if (await this.handshake()) {
          this.transition('ready', 'modem answers');
          await this.readyPoll();
        } else {
          this.transition('unresponsive', 'handshake unanswered');
          await this.maybeReset('unresponsive');
        }
        return;
      case 'ready':
        await this.readyPoll();
        return;
      case 'unresponsive':
        if (await this.ensureChannel()) {
          if (await this.tryCommand('AT')) {
            this.transition('starting', 'modem answers again');
            await this.step();
            return;
          }
        }
        await this.maybeReset('unresponsive');
        return;
      case 'resetting':
      case 'stopped':
        return;
      default: {
        const never: never = this.st.phase;
        return never;
      }
    }
  }

  private async readyPoll(): Promise<void> {
    await this.pollStatus();
    if (this.st.phase !== 'ready') return;
    if (this.missed >= this.o.unresponsiveAfter) {
      this.transition('unresponsive', `${this.missed} commands unanswered`);
      await this.maybeReset('unresponsive');
      return;
    }
    if (!this.o.probeIntervalMs) await this.probeData();
  }

  // ------------------------------------------------------------ commands

  private async ensureChannel(): Promise<boolean> {
    if (this.channel && this.link?.isOpen) return true;
    await this.closeLink();
    try {
      const link = await this.o.openLink();
      this.link = link;
      this.channel = new CommandChannel({ link, clock: this.o.clock, dialect: AT_DIALECT, defaultTimeoutMs: this.o.commandTimeoutMs, device: 'modem' });
      this.channel.onUnsolicited((line) => this.onUrc(line));
      link.onClose(() => {
        if (this.link === link) {
          this.channel?.dispose();
          this.channel = undefined;
          this.link = undefined;
        }
      });
      return true;
    } catch (err) {
      this.o.logger.warn({ err: errText(err) }, 'modem AT port cannot be opened');
      this.missed++;
      return false;
    }
  }

  private async closeLink(): Promise<void> {
    const link = this.link;
    this.channel?.dispose();
    this.channel = undefined;
    this.link = undefined;
    if (link?.isOpen) await link.close();
  }

  /** Sends a command; null when it timed out or failed (a timeout counts as a missed answer). */
  private async at(command: string, expect?: string, timeoutMs?: number): Promise<string[] | null> {
    if (!this.channel) return null;
    try {
      const lines = await this.channel.send(command, { ...(expect ? { expect } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
      this.missed = 0;
      return lines;
    } catch (err) {
      if (isPgwError(err, 'PGW_E_HW_TIMEOUT') || isPgwError(err, 'PGW_E_HW_IO')) this.missed++;
      else this.missed = 0;
      throw err;
    }
  }

  private async tryCommand(command: string): Promise<boolean> {
    try {
      await this.at(command);
      return true;
    } catch {
      return false;
    }
  }

  private async handshake(): Promise<boolean> {
    if (!(await this.ensureChannel())) return false;
    // A modem just out of reset may swallow the first AT while it autobauds (V.250 §4.3).
    if (!(await this.tryCommand('AT')) && !(await this.tryCommand('AT'))) return false;
    await this.tryCommand('ATE0');
    // Numeric +CME ERROR codes, so SIM errors can be told apart (TS 27.007 §9.1).
    await this.tryCommand('AT+CMEE=1');
    // Registration URCs with area and cell (<n>=2), so loss of service is seen between polls.
    await this.tryCommand('AT+CREG=2');
    await this.tryCommand('AT+CEREG=2');
    this.qcsqSupported = true;
    return true;
  }

  private async pollStatus(): Promise<void> {
    const missedBefore = this.missed;
    this.st.sim = await this.readSim();
    const csq = await this.query('AT+CSQ', '+CSQ:', parseCsq);
    let signal: ModemSignal = { ...EMPTY_SIGNAL, rssiDbm: csq?.rssiDbm ?? null };
    if (this.qcsqSupported) {
      try {
        const lines = await this.at('AT+QCSQ', '+QCSQ:');
        const q = lines ? lines.map(parseQcsq).find((x) => x !== null) : undefined;
        if (q) signal = { rssiDbm: q.rssiDbm ?? signal.rssiDbm, rsrp: q.rsrp, rsrq: q.rsrq, sinrDb: q.sinrDb, bars: 0 };
      } catch (err) {
        // Not every firmware has AT+QCSQ; CSQ alone is enough.
        if (isPgwError(err, 'PGW_E_HW_PROTOCOL')) this.qcsqSupported = false;
      }
    }
    signal.bars = signalBars(signal);
    this.st.signal = signal;
    this.creg = (await this.query('AT+CREG?', '+CREG:', (l) => parseReg(l, '+CREG', 'answer'))) ?? this.creg;
    this.cereg = (await this.query('AT+CEREG?', '+CEREG:', (l) => parseReg(l, '+CEREG', 'answer'))) ?? this.cereg;
    this.applyRegistration();
    const cops = await this.query('AT+COPS?', '+COPS:', parseCops);
    if (cops) {
      this.st.operator = isRegistered(this.st.registration) ? cops.operator : null;
      this.st.tech = cops.tech ?? this.st.tech;
    }
    const attached = await this.query('AT+CGATT?', '+CGATT:', parseCgatt);
    if (attached !== null) this.st.attached = attached;
    if (this.o.servingCell) this.st.servingCell = await this.query('AT+QENG="servingcell"', '+QENG:', parseServingCell);
    if (this.missed > missedBefore) this.o.logger.debug({ missed: this.missed }, 'modem missed answers');
  }

  private async readSim(): Promise<SimState> {
    try {
      const lines = await this.at('AT+CPIN?', '+CPIN:');
      return lines?.map(parseCpin).find((x) => x !== null) ?? 'unknown';
    } catch (err) {
      if (isPgwError(err, 'PGW_E_HW_PROTOCOL')) return simStateFromCmeError(String(err.context.error ?? ''));
      return this.st.sim;
    }
  }

  private async query<T>(command: string, expect: string, parse: (line: string) => T | null): Promise<T | null> {
    try {
      const lines = await this.at(command, expect);
      for (const l of lines ?? []) {
        const v = parse(l);
        if (v !== null) return v;
      }
      return null;
    } catch {
      return null;
    }
  }

  private applyRegistration(): void {
    const eps = this.cereg;
    const cs = this.creg;
    const best = eps && isRegistered(eps.status) ? eps : cs && isRegistered(cs.status) ? cs : (eps ?? cs);
    this.st.registration = best?.status ?? 'unknown';
    if (best?.tech) this.st.tech = best.tech;
    if (!isRegistered(this.st.registration)) {
      this.st.operator = null;
      this.st.attached = false;
    }
  }

  private onUrc(line: string): void {
    if (line === 'RDY' && this.st.phase === 'resetting') {
      this.settleTimer?.cancel();
      this.transition('starting', 'modem sent RDY');
      this.schedule(0);
      return;
    }
    const cereg = parseReg(line, '+CEREG', 'urc');
    const creg = cereg ? null : parseReg(line, '+CREG', 'urc');
    if (cereg) this.cereg = cereg;
    if (creg) this.creg = creg;
    if (cereg || creg) {
      this.applyRegistration();
      this.publish();
      return;
    }
    const sim = parseCpin(line);
    if (sim) {
      this.st.sim = sim;
      this.publish();
    }
  }

  // ------------------------------------------------------------ data path and recovery

  private async probeData(): Promise<void> {
    const probe = this.o.dataProbe;
    if (!probe || !isRegistered(this.st.registration) || !this.st.attached || this.st.sim !== 'ready') {
      if (!probe && this.st.attached) this.backoffMs = this.o.resetBackoffMinMs;
      if (!this.st.attached) this.st.dataPath = 'unknown';
      this.deadProbes = 0;
      return;
    }
    const ok = await this.withTimeout(probe(), this.o.probeTimeoutMs);
    if (this.st.phase !== 'ready') return;
    if (ok) {
      this.deadProbes = 0;
      this.st.dataPath = 'ok';
      // A working link proves the last reset worked: the next trouble starts the backoff afresh.
      this.backoffMs = this.o.resetBackoffMinMs;
      return;
    }
    this.deadProbes++;
    this.o.logger.info({ deadProbes: this.deadProbes }, 'modem data probe failed');
    if (this.deadProbes >= this.o.deadAfter) {
      this.st.dataPath = 'dead';
      await this.maybeReset('attached but no data');
    }
  }

  private withTimeout(p: Promise<boolean>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = this.o.clock.setTimer(ms, () => resolve(false));
      p.then(
        (v) => {
          t.cancel();
          resolve(v);
        },
        () => {
          t.cancel();
          resolve(false);
        },
      );
    });
  }

  private async maybeReset(reason: string): Promise<void> {
    const now = this.o.clock.monotonic();
    if (now < this.nextResetAt) {
      this.o.logger.info({ reason, waitMs: this.nextResetAt - now }, 'modem reset held off by backoff');
      return;
    }
    const wasUnresponsive = this.st.phase === 'unresponsive';
    this.transition('resetting', reason);
    this.st.resets++;
    this.st.lastReset = { reason, at: this.o.clock.now() };
    this.nextResetAt = now + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.o.resetBackoffMaxMs);
    this.deadProbes = 0;
    this.st.dataPath = 'unknown';
    this.st.attached = false;
    this.st.registration = 'unknown';
    this.st.operator = null;
    this.cereg = null;
    this.creg = null;
    this.publish();
    if (wasUnresponsive && this.o.powerCycle) {
      // A modem that answers nothing will not take AT+CFUN either: cut its power.
      try {
        await this.o.powerCycle();
      } catch (err) {
        this.o.logger.error({ err: errText(err) }, 'modem power cycle failed');
      }
    } else if (this.channel) {
      // Quectel: AT+CFUN=1,1 resets the module; it answers OK and then drops off (EC2x manual, AT+CFUN).
      try {
        await this.channel.send('AT+CFUN=1,1', { timeoutMs: wasUnresponsive ? this.o.commandTimeoutMs : 15_000 });
      } catch {
        /* no board power switch and no answer: the settle wait and a fresh start are all that is left */
      }
    }
    if (this.st.phase !== 'resetting') return;
    // Keep the port open to hear RDY where it survives the reset (it does on a UART);
    // a USB port that vanished closes itself and is opened again on the next start.
    this.settleTimer = this.o.clock.setTimer(this.o.settleMs, () => {
      if (this.st.phase !== 'resetting') return;
      this.transition('starting', 'settle time passed');
      void this.closeLink().then(() => this.schedule(0));
    });
  }

  // ------------------------------------------------------------ state

  private transition(to: ModemPhase, why: string): void {
    const from = this.st.phase;
    if (!TRANSITIONS[from].includes(to)) {
      throw new PgwError('PGW_E_STATE_TRANSITION', `modem: illegal transition ${from} -> ${to}`, { context: { from, to, why } });
    }
    this.st.phase = to;
    this.missed = 0;
    this.o.logger.info({ from, to, why }, 'modem phase');
  }

  private lastPublished = '';

  private publish(): void {
    const json = JSON.stringify(this.st);
    if (json !== this.lastPublished) {
      this.lastPublished = json;
      this.changes.emit(this.status());
    }
    const h = this.deriveHealth();
    if (h.up !== this.health.up || h.reason !== this.health.reason) {
      this.health = { ...h, since: this.o.clock.now() };
      this.healthChanges.emit(this.linkHealth());
    } else {
      this.health = { ...h, since: this.health.since };
    }
  }

  private deriveHealth(): Omit<LinkHealth, 'since'> {
    const s = this.st;
    const base = { signalBars: s.signal.bars, rssiDbm: s.signal.rssiDbm, tech: s.tech, operator: s.operator };
    const down = (reason: LinkDownReason) => ({ ...base, up: false, reason });
    switch (s.phase) {
      case 'stopped':
      case 'starting':
      case 'unresponsive':
      case 'resetting':
        return down(s.phase);
      case 'ready':
        break;
      default: {
        const never: never = s.phase;
        return never;
      }
    }
    if (s.sim === 'absent' || s.sim === 'unknown' || s.sim === 'not-ready') return down('no-sim');
    if (s.sim === 'pin-required' || s.sim === 'puk-required') return down('sim-locked');
    if (s.registration === 'denied') return down('registration-denied');
    if (!isRegistered(s.registration)) return down(s.signal.rssiDbm === null && s.signal.rsrp === null ? 'no-signal' : 'not-registered');
    if (!s.attached) return down('not-attached');
    if (s.dataPath === 'dead') return down('data-dead');
    return { ...base, up: true, reason: 'ok' };
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
