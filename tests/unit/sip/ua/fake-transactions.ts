/**
 * A fake TransactionLayer for UA tests: records what the UA sends and lets a
 * test play the peer (responses to our requests, requests to us). Nothing is
 * delivered synchronously from sendRequest, as with the real layer.
 */
import { Headers } from '../../../../firmware/src/sip/message/headers.js';
import { createResponse } from '../../../../firmware/src/sip/message/index.js';
import type { SipRequest, SipResponse } from '../../../../firmware/src/sip/message/types.js';
import type {
  ClientTransaction,
  ClientTransactionHandlers,
  SendRequestOptions,
  ServerTransaction,
  TransactionLayer,
  TransactionUser,
} from '../../../../firmware/src/sip/transaction/api.js';
import type { Endpoint, InboundMessage, TransportLayer } from '../../../../firmware/src/sip/transport/api.js';

export const LOCAL: Endpoint = { protocol: 'udp', address: '192.0.2.10', port: 5060 };
export const PEER: Endpoint = { protocol: 'udp', address: '198.51.100.20', port: 5062 };

export const fakeTransport: Pick<TransportLayer, 'localFor'> = { localFor: () => LOCAL };

let ids = 0;

export class FakeClientTx implements ClientTransaction {
  readonly id = `c${++ids}`;
  state = 'calling';
  readonly responses: SipResponse[] = [];
  constructor(
    readonly request: SipRequest,
    readonly destination: Endpoint,
    readonly handlers: ClientTransactionHandlers,
    readonly tlsServerName?: string,
  ) {}

  get method(): string {
    return this.request.method;
  }

  /** Deliver a response built from our request, as the peer would send it. */
  respond(status: number, opts: { toTag?: string; headers?: [string, string][]; body?: string; contentType?: string; reason?: string } = {}): SipResponse {
    const r = createResponse(this.request, status, opts.reason, {
      ...(opts.toTag !== undefined ? { toTag: opts.toTag } : {}),
      headers: opts.headers ?? [],
      ...(opts.body !== undefined ? { body: Buffer.from(opts.body), contentType: opts.contentType ?? 'application/sdp' } : {}),
    });
    this.deliver(r);
    return r;
  }

  deliver(r: SipResponse): void {
    this.responses.push(r);
    if (r.status >= 200) this.state = 'completed';
    this.handlers.onResponse(r);
  }

  timeout(): void {
    this.state = 'terminated';
    this.handlers.onTimeout();
  }

  transportError(): void {
    this.state = 'terminated';
    this.handlers.onTransportError(new Error('boom'));
  }
}

export class FakeServerTx implements ServerTransaction {
  readonly id = `s${++ids}`;
  state = 'proceeding';
  cancelled = false;
  readonly responses: SipResponse[] = [];
  constructor(
    readonly request: SipRequest,
    readonly inbound: InboundMessage,
  ) {}
  respond(response: SipResponse): void {
    this.responses.push(response);
    if (response.status >= 200) this.state = 'completed';
  }
  get last(): SipResponse | undefined {
    return this.responses[this.responses.length - 1];
  }
  get final(): SipResponse | undefined {
    return this.responses.find((r) => r.status >= 200);
  }
}

export class FakeTransactions implements TransactionLayer {
  user: TransactionUser | undefined;
  readonly clients: FakeClientTx[] = [];
  readonly stateless: Array<{ request: SipRequest; destination: Endpoint; tlsServerName?: string | undefined }> = [];
  readonly statelessResponses: Array<{ response: SipResponse; inbound: InboundMessage }> = [];

  sendRequest(request: SipRequest, options: SendRequestOptions): ClientTransaction {
    const tx = new FakeClientTx(request, options.destination, options.handlers, options.tlsServerName);
    this.clients.push(tx);
    return tx;
  }
  sendStateless(request: SipRequest, destination: Endpoint, options: { tlsServerName?: string } = {}): Promise<void> {
    this.stateless.push({ request, destination, tlsServerName: options.tlsServerName });
    return Promise.resolve();
  }
  sendResponseStateless(response: SipResponse, inbound: InboundMessage): Promise<void> {
    this.statelessResponses.push({ response, inbound });
    return Promise.resolve();
  }
  setUser(user: TransactionUser): void {
    this.user = user;
  }
  count(): { client: number; server: number } {
    return { client: this.clients.length, server: 0 };
  }
  close(): void {}

  /** Client transactions for a method, in order. */
  sent(method: string): FakeClientTx[] {
    return this.clients.filter((c) => c.request.method === method);
  }
  lastSent(method: string): FakeClientTx {
    const all = this.sent(method);
    const tx = all[all.length - 1];
    if (!tx) throw new Error(`no ${method} sent (sent: ${this.clients.map((c) => c.request.method).join(',')})`);
    return tx;
  }
  acks(): SipRequest[] {
    return this.stateless.filter((s) => s.request.method === 'ACK').map((s) => s.request);
  }

  /** The peer sends us a request; returns its server transaction (null for ACK). */
  receive(request: SipRequest, source: Endpoint = PEER): FakeServerTx {
    const inbound: InboundMessage = { message: request, source, local: LOCAL };
    const tx = new FakeServerTx(request, inbound);
    this.user!.onRequest(request, request.method === 'ACK' ? null : tx, inbound);
    return tx;
  }

  /** The peer CANCELs an INVITE we are serving. */
  cancel(tx: FakeServerTx): void {
    tx.cancelled = true;
    const c = { ...tx.request, method: 'CANCEL', headers: tx.request.headers.clone() };
    c.headers.set('CSeq', `${tx.request.headers.get('CSeq')!.split(' ')[0]} CANCEL`);
    this.user!.onCancel?.(tx, c);
  }
}

/** Build a request as a peer would send it. */
export function request(
  method: string,
  o: {
    uri?: string;
    from: string;
    to: string;
    callId: string;
    cseq: number;
    headers?: [string, string][];
    body?: string;
    contentType?: string;
    via?: string;
  },
): SipRequest {
  const h = new Headers();
  h.append('Via', o.via ?? `SIP/2.0/UDP ${PEER.address}:${PEER.port};branch=z9hG4bK${Math.random().toString(36).slice(2)};rport`);
  h.append('Max-Forwards', '70');
  h.append('From', o.from);
  h.append('To', o.to);
  h.append('Call-ID', o.callId);
  h.append('CSeq', `${o.cseq} ${method}`);
  for (const [n, v] of o.headers ?? []) h.append(n, v);
  const body = Buffer.from(o.body ?? '');
  if (body.length > 0) h.set('Content-Type', o.contentType ?? 'application/sdp');
  h.set('Content-Length', String(body.length));
  return { kind: 'request', method, uri: o.uri ?? 'sip:gw@192.0.2.10', headers: h, body };
}

export const sdp = (tag: string): { contentType: string; body: Buffer } => ({ contentType: 'application/sdp', body: Buffer.from(`v=0\r\no=- ${tag}\r\n`) });
