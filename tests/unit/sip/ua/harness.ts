/** A UA core on a FakeClock and a fake transaction layer, for session tests. */
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { UserAgentCore, type UserAgentDelegate } from '../../../../firmware/src/sip/ua/user-agent-core.js';
import type { UaConfig } from '../../../../firmware/src/sip/ua/ua-config.js';
import type { InviteSession } from '../../../../firmware/src/sip/ua/invite-session.js';
import type { InviteSessionEvents } from '../../../../firmware/src/sip/ua/session-types.js';
import { FakeTransactions, fakeTransport, PEER } from './fake-transactions.js';

export interface Harness {
  clock: FakeClock;
  tx: FakeTransactions;
  ua: UserAgentCore;
  /** Set the next values random() returns (then 0.5). */
  randoms: number[];
}

export function harness(config: Partial<UaConfig> = {}, delegate: UserAgentDelegate = {}): Harness {
  const clock = new FakeClock();
  const tx = new FakeTransactions();
  const randoms: number[] = [];
  const ua = new UserAgentCore({
    transactions: tx,
    transport: fakeTransport,
    clock,
    config,
    delegate,
    random: () => randoms.shift() ?? 0.5,
  });
  return { clock, tx, ua, randoms };
}

export function call(h: Harness, extra: Partial<Parameters<UserAgentCore['invite']>[0]> = {}): InviteSession {
  return h.ua.invite({
    target: 'sip:202@198.51.100.20:5062',
    destination: PEER,
    from: '"Reception" <sip:201@surgery.example>',
    to: '<sip:202@surgery.example>',
    ...extra,
  });
}

/** Record every event of a session, in order, as `name` or `name:detail`. */
export function record(s: InviteSession): string[] {
  const log: string[] = [];
  const names: Array<keyof InviteSessionEvents> = ['state', 'progress', 'answered', 'confirmed', 'offer', 'answer', 'target-refresh', 'refreshed', 'ended'];
  for (const n of names) {
    s.on(n, (e: unknown) => {
      const ev = e as Record<string, unknown>;
      if (n === 'state') log.push(`state:${String(ev.to)}`);
      else if (n === 'ended') log.push(`ended:${String(ev.cause)}${ev.status !== undefined ? ':' + String(ev.status) : ''}`);
      else if (n === 'progress') log.push(`progress:${(ev.response as { status: number }).status}${ev.reliable ? ':reliable' : ''}`);
      else if (n === 'offer' || n === 'answer') log.push(`${n}:${String(ev.carrier)}`);
      else log.push(n);
    });
  }
  return log;
}

/** Let promise continuations run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
