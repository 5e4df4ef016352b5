/**
 * The worker side of the threaded relay: an ordinary MediaRelay on the
 * worker's own event loop and port range, driven by the messages of
 * protocol.ts. Kept apart from the thread entry (relay-worker.ts) so it can
 * be driven directly in tests.
 */
import { PgwError } from '../../../util/errors.js';
import type { MediaRelay } from '../media-relay.js';
import type { MediaLeg } from '../media-leg.js';
import { LEG_COUNTER_COUNT } from '../leg-counters.js';
import type { FromWorker, ToWorker, WorkerErrorInfo } from './protocol.js';

export class RelayWorkerHost {
  private readonly legs = new Map<number, MediaLeg>();
  private readonly rows = new Map<unknown, number>();
  private readonly freeRows: number[] = [];

  constructor(
    private readonly relay: MediaRelay,
    private readonly counters: Float64Array,
    private readonly snapshotRows: Float64Array,
    private readonly post: (m: FromWorker) => void,
  ) {
    const rows = Math.floor(counters.length / LEG_COUNTER_COUNT);
    for (let r = rows - 1; r >= 0; r--) this.freeRows.push(r);
    relay.on('latched', (e) => {
      const row = this.rowOf(e.leg);
      if (row !== null) this.post({ ev: 'latched', row, kind: e.kind, address: e.address, port: e.port, relatch: e.relatch });
    });
    relay.on('dead', (e) => {
      const row = this.rowOf(e.leg);
      if (row !== null) this.post({ ev: 'dead', row, silentMs: e.silentMs });
    });
  }

  private rowOf(leg: unknown): number | null {
    return this.rows.get(leg) ?? null;
  }

  private leg(row: number): MediaLeg | undefined {
    return this.legs.get(row);
  }

  handle(m: ToWorker): void {
    switch (m.op) {
      case 'open':
        void this.open(m.req, m.address, m.label);
        return;
      case 'sdp':
        this.leg(m.row)?.setSdp(m.sdp);
        return;
      case 'bridge': {
        const a = this.leg(m.a);
        const b = this.leg(m.b);
        if (a && b) this.relay.bridge(a, b);
        return;
      }
      case 'unbridge': {
        const leg = this.leg(m.row);
        if (leg) this.relay.unbridge(leg);
        return;
      }
      case 'close':
        void this.close(m.req, m.row);
        return;
      case 'snapshot':
        // One synchronous copy: no packet is forwarded while it runs, so the rows agree.
        for (const row of this.legs.keys()) {
          const at = row * LEG_COUNTER_COUNT;
          this.snapshotRows.set(this.counters.subarray(at, at + LEG_COUNTER_COUNT), at);
        }
        this.post({ ev: 'reply', req: m.req, ok: true });
        return;
      case 'shutdown':
        void this.relay.close().then(() => this.post({ ev: 'reply', req: m.req, ok: true }));
        return;
      default: {
        const never: never = m;
        throw new Error(`unknown media worker message ${JSON.stringify(never)}`);
      }
    }
  }

  private async open(req: number, address: string, label: string | null): Promise<void> {
    const row = this.freeRows.pop();
    if (row === undefined) {
      this.post({ ev: 'reply', req, ok: false, error: { code: 'PGW_E_MEDIA_PORTS', message: 'no free media leg in this worker' } });
      return;
    }
    try {
      const counters = this.counters.subarray(row * LEG_COUNTER_COUNT, (row + 1) * LEG_COUNTER_COUNT);
      const leg = await this.relay.openLeg({ localAddress: address, label: label ?? undefined, counters });
      this.legs.set(row, leg);
      this.rows.set(leg, row);
      leg.once('closed', () => {
        this.legs.delete(row);
        this.rows.delete(leg);
        this.freeRows.push(row);
      });
      this.post({ ev: 'reply', req, ok: true, leg: { row, rtpPort: leg.rtpPort, rtcpPort: leg.rtcpPort } });
    } catch (e) {
      this.freeRows.push(row);
      this.post({ ev: 'reply', req, ok: false, error: errorInfo(e) });
    }
  }

  private async close(req: number, row: number): Promise<void> {
    try {
      await this.leg(row)?.close();
      this.post({ ev: 'reply', req, ok: true });
    } catch (e) {
      this.post({ ev: 'reply', req, ok: false, error: errorInfo(e) });
    }
  }
}

function errorInfo(e: unknown): WorkerErrorInfo {
  if (e instanceof PgwError) return { code: e.code, message: e.message, context: e.context };
  return { code: null, message: e instanceof Error ? e.message : String(e) };
}
