/**
 * Parsing and formatting of the PoE controller line protocol
 * (docs/HARDWARE.md, "PoE controller protocol"). Shared by the driver and
 * the simulator so both sides agree on one grammar; fields are `key=value`
 * so a later firmware may add fields without breaking this parser.
 */
import type { PoeBudget, PoeEvent, PoeInfo, PoePortStatus, PortPower } from './poe-controller.js';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function parseFields(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of s.trim().split(/\s+/)) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i), part.slice(i + 1));
  }
  return out;
}

function nonNegInt(v: string | undefined): number | null {
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}

const POWERS: readonly PortPower[] = ['on', 'off', 'fault', 'cycling'];

/** `PORT <n> en=1 link=up power=on class=2 mw=4200 mac=00:15:65:aa:bb:cc` (also after `EVT `). */
export function parsePortLine(line: string): PoePortStatus | null {
  const m = /^(?:EVT )?PORT (\d{1,2}) (.*)$/.exec(line);
  if (!m) return null;
  const f = parseFields(m[2]!);
  const link = f.get('link');
  const power = f.get('power');
  const mw = nonNegInt(f.get('mw'));
  const cls = f.get('class');
  const mac = (f.get('mac') ?? '-').toLowerCase();
  if ((link !== 'up' && link !== 'down') || !POWERS.includes(power as PortPower) || mw === null) return null;
  const powerClass = cls === undefined || cls === '-' ? null : nonNegInt(cls);
  if (powerClass !== null && powerClass > 8) return null;
  return {
    port: Number(m[1]),
    enabled: f.get('en') !== '0',
    link,
    power: power as PortPower,
    powerClass,
    drawMw: mw,
    mac: MAC.test(mac) ? mac : null,
  };
}

export function formatPortLine(s: PoePortStatus): string {
  return `PORT ${s.port} en=${s.enabled ? 1 : 0} link=${s.link} power=${s.power} class=${s.powerClass ?? '-'} mw=${s.drawMw} mac=${s.mac ?? '-'}`;
}

/** `BUDGET used=<mW> max=<mW>` or the event `EVT BUDGET used=.. max=.. over|ok`. */
export function parseBudgetLine(line: string): { budget: PoeBudget; over: boolean | null } | null {
  const m = /^(?:EVT )?BUDGET (.*)$/.exec(line);
  if (!m) return null;
  const f = parseFields(m[1]!);
  const usedMw = nonNegInt(f.get('used'));
  const maxMw = nonNegInt(f.get('max'));
  if (usedMw === null || maxMw === null) return null;
  const words = m[1]!.split(/\s+/);
  const over = words.includes('over') ? true : words.includes('ok') ? false : null;
  return { budget: { usedMw, maxMw }, over };
}

export function formatBudgetLine(b: PoeBudget): string {
  return `BUDGET used=${b.usedMw} max=${b.maxMw}`;
}

/** `INFO ports=8 budget=120000 fw=1.3`. */
export function parseInfoLine(line: string): PoeInfo | null {
  if (!line.startsWith('INFO ')) return null;
  const f = parseFields(line.slice(5));
  const ports = nonNegInt(f.get('ports'));
  const budgetMw = nonNegInt(f.get('budget'));
  if (ports === null || ports < 1 || ports > 48 || budgetMw === null) return null;
  return { ports, budgetMw, firmware: f.get('fw') ?? 'unknown' };
}

export function parsePoeEvent(line: string): PoeEvent | null {
  if (!line.startsWith('EVT ')) return null;
  const port = parsePortLine(line);
  if (port) return { type: 'port', status: port };
  const b = parseBudgetLine(line);
  if (b) return { type: 'budget', budget: b.budget, over: b.over ?? b.budget.usedMw > b.budget.maxMw };
  return null;
}
