/**
 * The front panel's microcontroller on the far end of a LineLink
 * (docs/HARDWARE.md, "Front panel protocol"): it keeps the screen buffer,
 * LED and backlight the host set, which a test reads back, and it presses the
 * button on request.
 */
import type { LineLink } from '../serial/line-link.js';
import type { LedState } from './front-panel.js';

export interface PanelSimOptions {
  link: LineLink;
  cols?: number;
  rows?: number;
}

export class PanelSimulator {
  readonly cols: number;
  readonly rows: number;
  private screenRows: string[];
  led: LedState = { colour: 'off', mode: 'solid' };
  backlight = 255;
  /** Every command received, for assertions. */
  readonly received: string[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly off: () => void;

  constructor(private readonly options: PanelSimOptions) {
    this.cols = options.cols ?? 20;
    this.rows = options.rows ?? 4;
    this.screenRows = this.blank();
    this.off = options.link.onLine((line) => void this.onLine(line));
  }

  dispose(): void {
    this.off();
  }

  /** The screen as the installer would read it (rows right-trimmed). */
  screen(): string[] {
    return this.screenRows.map((r) => r.replace(/\s+$/, ''));
  }

  /** The screen as one string, rows joined by '|', for quick matching. */
  text(): string {
    return this.screen().join('|');
  }

  /** Called after every command the panel has applied. */
  onUpdate(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  pressButton(): Promise<void> {
    return this.options.link.writeLine('EVT BTN DOWN');
  }

  releaseButton(): Promise<void> {
    return this.options.link.writeLine('EVT BTN UP');
  }

  /** Power glitch on the panel: screen lost, host told. */
  restart(): Promise<void> {
    this.screenRows = this.blank();
    this.led = { colour: 'off', mode: 'solid' };
    return this.options.link.writeLine('EVT RESET');
  }

  private blank(): string[] {
    return Array.from({ length: this.rows }, () => ' '.repeat(this.cols));
  }

  private async onLine(line: string): Promise<void> {
    this.received.push(line);
    const reply = this.apply(line);
    for (const r of reply) await this.options.link.writeLine(r).catch(() => undefined);
    for (const l of [...this.listeners]) l();
  }

  private apply(line: string): string[] {
    if (line === 'HELLO') return [`PANEL ${this.cols}x${this.rows} sim-1`, 'OK'];
    if (line === 'PING') return ['OK'];
    if (line === 'CLR') {
      this.screenRows = this.blank();
      return ['OK'];
    }
    const txt = /^TXT (\d) (.*)$/s.exec(line) ?? /^TXT (\d)$/.exec(line);
    if (txt) {
      const row = Number(txt[1]);
      if (row >= this.rows) return ['ERR row out of range'];
      const text = (txt[2] ?? '').slice(0, this.cols);
      if (/[^\x20-\x7e]/.test(text)) return ['ERR bad character'];
      this.screenRows[row] = text.padEnd(this.cols, ' ');
      return ['OK'];
    }
    const led = /^LED (off|green|amber|red) (solid|blink)$/.exec(line);
    if (led) {
      this.led = { colour: led[1] as LedState['colour'], mode: led[2] as LedState['mode'] };
      return ['OK'];
    }
    const bl = /^BL (\d{1,3})$/.exec(line);
    if (bl && Number(bl[1]) <= 255) {
      this.backlight = Number(bl[1]);
      return ['OK'];
    }
    return ['ERR unknown command'];
  }
}
