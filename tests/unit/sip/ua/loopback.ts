/**
 * An in-memory network of TransportLayers for tests that run two UA cores on
 * the real transaction layer: every message is serialized and parsed again
 * (as on a wire) and delivered on a later macrotask. A link can be cut.
 */
import { parseMessage, serializeMessage } from '../../../../firmware/src/sip/message/index.js';
import type { SipMessage } from '../../../../firmware/src/sip/message/types.js';
import type { Endpoint, InboundMessage, TransportLayer } from '../../../../firmware/src/sip/transport/api.js';

export class LoopbackNetwork {
  private readonly nodes = new Map<string, LoopbackTransport>();
  /** Messages seen on the wire, as `from->to METHOD|status`. */
  readonly wire: string[] = [];
  /** Addresses whose traffic (both ways) is dropped. */
  readonly cut = new Set<string>();

  transport(address: string, port = 5060): LoopbackTransport {
    const t = new LoopbackTransport(this, { protocol: 'udp', address, port });
    this.nodes.set(key(t.local), t);
    return t;
  }

  deliver(from: Endpoint, to: Endpoint, message: SipMessage): void {
    const bytes = serializeMessage(message);
    const label = message.kind === 'request' ? message.method : String(message.status);
    if (this.cut.has(from.address) || this.cut.has(to.address)) {
      this.wire.push(`${from.address}->${to.address} ${label} (dropped)`);
      return;
    }
    this.wire.push(`${from.address}->${to.address} ${label}`);
    const node = this.nodes.get(key(to));
    if (!node) return;
    setImmediate(() => {
      const parsed = parseMessage(bytes);
      if (!parsed.ok) throw new Error(`loopback: unparseable message: ${parsed.error}`);
      node.receive({ message: parsed.message, source: from, local: node.local });
    });
  }
}

const key = (e: Endpoint): string => `${e.address}:${e.port}`;

export class LoopbackTransport implements TransportLayer {
  private readonly handlers = new Set<(m: InboundMessage) => void>();
  constructor(
    private readonly net: LoopbackNetwork,
    readonly local: Endpoint,
  ) {}
  send(message: SipMessage, destination: Endpoint): Promise<void> {
    this.net.deliver(this.local, destination, message);
    return Promise.resolve();
  }
  onMessage(handler: (m: InboundMessage) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
  receive(m: InboundMessage): void {
    for (const h of this.handlers) h(m);
  }
  localFor(): Endpoint {
    return this.local;
  }
  listening(): Endpoint[] {
    return [this.local];
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Let queued deliveries (and what they trigger) happen. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
