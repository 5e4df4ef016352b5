/**
 * Fakes for PBX unit tests: a media relay whose legs only record what they
 * are told, and InviteSessions that record what the call asks of them and
 * let the test play the other end.
 */
import type { MediaAnchor } from '../../../firmware/src/media/relay/index.js';
import { parseSdp, type Sdp } from '../../../firmware/src/media/sdp/index.js';
import { Headers } from '../../../firmware/src/sip/message/headers.js';
import type { SipRequest, SipResponse } from '../../../firmware/src/sip/message/types.js';
import type { SessionBody } from '../../../firmware/src/sip/ua/session-body.js';
import type { InviteSessionState, SessionEndInfo, SessionMediaHandler } from '../../../firmware/src/sip/ua/session-types.js';

export interface FakeLeg {
  localAddress: string;
  rtpPort: number;
  peer: FakeLeg | null;
  sdp: { local: Sdp; remote: Sdp } | null;
  closed: boolean;
  setSdp(s: { local: Sdp; remote: Sdp }): void;
  close(): Promise<void>;
}

export interface FakeRelayStats {
  opened: number;
  closed: number;
  /** Every leg opened, in order (when given). */
  legs?: FakeLeg[];
}

let opening = 0;

/** Legs some fake relay is still opening (each takes a real moment): tests that wait in real time wait for these too. */
export function legsOpening(): number {
  return opening;
}

export function fakeRelay(stats: FakeRelayStats = { opened: 0, closed: 0 }): MediaAnchor {
  let port = 20000;
  const relay = {
    openLeg: async ({ localAddress }: { localAddress: string }) => {
      stats.opened++;
      // Opening binds sockets: it takes a moment, during which other forks may ask too.
      opening++;
      try {
        await new Promise((r) => setTimeout(r, 2));
      } finally {
        opening--;
      }
      const leg: FakeLeg = {
        localAddress,
        rtpPort: (port += 2),
        peer: null,
        sdp: null,
        closed: false,
        setSdp(s) {
          this.sdp = s;
        },
        async close() {
          if (!this.closed) stats.closed++;
          this.closed = true;
        },
      };
      stats.legs?.push(leg);
      return leg;
    },
    bridge: (a: FakeLeg, b: FakeLeg) => {
      a.peer = b;
      b.peer = a;
    },
    on: () => relay,
  };
  return relay as unknown as MediaAnchor;
}

/** A phone's SDP: PCMA and PCMU, the given direction. */
export function phoneSdp(o: { addr: string; port: number; version: number; dir?: string; pts?: string }): Sdp {
  return parseSdp(phoneSdpText(o));
}

export function phoneSdpText(o: { addr: string; port: number; version: number; dir?: string; pts?: string }): string {
  return [
    'v=0',
    `o=phone 77 ${o.version} IN IP4 ${o.addr}`,
    's=-',
    `c=IN IP4 ${o.addr}`,
    't=0 0',
    `m=audio ${o.port} RTP/AVP ${o.pts ?? '8 0'}`,
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:0 PCMU/8000',
    `a=${o.dir ?? 'sendrecv'}`,
    '',
  ].join('\r\n');
}

export const sdpSessionBody = (text: string): SessionBody => ({ contentType: 'application/sdp', body: Buffer.from(text) });

type Listener = (payload: never) => void;

/** The parts of an InviteSession a B2buaCall uses, played by the test. */
export class FakeSession {
  state: InviteSessionState;
  mediaHandler: SessionMediaHandler | undefined;
  readonly request: SipRequest;
  readonly destination = { protocol: 'udp' as const, address: '10.0.0.2', port: 5060 };
  readonly calls: string[] = [];
  accepted: SessionBody | undefined;
  rejected: { status?: number; reason?: string } | undefined;
  /** reinvite() calls, to be settled by the test. */
  readonly reinvites: Array<{ opts: { body?: SessionBody; retryGlare?: boolean }; settle: (r: SipResponse) => void }> = [];
  private readonly listeners = new Map<string, Listener[]>();

  constructor(o: { state: InviteSessionState; body?: string; mediaHandler?: SessionMediaHandler }) {
    this.state = o.state;
    this.mediaHandler = o.mediaHandler;
    const headers = new Headers(o.body ? [['Content-Type', 'application/sdp']] : []);
    this.request = { kind: 'request', method: 'INVITE', uri: 'sip:x@gw', headers, body: Buffer.from(o.body ?? '') };
  }

  on(event: string, fn: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
    return this;
  }

  emit(event: string, payload: unknown): void {
    for (const fn of this.listeners.get(event) ?? []) (fn as (p: unknown) => void)(payload);
  }

  progress(): void {
    this.calls.push('progress');
  }

  async accept(o: { body?: SessionBody }): Promise<void> {
    this.calls.push('accept');
    this.accepted = o.body;
    this.state = 'confirmed';
  }

  reject(o: { status?: number; reason?: string }): void {
    this.calls.push(`reject ${o.status}`);
    this.rejected = o;
    this.state = 'terminated';
  }

  bye(): void {
    this.calls.push('bye');
  }

  terminate(): void {
    this.calls.push('terminate');
  }

  reinvite(opts: { body?: SessionBody; retryGlare?: boolean } = {}): Promise<SipResponse> {
    this.calls.push('reinvite');
    return new Promise((settle) => this.reinvites.push({ opts, settle }));
  }

  /** The far end ended it. */
  end(info: SessionEndInfo): void {
    this.state = 'terminated';
    this.emit('ended', info);
  }
}

/** A response with an optional SDP body. */
export function response(status: number, sdp?: string): SipResponse {
  const headers = new Headers(sdp ? [['Content-Type', 'application/sdp']] : []);
  return { kind: 'response', status, reason: '', headers, body: Buffer.from(sdp ?? '') } as SipResponse;
}
