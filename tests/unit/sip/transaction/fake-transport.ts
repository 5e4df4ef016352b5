/**
 * A TransportLayer that records what is sent and lets a test deliver
 * messages, on a FakeClock: the transaction tests run without sockets.
 */
import type { FakeClock } from '../../../../firmware/src/util/clock.js';
import { PgwError } from '../../../../firmware/src/util/errors.js';
import { createResponse, parseMessage } from '../../../../firmware/src/sip/message/index.js';
import type { SipMessage, SipRequest, SipResponse } from '../../../../firmware/src/sip/message/types.js';
import type { Endpoint, InboundMessage, SendOptions, TransportLayer, TransportProtocol } from '../../../../firmware/src/sip/transport/api.js';

export interface Sent {
  message: SipMessage;
  /** The text as it was when sent (messages are objects that may change later). */
  text: string;
  destination: Endpoint;
  options: SendOptions | undefined;
  at: number;
}

export const PEER: Endpoint = { protocol: 'udp', address: '192.0.2.50', port: 5060 };
export const LOCAL_ADDRESS = '192.0.2.1';

export class FakeTransport implements TransportLayer {
  readonly sent: Sent[] = [];
  private readonly handlers = new Set<(m: InboundMessage) => void>();
  /** Decide per send whether it fails (return an error) or succeeds. */
  failWith: ((message: SipMessage, destination: Endpoint) => Error | undefined) | undefined;
  /** When set, outboundProtocol() answers this for requests (the §18.1.1 rule). */
  sizeRuleProtocol: TransportProtocol | undefined;

  constructor(private readonly clock: FakeClock) {}

  send(message: SipMessage, destination: Endpoint, options?: SendOptions): Promise<void> {
    this.sent.push({ message, text: serializeText(message), destination, options, at: this.clock.now() });
    const err = this.failWith?.(message, destination);
    return err ? Promise.reject(err) : Promise.resolve();
  }

  onMessage(handler: (inbound: InboundMessage) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  localFor(remote: Endpoint): Endpoint {
    return { protocol: remote.protocol, address: LOCAL_ADDRESS, port: remote.protocol === 'tls' ? 5061 : remote.protocol === 'tcp' ? 5070 : 5060 };
  }

  listening(): Endpoint[] {
    return [{ protocol: 'udp', address: LOCAL_ADDRESS, port: 5060 }];
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }

  outboundProtocol(message: SipMessage, destination: Endpoint): TransportProtocol {
    return message.kind === 'request' && this.sizeRuleProtocol ? this.sizeRuleProtocol : destination.protocol;
  }

  /** Deliver a message (text or object) as if it had arrived from `source`. */
  deliver(message: string | SipMessage, source: Endpoint = PEER, connectionId?: string): InboundMessage {
    const msg = typeof message === 'string' ? parse(message) : message;
    const local = this.localFor(source);
    const inbound: InboundMessage = connectionId ? { message: msg, source, local, connectionId } : { message: msg, source, local };
    for (const h of this.handlers) h(inbound);
    return inbound;
  }

  /** Sent messages that are requests of this method / responses with this status. */
  requests(method?: string): Array<Sent & { message: SipRequest }> {
    return this.sent.filter((s): s is Sent & { message: SipRequest } => s.message.kind === 'request' && (method === undefined || s.message.method === method));
  }
  responses(status?: number): Array<Sent & { message: SipResponse }> {
    return this.sent.filter((s): s is Sent & { message: SipResponse } => s.message.kind === 'response' && (status === undefined || s.message.status === status));
  }
  clear(): void {
    this.sent.length = 0;
  }
}

export function parse(text: string): SipMessage {
  const r = parseMessage(Buffer.from(text));
  if (!r.ok) throw new Error(`test message does not parse: ${r.error}`);
  return r.message;
}

function serializeText(m: SipMessage): string {
  const start = m.kind === 'request' ? `${m.method} ${m.uri} SIP/2.0` : `SIP/2.0 ${m.status} ${m.reason}`;
  return [start, ...m.headers.entries().map((f) => `${f.name}: ${f.value}`)].join('\r\n');
}

/** A connection-refused error as the real transport reports it. */
export function connectRefused(): PgwError {
  return new PgwError('PGW_E_SIP_TRANSPORT', 'cannot connect: ECONNREFUSED', { context: { stage: 'connect' } });
}

/** An inbound request as a phone would send it. */
export function inboundRequest(opts: {
  method?: string;
  branch?: string | null;
  sentBy?: string;
  transport?: string;
  cseq?: number;
  callId?: string;
  fromTag?: string;
  toTag?: string;
  uri?: string;
}): string {
  const method = opts.method ?? 'INVITE';
  const branch = opts.branch === null ? '' : `;branch=${opts.branch ?? 'z9hG4bK-inv1'}`;
  return (
    `${method} ${opts.uri ?? 'sip:202@192.0.2.1'} SIP/2.0\r\n` +
    `Via: SIP/2.0/${opts.transport ?? 'UDP'} ${opts.sentBy ?? '192.0.2.50:5060'}${branch};rport\r\n` +
    'Max-Forwards: 70\r\n' +
    `From: "Reception" <sip:201@practice.test>;tag=${opts.fromTag ?? 'ftag1'}\r\n` +
    `To: <sip:202@practice.test>${opts.toTag ? `;tag=${opts.toTag}` : ''}\r\n` +
    `Call-ID: ${opts.callId ?? 'call-1@192.0.2.50'}\r\n` +
    `CSeq: ${opts.cseq ?? 1} ${method}\r\n` +
    'Contact: <sip:201@192.0.2.50:5060>\r\n' +
    'Content-Length: 0\r\n\r\n'
  );
}

/** An outbound request as the TU would build it (no Via: the layer adds it). */
export function outboundRequest(method: string, opts: { route?: string; withVia?: string } = {}): SipRequest {
  const text =
    `${method} sip:202@192.0.2.50:5060 SIP/2.0\r\n` +
    (opts.withVia ? `Via: ${opts.withVia}\r\n` : 'Via: SIP/2.0/UDP placeholder.invalid;branch=z9hG4bKplaceholder\r\n') +
    (opts.route ? `Route: ${opts.route}\r\n` : '') +
    'Max-Forwards: 70\r\n' +
    'From: <sip:201@practice.test>;tag=gwtag\r\n' +
    'To: <sip:202@practice.test>\r\n' +
    'Call-ID: out-1@192.0.2.1\r\n' +
    `CSeq: 7 ${method}\r\n` +
    'Content-Length: 0\r\n\r\n';
  const m = parse(text) as SipRequest;
  // The parser needs a Via to accept the text; the TU's request has none.
  if (!opts.withVia) m.headers.delete('Via');
  return m;
}

/** A response the far end would send to our request. */
export function answer(request: SipRequest, status: number, toTag = 'far1'): SipResponse {
  return createResponse(request, status, undefined, status === 100 ? {} : { toTag });
}
