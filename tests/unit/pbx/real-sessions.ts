/**
 * A B2buaCall on real InviteSessions: the UA core of the gateway runs on the
 * fake transaction layer of the sip/ua tests, and the test plays both phones
 * with SIP requests and responses. For the call logic that hangs on what the
 * sessions really do (which ACK carries which answer, who sends BYE), where
 * the FakeSession of fakes.ts would only echo the test's assumptions.
 *
 *   phone A (198.51.100.20) ── 10.0.0.1 ─ gateway ─ 10.0.1.1 ── phone B (198.51.100.30)
 *
 * Each phone faces its own gateway address, so each SDP the gateway sends
 * must carry the address that faces its reader.
 */
import { serializeSdp } from '../../../firmware/src/media/sdp/index.js';
import { B2buaCall, type CallEnd } from '../../../firmware/src/pbx/b2bua-call.js';
import type { SipRequest, SipResponse } from '../../../firmware/src/sip/message/types.js';
import type { Endpoint } from '../../../firmware/src/sip/transport/api.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { request, PEER, type FakeClientTx, type FakeServerTx } from '../sip/ua/fake-transactions.js';
import { harness, type Harness } from '../sip/ua/harness.js';
import { fakeRelay, legsOpening, phoneSdpText, type FakeLeg, type FakeRelayStats } from './fakes.js';

export const A_ADDR = PEER.address;
export const B: Endpoint = { protocol: 'udp', address: '198.51.100.30', port: 5060 };
/** The gateway's address facing each phone. */
export const GW_TO_A = '10.0.0.1';
export const GW_TO_B = '10.0.1.1';

const A_FROM = '"Reception 1" <sip:201@surgery.example>;tag=phone-a';
const A_TO = '<sip:202@surgery.example>';

export interface RealCall {
  h: Harness;
  call: B2buaCall;
  ends: CallEnd[];
  stats: FakeRelayStats;
  a: Phone;
  b: Phone;
  leg(side: 'a' | 'b'): FakeLeg;
}

/** One phone's end of its dialog with the gateway. */
export interface Phone {
  /** Send a request in the dialog (CSeq counts up by itself); returns its server transaction at the gateway. */
  send(method: string, o?: { body?: string }): FakeServerTx;
  /** ACK the INVITE with this CSeq. */
  ack(cseq: number, body?: string): void;
  /** Its last CSeq. */
  cseq: number;
  /** The requests the gateway sent this phone (client transactions), and its ACKs. */
  received(method: string): FakeClientTx[];
  acks(): SipRequest[];
}

const text = (m: SipRequest | SipResponse | undefined): string => m?.body.toString() ?? '';
export { text as bodyOf };

/** The direction in an SDP body (none written: sendrecv, RFC 3264 §5.1). */
export const dirOf = (sdp: string): string => /a=(sendrecv|sendonly|recvonly|inactive)/.exec(sdp)?.[1] ?? 'sendrecv';

/** A phone's SDP as text. */
export function phoneSdp(o: { who: 'a' | 'b'; version: number; dir?: string; port?: number; pts?: string }): string {
  return phoneSdpText({ addr: o.who === 'a' ? A_ADDR : B.address, port: o.port ?? (o.who === 'a' ? 4000 : 5000), version: o.version, ...(o.dir ? { dir: o.dir } : {}), ...(o.pts ? { pts: o.pts } : {}) });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Lets the call get on with it: `ms` of real time, and then as long as a fake relay is still
 * opening a leg (those take real 2 ms timers, which run late on a loaded machine; the B2BUA's
 * next message goes out as soon as the open completes).
 */
export async function wait(ms = 15): Promise<void> {
  await sleep(ms);
  for (let i = 0; legsOpening() > 0 && i < 1000; i++) await sleep(2);
}

/**
 * A calls 202, B answers; returns once the call is answered and both 2xx are ACKed.
 * `lateOffer`: A's INVITE has no SDP, so the gateway offers in its 200 and A answers in the ACK.
 */
export async function answeredCall(o: { lateOffer?: boolean } = {}): Promise<RealCall> {
  const h = harness();
  const ends: CallEnd[] = [];
  const stats: FakeRelayStats = { opened: 0, closed: 0 };
  let call: B2buaCall | undefined;
  h.ua.delegate = {
    onInvite: (session) => {
      call = new B2buaCall(
        {
          ua: h.ua,
          transport: { localFor: (d) => ({ protocol: 'udp', address: d.address === B.address ? GW_TO_B : GW_TO_A, port: 5060 }) },
          relay: fakeRelay(stats),
          clock: h.clock,
          logger: silentLogger(),
          codecs: ['PCMA', 'PCMU'],
        },
        {
          id: 'call-1',
          a: session,
          localToCaller: GW_TO_A,
          caller: { number: '201', name: 'Reception 1' },
          callee: { number: '202', name: 'Reception 2' },
          plan: [{ members: ['202'], seconds: 30 }],
          targetsOf: () => [{ member: '202', uri: `sip:202@${B.address}`, destination: B, from: '<sip:201@surgery.example>', to: '<sip:202@surgery.example>' }],
          onEnd: (_c, e) => ends.push(e),
        },
      );
      void call.start();
    },
  };
  const invite = h.tx.receive(
    request('INVITE', { uri: 'sip:202@10.0.0.1', from: A_FROM, to: A_TO, callId: 'call-a', cseq: 1, headers: [['Contact', `<sip:201@${A_ADDR}:5062>`]], ...(o.lateOffer ? {} : { body: phoneSdp({ who: 'a', version: 1 }) }) }),
  );
  await wait();
  const toB = h.tx.lastSent('INVITE');
  toB.respond(200, { toTag: 'phone-b', headers: [['Contact', `<sip:202@${B.address}>`]], body: phoneSdp({ who: 'b', version: 1, pts: '8' }) });
  await wait();
  const gwTagA = /;tag=([^;\s]+)/.exec(invite.final!.headers.get('To')!)![1]!;
  const gwTagB = /;tag=([^;\s]+)/.exec(toB.request.headers.get('From')!)![1]!;
  const callIdB = toB.request.headers.get('Call-ID')!;

  const dialogTo = (dest: Endpoint) => (c: FakeClientTx) => c.destination.address === dest.address;
  const phone = (o: { from: string; to: string; callId: string; source: Endpoint; cseq: number }): Phone => {
    const p: Phone = {
      cseq: o.cseq,
      send: (method, x = {}) => {
        p.cseq += 1;
        return h.tx.receive(request(method, { from: o.from, to: o.to, callId: o.callId, cseq: p.cseq, headers: [['Contact', `<sip:x@${o.source.address}:${o.source.port}>`]], ...(x.body ? { body: x.body } : {}) }), o.source);
      },
      ack: (cseq, body) => {
        h.tx.receive(request('ACK', { from: o.from, to: o.to, callId: o.callId, cseq, ...(body ? { body } : {}) }), o.source);
      },
      received: (method) => h.tx.clients.filter((c) => c.request.method === method && dialogTo(o.source)(c)),
      acks: () => h.tx.stateless.filter((s) => s.request.method === 'ACK' && s.destination.address === o.source.address).map((s) => s.request),
    };
    return p;
  };
  const a = phone({ from: A_FROM, to: `${A_TO};tag=${gwTagA}`, callId: 'call-a', source: PEER, cseq: 1 });
  const b = phone({ from: `<sip:202@surgery.example>;tag=phone-b`, to: `<sip:201@surgery.example>;tag=${gwTagB}`, callId: callIdB, source: B, cseq: 100 });
  a.ack(1, o.lateOffer ? phoneSdp({ who: 'a', version: 1, pts: '8' }) : undefined);
  await wait();
  if (call!.state !== 'answered') throw new Error(`the call did not get answered: ${call!.state}`);
  return {
    h,
    call: call!,
    ends,
    stats,
    a,
    b,
    leg: (side) => call!.mediaLeg(side) as unknown as FakeLeg,
  };
}

/** What a leg was last configured with, as text: `local` what the gateway sent, `remote` what the phone sent. */
export function legSdp(leg: FakeLeg): { local: string; remote: string } {
  if (!leg.sdp) throw new Error('the leg has no SDP');
  return { local: serializeSdp(leg.sdp.local), remote: serializeSdp(leg.sdp.remote) };
}
