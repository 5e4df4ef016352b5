/**
 * The table `pgw fleet status` prints: one row per box, from its retained
 * `status` and `config/reported`.
 */
import type { ReportedConfig, StatusPayload } from '../../sync/payloads.js';

export interface BoxView {
  deviceId: string;
  status?: StatusPayload;
  reported?: ReportedConfig;
}

export const STATUS_COLUMNS = ['DEVICE', 'ONLINE', 'MODE', 'CONFIG', 'UPLINKS', 'REGS', 'CALLS', 'FIRMWARE', 'SEEN'] as const;

function age(at: string | undefined, now: number): string {
  if (!at) return '-';
  const t = Date.parse(at);
  if (!Number.isFinite(t)) return '-';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

function configCell(b: BoxView): string {
  const s = b.status;
  const running = s && s.online ? s.configVersion : (b.reported?.appliedVersion ?? null);
  let cell = running === null || running === undefined ? '-' : String(running);
  const r = b.reported;
  if (r && r.status === 'rejected' && r.version !== null) cell += ` (v${r.version} rejected)`;
  return cell;
}

export function statusRow(b: BoxView, now: number): string[] {
  const s = b.status;
  if (!s) return [b.deviceId, '?', '-', configCell(b), '-', '-', '-', '-', '-'];
  if (!s.online) return [b.deviceId, 'no', '-', configCell(b), '-', '-', '-', '-', age(s.at, now)];
  return [
    b.deviceId,
    'yes',
    s.mode,
    configCell(b),
    s.uplinks.length === 0 ? '-' : s.uplinks.map((u) => `${u.name}:${u.state}`).join(' '),
    String(s.registrations),
    String(s.activeCalls),
    `${s.firmware.version}/${s.firmware.slot}`,
    age(s.at, now),
  ];
}

/** Columns padded to their widest cell, two spaces apart. */
export function formatTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
