/**
 * `events` (QoS 1, not retained): mode changes, alarms, config outcomes and
 * call events, each stamped with `at` and the device id.
 *
 * While the box is offline, mode, alarm and config events are held (the
 * newest `maxHeld`) and sent in order on the next connect, so the cloud
 * learns why a box went into survivability even when that is why it lost
 * the broker. Call events are not held: they exist so the cloud can pop the
 * patient record while the phone rings, which is useless later, and the
 * call record (outbox) carries the call for good. What is not sent is
 * counted and reported in an `events-dropped` alarm on reconnect.
 */
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { EventPayload, GatewayEvent } from './payloads.js';

export interface EventPublisherOptions {
  deviceId: string;
  clock: Clock;
  logger: Logger;
  /** Publishes on `events`; resolves on PUBACK. */
  publish(payload: EventPayload): Promise<void>;
  maxHeld?: number;
}

export interface EventStats {
  published: number;
  held: number;
  droppedWhileOffline: number;
}

const DEFAULT_MAX_HELD = 500;

export class EventPublisher {
  private online = false;
  private readonly held: EventPayload[] = [];
  private dropped = 0;
  private droppedSinceReport = 0;
  private published = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: EventPublisherOptions) {}

  stats(): EventStats {
    return { published: this.published, held: this.held.length, droppedWhileOffline: this.dropped };
  }

  publish(event: GatewayEvent): void {
    const payload = { ...event, at: event.at ?? new Date(this.options.clock.now()).toISOString(), deviceId: this.options.deviceId } as EventPayload;
    if (this.online) {
      this.send(payload);
      return;
    }
    if (event.type === 'call') {
      this.drop(1);
      return;
    }
    this.held.push(payload);
    const max = this.options.maxHeld ?? DEFAULT_MAX_HELD;
    if (this.held.length > max) this.drop(this.held.splice(0, this.held.length - max).length);
  }

  setOnline(): void {
    this.online = true;
    const held = this.held.splice(0);
    for (const p of held) this.send(p);
    if (this.droppedSinceReport > 0) {
      const n = this.droppedSinceReport;
      this.droppedSinceReport = 0;
      this.send({
        type: 'alarm',
        alarm: 'events-dropped',
        state: 'raised',
        severity: 'warning',
        message: `${n} events were not sent while the box was offline (call events are not held; call records are)`,
        details: { dropped: n },
        at: new Date(this.options.clock.now()).toISOString(),
        deviceId: this.options.deviceId,
      });
    }
  }

  setOffline(): void {
    this.online = false;
  }

  /** Resolves once the publishes started so far have finished. */
  idle(): Promise<void> {
    return this.chain;
  }

  private drop(n: number): void {
    this.dropped += n;
    this.droppedSinceReport += n;
  }

  private send(payload: EventPayload): void {
    // One after another: events keep their order even across a PUBACK wait.
    this.chain = this.chain.then(async () => {
      try {
        await this.options.publish(payload);
        this.published++;
      } catch (e) {
        if (payload.type === 'call') this.drop(1);
        else {
          // Lost with the connection: hold it for the next connect (order kept with other held ones).
          this.held.push(payload);
        }
        this.options.logger.debug({ err: (e as Error).message, type: payload.type }, 'event not published');
      }
    });
  }
}
