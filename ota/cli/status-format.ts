/**
 * `pgw fleet ota status` output: one row per box. On a terminal the
 * progress column is a bar; otherwise plain numbers (for scripts and logs).
 */
import type { OtaReported } from '../protocol/reported.js';
import { humanBytes, progressBar } from './progress-bar.js';

function detail(r: OtaReported): string {
  if (r.reason) return `${r.reason.code}: ${r.reason.message}`;
  if (r.waiting) {
    const w = r.waiting;
    if (w.for === 'calls') return `waiting for ${w.activeCalls ?? '?'} call(s) to end`;
    if (w.for === 'clock') return 'waiting for a trusted clock';
    return `waiting for ${w.for}${w.until ? ` until ${w.until}` : ''}`;
  }
  if (r.trial) {
    const soak = r.trial.soakRemainingMs;
    return `trial boot ${r.trial.boots}, ${r.trial.healthy === false ? 'unhealthy' : r.trial.healthy ? 'healthy' : 'checking'}${soak !== null ? `, commit in ${Math.ceil(soak / 1000)} s` : ''}`;
  }
  if (r.queued) return `next: ${r.queued.version}`;
  return '';
}

function progress(r: OtaReported, tty: boolean): string {
  const p = r.progress;
  if (!p) return '';
  const label = p.phase === 'download' ? 'dl' : 'wr';
  return tty ? `${label} ${progressBar(p.percent)}` : `${label} ${p.percent.toFixed(1)}% (${humanBytes(p.bytes)}/${humanBytes(p.total)})`;
}

export function formatStatusTable(reports: ReadonlyMap<string, OtaReported>, options: { tty: boolean; columns?: number }): string {
  const header = ['DEVICE', 'STATE', 'TARGET', 'RUNNING', 'PROGRESS', 'DETAIL'];
  const rows = [...reports.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, r]) => [id, r.state, r.target?.version ?? '-', `${r.running.version}${r.running.slot ? ` (${r.running.slot})` : ''}`, progress(r, options.tty), detail(r)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => {
    const text = cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
    return options.columns && options.tty && text.length > options.columns ? `${text.slice(0, options.columns - 1)}…` : text;
  };
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
