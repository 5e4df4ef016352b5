/** Fakes the uplink tests share: a scripted UA, DNS, interface links and SIP requests. */
import { PracticeSchema, type Practice } from '../../../firmware/src/config/practice-schema.js';
import { Headers } from '../../../firmware/src/sip/message/headers.js';
import { parseMessage } from '../../../firmware/src/sip/message/parse.js';
import type { SipRequest, SipResponse } from '../../../firmware/src/sip/message/types.js';
import type { Endpoint } from '../../../firmware/src/sip/transport/api.js';
import type { OutOfDialogRequestOptions, OutOfDialogResult } from '../../../firmware/src/sip/ua/user-agent-core.js';
import type { LinkState, LinkStateSource } from '../../../firmware/src/uplinks/link-watcher.js';
import type { PeerDns } from '../../../firmware/src/uplinks/peer-address.js';

export const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

export type Answer = number | 'hang';

/** A UA whose out-of-dialog requests are answered by `answer` (per request), or never ('hang'). */
export class FakeUa {
  readonly sent: OutOfDialogRequestOptions[] = [];
  answer: (o: OutOfDialogRequestOptions) => Answer = () => 200;

  sendRequest(o: OutOfDialogRequestOptions): Promise<OutOfDialogResult> {
    this.sent.push(o);
    const a = this.answer(o);
    if (a === 'hang') return new Promise(() => undefined);
    const rh = new Headers();
    rh.append('CSeq', `${o.cseq ?? 1} ${o.method}`);
    const request: SipRequest = { kind: 'request', method: o.method, uri: o.uri, headers: rh, body: Buffer.alloc(0) };
    const h = new Headers();
    h.append('CSeq', `${o.cseq ?? 1} ${o.method}`);
    if (o.method === 'REGISTER' && a >= 200 && a < 300) h.append('Expires', '600');
    const response: SipResponse = { kind: 'response', status: a, reason: 'X', headers: h, body: Buffer.alloc(0) };
    return Promise.resolve({ response, request });
  }

  contact(destination: Endpoint, user?: string): string {
    return `<sip:${user ? `${user}@` : ''}192.0.2.1:5060>`;
  }

  count(method: string, address?: string): number {
    return this.sent.filter((o) => o.method === method && (address === undefined || o.destination.address === address)).length;
  }
}

export class FakeLink implements LinkStateSource {
  readonly description: string;
  private state: LinkState = 'up';
  private listener: ((s: LinkState) => void) | undefined;
  constructor(name: string) {
    this.description = name;
  }
  start(onChange: (s: LinkState) => void): void {
    this.listener = onChange;
  }
  stop(): void {
    this.listener = undefined;
  }
  current(): LinkState {
    return this.state;
  }
  set(s: LinkState): void {
    if (s === this.state) return;
    this.state = s;
    this.listener?.(s);
  }
}

export function fakeDns(hosts: Record<string, string[]>, srv: Record<string, Array<{ name: string; port: number; priority: number; weight: number }>> = {}): PeerDns {
  return {
    resolveSrv: (name) => (srv[name] ? Promise.resolve(srv[name]) : Promise.reject(new Error(`ENOTFOUND ${name}`))),
    lookupAll: (host) => (hosts[host] ? Promise.resolve(hosts[host]) : Promise.reject(new Error(`ENOTFOUND ${host}`))),
  };
}

export function practice(overrides: Record<string, unknown> = {}): Practice {
  return PracticeSchema.parse({
    version: 1,
    site: { name: 'Riverside Surgery', mainNumber: '+441632960000' },
    sip: { domain: 'riverside.pgw.local' },
    extensions: [
      { number: '201', name: 'Reception 1', password: 'pw-201-secret' },
      { number: '202', name: 'Reception 2', password: 'pw-202-secret', outboundCallerId: '+441632960002' },
      { number: '301', name: 'Dr Okafor', password: 'pw-301-secret' },
    ],
    huntGroups: [{ number: '600', name: 'Reception', members: ['201', '202'] }],
    uplinks: {
      cloud: { proxy: 'sip:10.0.1.2:5060', probe: { intervalMs: 1000, failAfter: 2, recoverAfterMs: 5000 } },
      trunks: [
        { name: 'backup', registrar: 'sip:10.0.2.2:5060', username: 'riverside', password: 'trunk-secret', probe: { intervalMs: 1000, failAfter: 2, recoverAfterMs: 5000 } },
        { name: 'spare', registrar: 'sip:trunk2.example', proxy: 'sip:10.0.3.3', username: 'rs2', authUsername: 'rs2-auth', password: 'trunk2-secret', callerId: '+441632960999' },
      ],
    },
    inbound: [
      { did: '+441632960000', destination: '600' },
      { did: '+441632960001', destination: '301' },
    ],
    ...overrides,
  });
}

/** A request as a peer would send it. */
export function request(lines: string[]): SipRequest {
  const text = `${lines.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
  const r = parseMessage(Buffer.from(text));
  if (!r.ok || r.message.kind !== 'request') throw new Error(`bad test request: ${JSON.stringify(r)}`);
  return r.message;
}

export function invite(uri: string, opts: { to?: string; from?: string; pai?: string } = {}): SipRequest {
  return request([
    `INVITE ${uri} SIP/2.0`,
    'Via: SIP/2.0/UDP 10.0.2.2:5060;branch=z9hG4bK-1',
    'Max-Forwards: 70',
    `From: ${opts.from ?? '"Jane Patient" <sip:07700900123@10.0.2.2>'};tag=abc`,
    `To: ${opts.to ?? `<${uri}>`}`,
    'Call-ID: c1@test',
    'CSeq: 1 INVITE',
    ...(opts.pai ? [`P-Asserted-Identity: ${opts.pai}`] : []),
  ]);
}
