/**
 * A call through a MediaRelay for the relay's unit tests: two fake phones on
 * 127.0.0.1, A's offer answered on leg A and relayed to B on leg B, and B's
 * answer, with the codecs each phone has.
 */
import { FakeClock } from '../../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import { RtpPortPool } from '../../../../firmware/src/media/rtp/port-pool.js';
import { MediaRelay } from '../../../../firmware/src/media/relay/media-relay.js';
import type { MediaLeg } from '../../../../firmware/src/media/relay/media-leg.js';
import type { KernelOffload } from '../../../../firmware/src/media/offload/kernel-offload.js';
import { parseSdp } from '../../../../firmware/src/media/sdp/sdp-parse.js';
import type { Sdp } from '../../../../firmware/src/media/sdp/sdp-types.js';
import { negotiateAnswer, relayOffer } from '../../../../firmware/src/media/sdp/sdp-negotiate.js';
import { buildRtp } from '../../../../firmware/src/media/rtp/rtp-header.js';
import { FakePhone } from './udp.js';

export const BASE = 30000 + (process.pid % 500) * 20;
export const LOCAL = '127.0.0.1';

/** A phone's SDP: codecs as [pt, 'NAME/rate'], optional direction and connection address. */
export function phoneSdp(o: { port: number; rtcpPort?: number; codecs: Array<[number, string]>; direction?: string; address?: string; version?: number }): Sdp {
  const pts = o.codecs.map(([pt]) => pt).join(' ');
  const maps = o.codecs.map(([pt, n]) => `a=rtpmap:${pt} ${n}\r\n`).join('');
  return parseSdp(
    `v=0\r\no=phone 1 ${o.version ?? 1} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 ${o.address ?? '127.0.0.1'}\r\nt=0 0\r\nm=audio ${o.port} RTP/AVP ${pts}\r\n${maps}${o.rtcpPort ? `a=rtcp:${o.rtcpPort}\r\n` : ''}${o.direction ? `a=${o.direction}\r\n` : ''}`,
  );
}

export interface World {
  clock: FakeClock;
  relay: MediaRelay;
  a: FakePhone;
  b: FakePhone;
  legA: MediaLeg;
  legB: MediaLeg;
  close(): Promise<void>;
}

/**
 * A calls B through the gateway: A's offer is answered on leg A, relayed to
 * B on leg B, and B answers. The codecs of each phone are given.
 */
export async function call(opts: { aCodecs: Array<[number, string]>; bCodecs: Array<[number, string]>; supported?: string[]; deadAfterMs?: number; offload?: KernelOffload }): Promise<World> {
  const clock = new FakeClock();
  const pool = new RtpPortPool({ min: BASE, max: BASE + 19 });
  const relay = new MediaRelay({ clock, logger: silentLogger(), pool, deadAfterMs: opts.deadAfterMs ?? 5000, relatchAfterMs: 2000, offload: opts.offload ?? null });
  const a = await FakePhone.create();
  const b = await FakePhone.create();
  const { a: legA, b: legB } = await relay.createBridge({ a: { localAddress: LOCAL, label: 'A' }, b: { localAddress: LOCAL, label: 'B' } });
  const offerA = phoneSdp({ port: a.rtpPort, rtcpPort: a.rtcpPort, codecs: opts.aCodecs });
  const toB = relayOffer({ from: offerA, localAddress: LOCAL, localPort: legB.rtpPort, supported: opts.supported }).offer;
  // B answers with the first of its codecs that the relayed offer has (keeping the offer's PT numbers).
  const offered = toB.media[0]!.formats.map(Number);
  const bAnswer = opts.bCodecs.filter(([pt, name]) => offered.includes(pt) || /telephone-event/.test(name));
  const answerB = phoneSdp({ port: b.rtpPort, rtcpPort: b.rtcpPort, codecs: bAnswer.length > 0 ? bAnswer : opts.bCodecs });
  legB.setSdp({ local: toB, remote: answerB });
  const chosen = answerB.media[0]!.formats.length > 0 ? opts.bCodecs.map(([, n]) => n.split('/')[0]!) : [];
  const answerA = negotiateAnswer({ offer: offerA, supported: [...chosen, 'PCMA', 'PCMU', 'G722'], localAddress: LOCAL, localPort: legA.rtpPort }).answer;
  legA.setSdp({ local: answerA, remote: offerA });
  return {
    clock,
    relay,
    a,
    b,
    legA,
    legB,
    close: async () => {
      await relay.close();
      a.close();
      b.close();
    },
  };
}

export function rtp(o: { pt: number; seq: number; ts: number; ssrc: number; payload?: Uint8Array; marker?: boolean }): Buffer {
  return buildRtp({ marker: o.marker ?? false, payloadType: o.pt, sequence: o.seq, timestamp: o.ts, ssrc: o.ssrc, csrc: [], extension: null }, o.payload ?? new Uint8Array(160).fill(0xd5));
}
