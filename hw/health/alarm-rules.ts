/**
 * Health alarms with hysteresis: an alarm is raised when its figure crosses
 * `raise` for `raiseAfter` samples in a row and cleared only when it is back
 * past `clear`, so a figure hovering at the threshold does not flap the LED,
 * the panel and the cloud's event stream.
 */
import type { HealthSnapshot } from './health-sampler.js';

export type AlarmSeverity = 'warning' | 'critical';

/** Shaped like the `alarm` event of the cloud's event stream (firmware/src/sync/payloads.ts). */
export interface HealthAlarmEvent {
  alarm: string;
  state: 'raised' | 'cleared';
  severity: AlarmSeverity;
  message: string;
  details: Record<string, unknown>;
}

export interface ActiveAlarm {
  alarm: string;
  severity: AlarmSeverity;
  message: string;
  since: number;
}

export interface AlarmRule {
  alarm: string;
  severity: AlarmSeverity;
  /** The figure, or null when it cannot be read (no change to the alarm then). */
  value(s: HealthSnapshot): number | null;
  /** 'above': raise when value >= raise, clear when value <= clear; 'below' the other way. */
  direction: 'above' | 'below';
  raise: number;
  clear: number;
  raiseAfter?: number;
  message(value: number): string;
}

export interface AlarmThresholds {
  temperatureHighC: number;
  temperatureClearC: number;
  temperatureCriticalC: number;
  diskLowPercent: number;
  diskClearPercent: number;
  /** Mount whose free space matters (the store, recordings, OTA downloads). */
  dataMount: string;
  poeBudgetHighPercent: number;
  poeBudgetClearPercent: number;
  fanMinRpm: number;
}

export const DEFAULT_THRESHOLDS: AlarmThresholds = {
  temperatureHighC: 75,
  temperatureClearC: 70,
  temperatureCriticalC: 85,
  diskLowPercent: 10,
  diskClearPercent: 15,
  dataMount: '/data',
  poeBudgetHighPercent: 90,
  poeBudgetClearPercent: 80,
  fanMinRpm: 500,
};

function freePercent(s: HealthSnapshot, mount: string): number | null {
  // The data partition; a development box without /data watches its root instead.
  const d = s.disks.find((x) => x.mount === mount) ?? s.disks.find((x) => x.mount === '/');
  if (!d || d.sizeBytes <= 0) return null;
  return (d.availableBytes / d.sizeBytes) * 100;
}

export function defaultRules(t: AlarmThresholds = DEFAULT_THRESHOLDS): AlarmRule[] {
  return [
    {
      alarm: 'temperature-high',
      severity: 'warning',
      value: (s) => s.cpu.temperatureC,
      direction: 'above',
      raise: t.temperatureHighC,
      clear: t.temperatureClearC,
      raiseAfter: 2,
      message: (v) => `CPU ${Math.round(v)}C`,
    },
    {
      alarm: 'temperature-critical',
      severity: 'critical',
      value: (s) => s.cpu.temperatureC,
      direction: 'above',
      raise: t.temperatureCriticalC,
      clear: t.temperatureHighC,
      message: (v) => `CPU ${Math.round(v)}C hot`,
    },
    {
      alarm: 'disk-low',
      severity: 'critical',
      value: (s) => freePercent(s, t.dataMount),
      direction: 'below',
      raise: t.diskLowPercent,
      clear: t.diskClearPercent,
      message: (v) => `Disk ${Math.round(v)}% free`,
    },
    {
      alarm: 'poe-budget',
      severity: 'warning',
      value: (s) => (s.poe && s.poe.maxMw > 0 ? (s.poe.usedMw / s.poe.maxMw) * 100 : null),
      direction: 'above',
      raise: t.poeBudgetHighPercent,
      clear: t.poeBudgetClearPercent,
      message: (v) => `PoE ${Math.round(v)}% of budget`,
    },
    {
      alarm: 'fan-stopped',
      severity: 'critical',
      value: (s) => s.fanRpm,
      direction: 'below',
      raise: t.fanMinRpm,
      clear: t.fanMinRpm * 1.5,
      // A fan spinning up after a stall reads 0 for a moment.
      raiseAfter: 3,
      message: (v) => `Fan ${Math.round(v)} rpm`,
    },
  ];
}

interface RuleState {
  active: ActiveAlarm | null;
  streak: number;
}

export class AlarmEvaluator {
  private readonly states = new Map<string, RuleState>();

  constructor(private readonly rules: AlarmRule[] = defaultRules()) {}

  /** Feed one sample; returns the alarms raised or cleared by it. */
  evaluate(s: HealthSnapshot): HealthAlarmEvent[] {
    const out: HealthAlarmEvent[] = [];
    for (const rule of this.rules) {
      const st = this.states.get(rule.alarm) ?? { active: null, streak: 0 };
      this.states.set(rule.alarm, st);
      const v = rule.value(s);
      if (v === null) continue;
      const beyondRaise = rule.direction === 'above' ? v >= rule.raise : v <= rule.raise;
      const backPastClear = rule.direction === 'above' ? v <= rule.clear : v >= rule.clear;
      const details = { value: Math.round(v * 10) / 10, raise: rule.raise, clear: rule.clear };
      if (!st.active) {
        st.streak = beyondRaise ? st.streak + 1 : 0;
        if (st.streak >= (rule.raiseAfter ?? 1)) {
          st.active = { alarm: rule.alarm, severity: rule.severity, message: rule.message(v), since: s.at };
          st.streak = 0;
          out.push({ alarm: rule.alarm, state: 'raised', severity: rule.severity, message: rule.message(v), details });
        }
      } else if (backPastClear) {
        st.active = null;
        out.push({ alarm: rule.alarm, state: 'cleared', severity: rule.severity, message: rule.message(v), details });
      } else {
        st.active.message = rule.message(v);
      }
    }
    return out;
  }

  active(): ActiveAlarm[] {
    return [...this.states.values()].flatMap((s) => (s.active ? [{ ...s.active }] : []));
  }
}
