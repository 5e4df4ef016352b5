/**
 * PoeController over a LineLink (docs/HARDWARE.md, "PoE controller protocol").
 */
import type { Clock } from '../../firmware/src/util/clock.js';
import { PgwError } from '../../firmware/src/util/errors.js';
import { CommandChannel, LINE_PROTOCOL_DIALECT } from '../serial/command-channel.js';
import type { LineLink } from '../serial/line-link.js';
import { Listeners } from '../serial/line-link.js';
import type { PoeBudget, PoeController, PoeEvent, PoeInfo, PoePortStatus } from './poe-controller.js';
import { parseBudgetLine, parseInfoLine, parsePoeEvent, parsePortLine } from './poe-protocol.js';

export interface SerialPoeOptions {
  link: LineLink;
  clock: Clock;
  timeoutMs?: number;
  /** Default off time of a power cycle: long enough for a phone's PSU to drain. */
  cycleOffMs?: number;
}

export async function openSerialPoeController(options: SerialPoeOptions): Promise<SerialPoeController> {
  const c = new SerialPoeController(options);
  c.cachedInfo = await c.info();
  return c;
}

export class SerialPoeController implements PoeController {
  private readonly channel: CommandChannel;
  private readonly events = new Listeners<[PoeEvent]>();
  cachedInfo: PoeInfo | null = null;

  constructor(private readonly options: SerialPoeOptions) {
    this.channel = new CommandChannel({
      link: options.link,
      clock: options.clock,
      dialect: LINE_PROTOCOL_DIALECT,
      defaultTimeoutMs: options.timeoutMs ?? 2000,
      device: 'poe',
    });
    this.channel.onUnsolicited((line) => {
      const e = parsePoeEvent(line);
      if (e) this.events.emit(e);
    });
  }

  async info(): Promise<PoeInfo> {
    const lines = await this.channel.send('INFO');
    const info = lines.map(parseInfoLine).find((x) => x !== null);
    if (!info) throw new PgwError('PGW_E_HW_PROTOCOL', 'poe: INFO answered without an INFO line', { context: { lines } });
    return info;
  }

  async ports(): Promise<PoePortStatus[]> {
    const lines = await this.channel.send('STATUS');
    return lines.map(parsePortLine).filter((x): x is PoePortStatus => x !== null);
  }

  async port(port: number): Promise<PoePortStatus> {
    this.checkPort(port);
    const lines = await this.channel.send(`PORT ${port}`);
    const s = lines.map(parsePortLine).find((x) => x !== null && x.port === port);
    if (!s) throw new PgwError('PGW_E_HW_PROTOCOL', `poe: no status for port ${port}`, { context: { lines } });
    return s;
  }

  async budget(): Promise<PoeBudget> {
    const lines = await this.channel.send('STATUS');
    const b = lines.map(parseBudgetLine).find((x) => x !== null);
    if (!b) throw new PgwError('PGW_E_HW_PROTOCOL', 'poe: STATUS answered without a BUDGET line', { context: { lines } });
    return b.budget;
  }

  async setEnabled(port: number, enabled: boolean): Promise<void> {
    this.checkPort(port);
    await this.channel.send(`${enabled ? 'ENABLE' : 'DISABLE'} ${port}`);
  }

  async powerCycle(port: number, offMs?: number): Promise<void> {
    this.checkPort(port);
    const ms = Math.max(500, Math.min(60_000, Math.round(offMs ?? this.options.cycleOffMs ?? 5000)));
    await this.channel.send(`CYCLE ${port} ${ms}`);
  }

  onEvent(listener: (event: PoeEvent) => void): () => void {
    return this.events.add(listener);
  }

  async close(): Promise<void> {
    this.channel.dispose();
    await this.options.link.close();
  }

  private checkPort(port: number): void {
    const max = this.cachedInfo?.ports ?? 48;
    if (!Number.isInteger(port) || port < 1 || port > max) {
      throw new PgwError('PGW_E_HW_PROTOCOL', `poe: no port ${port} (ports 1..${max})`, { context: { port } });
    }
  }
}
