/**
 * The front panel: a character LCD (HD44780-class, 16x2 up to 20x4), one
 * status LED and one push button, behind a small serial microcontroller that
 * speaks the line protocol in docs/HARDWARE.md ("Front panel protocol"),
 * modelled on serial LCD backpacks (one command a line, an answer for each).
 */
export type LedColour = 'off' | 'green' | 'amber' | 'red';
export type LedMode = 'solid' | 'blink';

export interface LedState {
  colour: LedColour;
  mode: LedMode;
}

export type ButtonEdge = 'down' | 'up';

export interface FrontPanel {
  readonly cols: number;
  readonly rows: number;
  /** Show these rows (missing rows are blank); only rows that changed go over the wire. */
  show(lines: readonly string[]): Promise<void>;
  setLed(led: LedState): Promise<void>;
  setBacklight(level: number): Promise<void>;
  /** Raw button edges; the controller times presses and holds on its clock. */
  onButton(listener: (edge: ButtonEdge) => void): () => void;
  close(): Promise<void>;
}

/**
 * What an HD44780 with the common A00 ROM can show: printable ASCII. Accents
 * are folded (é → e) and anything else becomes '?', so a practice or operator
 * name never puts a garbage glyph on the screen.
 */
export function toPanelText(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '?');
}

/** Pads or cuts a row to the panel's width. */
export function fitRow(s: string, cols: number): string {
  const t = toPanelText(s);
  return t.length >= cols ? t.slice(0, cols) : t + ' '.repeat(cols - t.length);
}
