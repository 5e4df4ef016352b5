/**
 * Samples health on the injected Clock, keeps the latest snapshot for the
 * admin API, the panel and telemetry, and turns it into alarms.
 */
import type { Clock, TimerHandle } from '../../firmware/src/util/clock.js';
import type { Logger } from '../../firmware/src/util/logger.js';
import { Listeners } from '../serial/line-link.js';
import type { ActiveAlarm, HealthAlarmEvent } from './alarm-rules.js';
import { AlarmEvaluator } from './alarm-rules.js';
import type { HealthSampler, HealthSnapshot } from './health-sampler.js';

export interface HealthMonitorOptions {
  sampler: Pick<HealthSampler, 'sample'>;
  clock: Clock;
  logger: Logger;
  evaluator?: AlarmEvaluator;
  intervalMs?: number;
}

export class HealthMonitor {
  private latestSnapshot: HealthSnapshot | null = null;
  private timer: TimerHandle | undefined;
  private running = false;
  private readonly evaluator: AlarmEvaluator;
  private readonly alarmListeners = new Listeners<[HealthAlarmEvent]>();
  private readonly sampleListeners = new Listeners<[HealthSnapshot]>();

  constructor(private readonly o: HealthMonitorOptions) {
    this.evaluator = o.evaluator ?? new AlarmEvaluator();
  }

  latest(): HealthSnapshot | null {
    return this.latestSnapshot;
  }

  alarms(): ActiveAlarm[] {
    return this.evaluator.active();
  }

  onAlarm(listener: (event: HealthAlarmEvent) => void): () => void {
    return this.alarmListeners.add(listener);
  }

  onSample(listener: (snapshot: HealthSnapshot) => void): () => void {
    return this.sampleListeners.add(listener);
  }

  async start(): Promise<void> {
    this.running = true;
    await this.sampleNow();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
  }

  async sampleNow(): Promise<HealthSnapshot | null> {
    this.timer?.cancel();
    try {
      const s = await this.o.sampler.sample();
      this.latestSnapshot = s;
      this.sampleListeners.emit(s);
      for (const e of this.evaluator.evaluate(s)) {
        this.o.logger[e.state === 'raised' ? 'warn' : 'info']({ alarm: e.alarm, severity: e.severity, details: e.details }, `alarm ${e.state}: ${e.message}`);
        this.alarmListeners.emit(e);
      }
    } catch (err) {
      this.o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'health sample failed');
    } finally {
      if (this.running) this.timer = this.o.clock.setTimer(this.o.intervalMs ?? 30_000, () => void this.sampleNow());
    }
    return this.latestSnapshot;
  }
}
