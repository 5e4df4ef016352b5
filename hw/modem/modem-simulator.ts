/**
 * A Quectel EC2x-like modem on the far end of a LineLink, answering the AT
 * commands the monitor sends the way the module does (EC2x AT Commands
 * Manual; 3GPP TS 27.007), with URCs. Tests and the development rig use it to
 * make the modem lose signal, drop registration, wedge, lose its data path
 * and come back, against the real driver over a pseudo-terminal.
 */
import type { Clock, TimerHandle } from '../../firmware/src/util/clock.js';
import type { LineLink } from '../serial/line-link.js';

export interface ModemSimOptions {
  link: LineLink;
  clock: Clock;
  operator?: string;
  /** How long AT+CFUN=1,1 keeps the module silent before RDY. */
  rebootMs?: number;
}

export type SimCard = 'ready' | 'absent' | 'pin';

export class ModemSimulator {
  echo = true;
  sim: SimCard = 'ready';
  /** CSQ rssi 0..31 (99: no signal). */
  csq = 22;
  rsrp = -92;
  rsrq = -11;
  /** QCSQ raw SINR (value / 5 - 20 dB). */
  sinrRaw = 120;
  /** TS 27.007 <stat>: 1 home, 2 searching, 5 roaming, 3 denied. */
  stat = 1;
  attached = true;
  operator: string;
  /** When true the module ignores every byte (a wedged firmware). */
  wedged = false;
  /** Whether data would pass over the network interface (read by the test's data probe). */
  dataPathWorks = true;
  resets = 0;
  /** Every command line received, for assertions. */
  readonly received: string[] = [];
  private cregN = 0;
  private ceregN = 0;
  private cmee = 0;
  private rebooting: TimerHandle | undefined;
  private readonly off: () => void;

  constructor(private readonly options: ModemSimOptions) {
    this.operator = options.operator ?? 'EE';
    this.off = options.link.onLine((line) => void this.onLine(line));
  }

  dispose(): void {
    this.off();
    this.rebooting?.cancel();
  }

  // ------------------------------------------------------------ controls

  /** The aerial goes dark: no signal, registration lost (URCs if enabled), detached. */
  loseSignal(): void {
    this.csq = 99;
    this.setStat(2);
    this.attached = false;
  }

  /** Signal and service are back. */
  restoreSignal(): void {
    this.csq = 22;
    this.setStat(1);
    this.attached = true;
  }

  /** Change the registration state, with the URCs the module would send. */
  setStat(stat: number): void {
    const changed = stat !== this.stat;
    this.stat = stat;
    if (!changed || this.wedged || this.rebooting) return;
    if (this.cregN > 0) void this.send(`+CREG: ${stat}`);
    if (this.ceregN > 0) void this.send(`+CEREG: ${stat}`);
  }

  wedge(): void {
    this.wedged = true;
  }

  /** Attached and registered, but packets go nowhere (a stuck PDP context) until the module resets. */
  breakDataPath(): void {
    this.dataPathWorks = false;
  }

  /** The board cut and restored the module's power: a wedged module comes back too. */
  powerCycle(): void {
    this.rebooting?.cancel();
    this.rebooting = undefined;
    this.wedged = false;
    this.reboot();
  }

  // ------------------------------------------------------------ protocol

  private send(line: string): Promise<void> {
    // Quectel frames every answer as <CR><LF>text<CR><LF>; the link adds the trailing one.
    return this.options.link.writeLine(`\r\n${line}`).catch(() => undefined);
  }

  private async answer(lines: string[], final = 'OK'): Promise<void> {
    for (const l of lines) await this.send(l);
    await this.send(final);
  }

  private error(code: number): Promise<void> {
    return this.send(this.cmee > 0 ? `+CME ERROR: ${code}` : 'ERROR');
  }

  private async onLine(raw: string): Promise<void> {
    if (this.wedged || this.rebooting) return;
    const line = raw.trim();
    if (!line) return;
    this.received.push(line);
    if (this.echo) await this.options.link.writeLine(line).catch(() => undefined);
    const cmd = line.toUpperCase();
    const registered = this.stat === 1 || this.stat === 5;
    switch (true) {
      case cmd === 'AT':
        return this.answer([]);
      case cmd === 'ATE0':
        this.echo = false;
        return this.answer([]);
      case cmd === 'ATE1':
        this.echo = true;
        return this.answer([]);
      case cmd === 'ATI':
        return this.answer(['Quectel', 'EC25', 'Revision: EC25EFAR06A06M4G (simulated)']);
      case /^AT\+CMEE=[012]$/.test(cmd):
        this.cmee = Number(cmd.slice(-1));
        return this.answer([]);
      case cmd === 'AT+CPIN?':
        if (this.sim === 'absent') return this.error(10);
        return this.answer([this.sim === 'pin' ? '+CPIN: SIM PIN' : '+CPIN: READY']);
      case cmd === 'AT+CSQ':
        return this.answer([`+CSQ: ${this.sim === 'ready' ? this.csq : 99},99`]);
      case cmd === 'AT+QCSQ':
        if (this.csq === 99 || this.sim !== 'ready') return this.answer(['+QCSQ: "NOSERVICE"']);
        return this.answer([`+QCSQ: "LTE",${-113 + 2 * this.csq},${this.rsrp},${this.sinrRaw},${this.rsrq}`]);
      case /^AT\+CREG=[012]$/.test(cmd):
        this.cregN = Number(cmd.slice(-1));
        return this.answer([]);
      case /^AT\+CEREG=[012]$/.test(cmd):
        this.ceregN = Number(cmd.slice(-1));
        return this.answer([]);
      case cmd === 'AT+CREG?':
        return this.answer([this.regLine('+CREG', this.cregN)]);
      case cmd === 'AT+CEREG?':
        return this.answer([this.regLine('+CEREG', this.ceregN)]);
      case cmd === 'AT+COPS?':
        return this.answer([registered && this.sim === 'ready' ? `+COPS: 0,0,"${this.operator}",7` : '+COPS: 0']);
      case cmd === 'AT+CGATT?':
        return this.answer([`+CGATT: ${this.attached && registered ? 1 : 0}`]);
      case /^AT\+CGATT=[01]$/.test(cmd):
        this.attached = cmd.endsWith('1');
        return this.answer([]);
      case cmd === 'AT+QENG="SERVINGCELL"':
        if (!registered) return this.answer(['+QENG: "servingcell","SEARCH"']);
        return this.answer([
          `+QENG: "servingcell","NOCONN","LTE","FDD",234,30,1A2B3C4,123,1300,3,5,5,4A1,${this.rsrp},${this.rsrq},${-113 + 2 * this.csq},${Math.round(this.sinrRaw / 10)},10,-,-`,
        ]);
      case cmd === 'AT+CFUN?':
        return this.answer(['+CFUN: 1']);
      case cmd === 'AT+CFUN=1,1':
        await this.answer([]);
        this.reboot();
        return;
      default:
        return this.send('ERROR');
    }
  }

  private regLine(name: string, n: number): string {
    const stat = this.sim === 'ready' ? this.stat : 0;
    const registered = stat === 1 || stat === 5;
    return n === 2 && registered ? `${name}: ${n},${stat},"4A1","1A2B3C4",7` : `${name}: ${n},${stat}`;
  }

  /** AT+CFUN=1,1: silent for rebootMs, then back with defaults and RDY (and a working data path). */
  private reboot(): void {
    this.resets++;
    const ms = this.options.rebootMs ?? 500;
    this.rebooting = this.options.clock.setTimer(ms, () => {
      this.rebooting = undefined;
      this.echo = true;
      this.cregN = 0;
      this.ceregN = 0;
      this.cmee = 0;
      this.wedged = false;
      this.dataPathWorks = true;
      void this.send('RDY');
    });
  }
}
