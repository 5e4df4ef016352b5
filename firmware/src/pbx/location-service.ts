/**
 * The location service (RFC 3261 §10.3): which contacts each extension has
 * registered, until when, and how to reach them.
 *
 * Phones sit behind odd NATs and firewalls more often than installers expect
 * (a voice VLAN behind a site router, a home worker's phone). So each binding
 * keeps, besides the Contact URI the phone asked for, the transport endpoint
 * the REGISTER really came from (RFC 3581 received/rport), and calls are sent
 * there: the "contact latching" of issue 2. For a stream transport the
 * connection id is kept so the call reuses the phone's own connection.
 */
import type { Clock } from '../util/clock.js';
import type { Endpoint } from '../sip/transport/api.js';

export interface Binding {
  /** The extension number (address-of-record user part). */
  aor: string;
  /** The Contact URI as the phone registered it. */
  contact: string;
  /** Where the REGISTER came from: where requests to this contact are sent. */
  source: Endpoint;
  /** The local endpoint it arrived on: the gateway's face toward this phone. */
  local: Endpoint;
  connectionId?: string;
  /** Absolute expiry, ms since the epoch on the injected clock. */
  expiresAt: number;
  callId: string;
  cseq: number;
  userAgent?: string;
  /** RFC 5626 +sip.instance, when the phone sends one: a re-registration from the same instance replaces its old contact. */
  instanceId?: string;
  /** q-value, 0..1 (RFC 3261 §10.2.1.2), default 1. */
  q: number;
  registeredAt: number;
}

export type BindingChange = { kind: 'added' | 'refreshed' | 'removed' | 'expired'; binding: Binding };

export class LocationService {
  private readonly byAor = new Map<string, Binding[]>();
  private readonly listeners = new Set<(change: BindingChange) => void>();

  constructor(private readonly clock: Clock) {}

  onChange(listener: (change: BindingChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Live bindings of one extension, best q first, most recent first among equals. */
  lookup(aor: string): Binding[] {
    this.expire(aor);
    return [...(this.byAor.get(aor) ?? [])].sort((a, b) => b.q - a.q || b.registeredAt - a.registeredAt);
  }

  /** Every live binding, for the admin API and the status count. */
  all(): Binding[] {
    const out: Binding[] = [];
    for (const aor of [...this.byAor.keys()]) out.push(...this.lookup(aor));
    return out;
  }

  count(): number {
    return this.all().length;
  }

  /**
   * Add or refresh a binding. RFC 3261 §10.3 step 7: a binding with the same
   * contact URI (or the same instance id) is updated in place, unless its
   * Call-ID is the same and the CSeq is not higher (an out-of-order request):
   * then the caller gets `stale` and must not apply it.
   */
  upsert(binding: Omit<Binding, 'registeredAt'>): 'added' | 'refreshed' | 'stale' {
    this.expire(binding.aor);
    const list = this.byAor.get(binding.aor) ?? [];
    const i = list.findIndex(
      (b) => b.contact === binding.contact || (binding.instanceId !== undefined && b.instanceId === binding.instanceId),
    );
    const existing = i >= 0 ? list[i] : undefined;
    if (existing && existing.callId === binding.callId && existing.cseq >= binding.cseq) return 'stale';
    const next: Binding = { ...binding, registeredAt: existing?.registeredAt ?? this.clock.now() };
    if (existing) list[i] = next;
    else list.push(next);
    this.byAor.set(binding.aor, list);
    this.emit({ kind: existing ? 'refreshed' : 'added', binding: next });
    return existing ? 'refreshed' : 'added';
  }

  /** Remove one contact (Expires: 0 on it). */
  remove(aor: string, contact: string): boolean {
    const list = this.byAor.get(aor);
    if (!list) return false;
    const i = list.findIndex((b) => b.contact === contact);
    if (i < 0) return false;
    const [gone] = list.splice(i, 1);
    if (list.length === 0) this.byAor.delete(aor);
    this.emit({ kind: 'removed', binding: gone! });
    return true;
  }

  /** Remove every contact of an extension (Contact: * with Expires: 0, or the extension was deleted). */
  removeAll(aor: string): number {
    const list = this.byAor.get(aor) ?? [];
    this.byAor.delete(aor);
    for (const b of list) this.emit({ kind: 'removed', binding: b });
    return list.length;
  }

  /** Drop expired bindings of one extension, or of all. */
  expire(aor?: string): void {
    const now = this.clock.now();
    const aors = aor === undefined ? [...this.byAor.keys()] : [aor];
    for (const a of aors) {
      const list = this.byAor.get(a);
      if (!list) continue;
      const live = list.filter((b) => b.expiresAt > now);
      if (live.length === list.length) continue;
      for (const b of list) if (b.expiresAt <= now) this.emit({ kind: 'expired', binding: b });
      if (live.length === 0) this.byAor.delete(a);
      else this.byAor.set(a, live);
    }
  }

  private emit(change: BindingChange): void {
    for (const l of this.listeners) l(change);
  }
}
