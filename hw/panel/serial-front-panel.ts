/**
 * The front-panel driver over a LineLink (docs/HARDWARE.md, "Front panel
 * protocol"). It asks the panel its size with HELLO, keeps a copy of what
 * the screen shows so that only changed rows are sent (a 9600-baud panel
 * repaints 4x20 in ~100 ms: worth saving), and repaints everything when the
 * panel says it restarted (EVT RESET).
 */
import type { Clock } from '../../firmware/src/util/clock.js';
import { PgwError } from '../../firmware/src/util/errors.js';
import { CommandChannel, LINE_PROTOCOL_DIALECT } from '../serial/command-channel.js';
import type { LineLink } from '../serial/line-link.js';
import { Listeners } from '../serial/line-link.js';
import type { ButtonEdge, FrontPanel, LedState } from './front-panel.js';
import { fitRow } from './front-panel.js';

export interface PanelHello {
  cols: number;
  rows: number;
  firmware: string;
}

/** `PANEL <cols>x<rows> <firmware>`. */
export function parsePanelHello(line: string): PanelHello | null {
  const m = /^PANEL (\d{1,2})x(\d) (\S+)$/.exec(line);
  if (!m) return null;
  const cols = Number(m[1]);
  const rows = Number(m[2]);
  if (cols < 8 || cols > 40 || rows < 1 || rows > 4) return null;
  return { cols, rows, firmware: m[3]! };
}

export type PanelEvent = { type: 'button'; edge: ButtonEdge } | { type: 'reset' };

export function parsePanelEvent(line: string): PanelEvent | null {
  switch (line) {
    case 'EVT BTN DOWN':
      return { type: 'button', edge: 'down' };
    case 'EVT BTN UP':
      return { type: 'button', edge: 'up' };
    case 'EVT RESET':
      return { type: 'reset' };
    default:
      return null;
  }
}

export interface SerialFrontPanelOptions {
  link: LineLink;
  clock: Clock;
  timeoutMs?: number;
}

export async function openSerialFrontPanel(options: SerialFrontPanelOptions): Promise<SerialFrontPanel> {
  const channel = new CommandChannel({
    link: options.link,
    clock: options.clock,
    dialect: LINE_PROTOCOL_DIALECT,
    defaultTimeoutMs: options.timeoutMs ?? 1000,
    device: 'panel',
  });
  let hello: PanelHello | null = null;
  try {
    const lines = await channel.send('HELLO');
    hello = lines.map(parsePanelHello).find((x) => x !== null) ?? null;
  } catch (err) {
    channel.dispose();
    throw err;
  }
  if (!hello) {
    channel.dispose();
    throw new PgwError('PGW_E_HW_PROTOCOL', 'panel: HELLO answered without a PANEL line');
  }
  const panel = new SerialFrontPanel(options.link, channel, hello);
  await panel.clear();
  return panel;
}

export class SerialFrontPanel implements FrontPanel {
  readonly cols: number;
  readonly rows: number;
  readonly firmware: string;
  private shown: string[];
  private wanted: string[];
  private led: LedState | null = null;
  private readonly buttons = new Listeners<[ButtonEdge]>();

  constructor(
    private readonly link: LineLink,
    private readonly channel: CommandChannel,
    hello: PanelHello,
  ) {
    this.cols = hello.cols;
    this.rows = hello.rows;
    this.firmware = hello.firmware;
    this.shown = Array.from({ length: this.rows }, () => fitRow('', this.cols));
    this.wanted = [...this.shown];
    channel.onUnsolicited((line) => {
      const e = parsePanelEvent(line);
      if (!e) return;
      if (e.type === 'button') this.buttons.emit(e.edge);
      else void this.repaint().catch(() => undefined);
    });
  }

  async clear(): Promise<void> {
    await this.channel.send('CLR');
    this.shown = this.shown.map(() => fitRow('', this.cols));
  }

  async show(lines: readonly string[]): Promise<void> {
    this.wanted = Array.from({ length: this.rows }, (_, i) => fitRow(lines[i] ?? '', this.cols));
    for (let row = 0; row < this.rows; row++) {
      const text = this.wanted[row]!;
      if (this.shown[row] === text) continue;
      // Trailing blanks are sent too: the panel pads, but a shorter row must wipe the old one.
      await this.channel.send(`TXT ${row} ${text}`);
      this.shown[row] = text;
    }
  }

  async setLed(led: LedState): Promise<void> {
    if (this.led && this.led.colour === led.colour && this.led.mode === led.mode) return;
    await this.channel.send(`LED ${led.colour} ${led.mode}`);
    this.led = { ...led };
  }

  async setBacklight(level: number): Promise<void> {
    const v = Math.max(0, Math.min(255, Math.round(level)));
    await this.channel.send(`BL ${v}`);
  }

  onButton(listener: (edge: ButtonEdge) => void): () => void {
    return this.buttons.add(listener);
  }

  async close(): Promise<void> {
    this.channel.dispose();
    await this.link.close();
  }

  /** The panel restarted and lost its screen: send it all again. */
  private async repaint(): Promise<void> {
    this.shown = this.shown.map(() => '');
    const led = this.led;
    this.led = null;
    await this.show(this.wanted);
    if (led) await this.setLed(led);
  }
}
