/**
 * What each front-panel page shows, as pure functions of a snapshot of the
 * gateway's state. Each page lists its lines most important first, so a
 * 16x2 panel shows the top two and a 20x4 panel all four.
 */
import type { LedState } from './front-panel.js';

export interface PanelSnapshot {
  deviceId: string;
  mode: 'normal' | 'survivability';
  uplinks: ReadonlyArray<{ name: string; state: string }>;
  registrations: number;
  activeCalls: number;
  addresses: ReadonlyArray<{ name: string; role?: string; address: string }>;
  alarms: ReadonlyArray<{ alarm: string; severity: 'warning' | 'critical'; message: string }>;
  /** Null when no update is under way. */
  ota: { state: string; version?: string; percent?: number } | null;
  /** Shown until the box is claimed in the cloud portal; null once claimed. */
  claimCode: string | null;
  modem?: { up: boolean; reason: string; bars: number; operator: string | null } | null;
  health?: { loadPercent: number | null; temperatureC: number | null; diskFreePercent: number | null } | null;
}

export const PAGES = ['claim', 'mode', 'uplinks', 'calls', 'network', 'alarms', 'ota', 'system'] as const;
export type PanelPage = (typeof PAGES)[number];

/** Pages worth showing for this snapshot, in button order. */
export function visiblePages(s: PanelSnapshot): PanelPage[] {
  return PAGES.filter((p) => {
    switch (p) {
      case 'claim':
        return s.claimCode !== null;
      case 'ota':
        return s.ota !== null;
      case 'mode':
      case 'uplinks':
      case 'calls':
      case 'network':
      case 'alarms':
      case 'system':
        return true;
      default: {
        const never: never = p;
        return never;
      }
    }
  });
}

/** The page the panel goes back to when left alone. */
export function homePage(s: PanelSnapshot): PanelPage {
  return s.claimCode !== null ? 'claim' : 'mode';
}

/** Two columns: label left, value right-aligned. */
function lr(left: string, right: string, cols: number): string {
  const space = cols - left.length - right.length;
  return space >= 1 ? left + ' '.repeat(space) + right : `${left} ${right}`;
}

function bar(percent: number, width: number): string {
  const n = Math.max(0, Math.min(width, Math.round((percent / 100) * width)));
  return '[' + '#'.repeat(n) + '.'.repeat(width - n) + ']';
}

export function renderPage(page: PanelPage, s: PanelSnapshot, size: { cols: number; rows: number }): string[] {
  const { cols } = size;
  let lines: string[];
  switch (page) {
    case 'claim':
      lines = ['CLAIM CODE', s.claimCode ?? '-', 'Enter in portal', s.deviceId];
      break;
    case 'mode': {
      const cloud = s.uplinks.find((u) => u.name === 'cloud');
      lines = [
        s.mode === 'normal' ? 'NORMAL' : 'SURVIVABILITY',
        cloud ? lr('Cloud', cloud.state, cols) : 'No cloud uplink',
        `Regs ${s.registrations} Calls ${s.activeCalls}`,
        s.deviceId,
      ];
      break;
    }
    case 'uplinks': {
      const rows = s.uplinks.map((u) => lr(u.name, u.state, cols));
      if (s.modem) rows.push(lr('4G', s.modem.up ? `${s.modem.bars}/5 ${s.modem.operator ?? ''}`.trim() : s.modem.reason, cols));
      lines = ['UPLINKS', ...(rows.length ? rows : ['none'])];
      break;
    }
    case 'calls':
      lines = ['CALLS', lr('Registered', String(s.registrations), cols), lr('Active calls', String(s.activeCalls), cols)];
      break;
    case 'network':
      lines = ['NETWORK', ...(s.addresses.length ? s.addresses.map((a) => lr(a.role ?? a.name, a.address, cols)) : ['no address'])];
      break;
    case 'alarms':
      lines = s.alarms.length
        ? [`ALARMS (${s.alarms.length})`, ...s.alarms.map((a) => `${a.severity === 'critical' ? '!!' : '!'} ${a.message}`)]
        : ['ALARMS', 'none'];
      break;
    case 'ota': {
      const o = s.ota;
      lines = o
        ? [`UPDATE ${o.version ?? ''}`.trim(), o.percent !== undefined ? `${o.state} ${Math.round(o.percent)}%` : o.state]
        : ['UPDATE', 'none'];
      if (o?.percent !== undefined) lines.push(bar(o.percent, Math.max(4, cols - 2)));
      break;
    }
    case 'system': {
      const h = s.health;
      const pct = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${Math.round(v)}%`);
      lines = [
        'SYSTEM',
        lr('CPU', `${pct(h?.loadPercent)} ${h?.temperatureC != null ? Math.round(h.temperatureC) + 'C' : ''}`.trim(), cols),
        lr('Disk free', pct(h?.diskFreePercent), cols),
      ];
      break;
    }
    default: {
      const never: never = page;
      return never;
    }
  }
  return lines.slice(0, size.rows);
}

export function renderConfirmReset(size: { rows: number }, secondsLeft: number): string[] {
  return ['FACTORY RESET?', 'Hold again to wipe', `Press to cancel ${secondsLeft}s`, 'Config+data erased'].slice(0, size.rows);
}

export function renderResetting(size: { rows: number }): string[] {
  return ['FACTORY RESET', 'Erasing, do not', 'unplug the box'].slice(0, size.rows);
}

/** Why the reset did not happen, most important first (a 16x2 shows the top two). */
export function renderResetRefused(reason: 'calls-up' | 'update-running' | 'failed', size: { rows: number }): string[] {
  switch (reason) {
    case 'calls-up':
      return ['CALLS UP', 'Hang up first', 'Reset refused', 'Then hold again'].slice(0, size.rows);
    case 'update-running':
      return ['UPDATE RUNNING', 'Try again later', 'Reset refused'].slice(0, size.rows);
    case 'failed':
      return ['RESET FAILED', 'See the log'].slice(0, size.rows);
    default: {
      const never: never = reason;
      return never;
    }
  }
}

/** Erased; the board restarts and comes back showing the new claim code. */
export function renderRestarting(size: { rows: number }, claimCode: string | null): string[] {
  return ['FACTORY RESET DONE', 'Restarting...', ...(claimCode ? ['New claim code', claimCode] : [])].slice(0, size.rows);
}

/**
 * The LED says the one thing an installer glancing at the box needs:
 * red blinking for a critical alarm, amber for survivability or a warning,
 * green blinking while an update installs, green when all is well.
 */
export function ledFor(s: PanelSnapshot): LedState {
  if (s.alarms.some((a) => a.severity === 'critical')) return { colour: 'red', mode: 'blink' };
  if (s.mode === 'survivability') return { colour: 'amber', mode: 'solid' };
  if (s.alarms.length > 0) return { colour: 'amber', mode: 'blink' };
  if (s.ota && s.ota.state !== 'idle') return { colour: 'green', mode: 'blink' };
  return { colour: 'green', mode: 'solid' };
}
