/**
 * When a bridged pair of legs goes to the kernel fast path and when it comes
 * back (the nft side is media/offload/kernel-offload.ts).
 *
 *   user ──steady for a sweep──► adding ──nft ok──► kernel
 *    ▲                             │ refused          │ new SDP, re-bridge, unbridge,
 *    │                             ▼                  │ relatch, close
 *    └──────────── flows removed ◄── removing ◄───────┘
 *
 * Steady means, on both legs: sending and receiving (not on hold), latched
 * to an IPv4 source that sent in the last second, the stream to the phone
 * never renumbered, every payload type passing unchanged (no transcoding),
 * and both phones on the link of the gateway address that faces them.
 *
 * While the kernel forwards, the relay's sweep reads its counters once per
 * sweep and adds them to the legs (rx/tx, last packet time, the latch's
 * freshness), so the admin API, dead-media detection and relatching work as
 * before. Taking a pair out holds the legs' output until the kernel has
 * stopped, then continues the streams after what the kernel sent (a
 * re-bridge keeps sequence continuity) and carries the loss count on from
 * there. A leg closing waits for that before its ports are reused.
 */
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { KernelOffload } from '../offload/kernel-offload.js';
import { flowKey } from '../offload/nft-script.js';
import type { FlowCount, KernelFlow } from '../offload/nft-script.js';
import { LC } from './leg-counters.js';
import type { MediaLeg } from './media-leg.js';

/** A source must have sent within this long for its leg to be steady. */
const FRESH_MS = 1000;
/** After leaving the kernel, a pair waits this long before it may go back (hold and resume, transfers). */
const COOLDOWN_MS = 3000;
/** After nft refused a pair, it waits this long. */
const REFUSED_COOLDOWN_MS = 30_000;
/**
 * Sequence numbers the stream sent to a phone is moved on by beyond what
 * the kernel counted when a pair leaves it: the few packets forwarded
 * between the last count and the removal, and any the phone's peer lost on
 * the way in. A step forward is a small gap to the phone's jitter buffer; a
 * step back would make it discard packets as late.
 */
const SEQ_MARGIN = 3;
/** IPv4 + UDP headers, which the kernel's byte counts include and the relay's do not. */
const IP_UDP_HEADERS = 28;

type PairState = 'adding' | 'kernel' | 'removing';

interface KernelPair {
  readonly a: MediaLeg;
  readonly b: MediaLeg;
  /** [a's phone → b's phone, b's phone → a's phone] */
  readonly flows: readonly [KernelFlow, KernelFlow];
  state: PairState;
  /** What has been added to the legs' counters so far, per flow. */
  counted: [FlowCount, FlowCount];
  added: Promise<boolean>;
  release: Promise<void> | null;
}

export class KernelPath {
  private readonly offload: KernelOffload;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly pairs = new Set<KernelPair>();
  private polling = false;

  constructor(o: { offload: KernelOffload; clock: Clock; logger: Logger }) {
    this.offload = o.offload;
    this.clock = o.clock;
    this.log = o.logger;
  }

  /** One sweep: offer steady pairs to the kernel, and bring the counters of those in it up to date. */
  tick(legs: Iterable<MediaLeg>): void {
    if (this.offload.enabled) {
      const now = this.clock.monotonic();
      for (const leg of legs) {
        const peer = leg.peerLeg;
        // Each pair once: from the leg with the lower port.
        if (!peer || peer.rtpPort < leg.rtpPort) continue;
        const flows = this.flowsFor(leg, peer, now);
        if (flows) this.enter(leg, peer, flows);
      }
    }
    if (this.polling || ![...this.pairs].some((p) => p.state === 'kernel')) return;
    this.polling = true;
    void this.offload.counts().then((counts) => {
      this.polling = false;
      for (const p of this.pairs) this.apply(p, counts);
    });
  }

  private flowsFor(a: MediaLeg, b: MediaLeg, now: number): [KernelFlow, KernelFlow] | null {
    const srcA = a.kernelSource(now, FRESH_MS);
    const srcB = srcA && b.kernelSource(now, FRESH_MS);
    if (!srcA || !srcB) return null;
    const ptsAB = b.unchangedPayloadTypesFrom(a);
    const ptsBA = a.unchangedPayloadTypesFrom(b);
    if (ptsAB.length === 0 || ptsBA.length === 0) return null;
    const devA = this.offload.links.sharedDevice(a.localAddress, srcA.address);
    const devB = devA && this.offload.links.sharedDevice(b.localAddress, srcB.address);
    if (!devA || !devB || devA.loopback !== devB.loopback) return null;
    return [
      { inPort: a.rtpPort, srcAddress: srcA.address, srcPort: srcA.port, payloadTypes: ptsAB, viaAddress: b.localAddress, viaPort: b.rtpPort, toAddress: srcB.address, toPort: srcB.port, device: devA, outDevice: devB },
      { inPort: b.rtpPort, srcAddress: srcB.address, srcPort: srcB.port, payloadTypes: ptsBA, viaAddress: a.localAddress, viaPort: a.rtpPort, toAddress: srcA.address, toPort: srcA.port, device: devB, outDevice: devA },
    ];
  }

  private enter(a: MediaLeg, b: MediaLeg, flows: [KernelFlow, KernelFlow]): void {
    const pair: KernelPair = {
      a,
      b,
      flows,
      state: 'adding',
      counted: [
        { packets: 0, bytes: 0 },
        { packets: 0, bytes: 0 },
      ],
      added: Promise.resolve(false),
      release: null,
    };
    this.pairs.add(pair);
    const leave = (): Promise<void> => this.leave(pair);
    a.kernelRelease = leave;
    b.kernelRelease = leave;
    pair.added = this.offload.add([...flows]).then((ok) => {
      if (!ok) {
        this.forget(pair, REFUSED_COOLDOWN_MS);
        return false;
      }
      if (pair.state === 'adding') {
        pair.state = 'kernel';
        a.counters[LC.kernel] = 1;
        b.counters[LC.kernel] = 1;
        this.log.info({ a: a.id, b: b.id, aLabel: a.label, bLabel: b.label, aFrom: `${flows[0].srcAddress}:${flows[0].srcPort}`, bFrom: `${flows[1].srcAddress}:${flows[1].srcPort}` }, 'media forwarded by the kernel');
      }
      return true;
    });
  }

  /** Takes a pair out of the kernel; resolves once the kernel has stopped forwarding it. Idempotent. */
  private leave(pair: KernelPair): Promise<void> {
    if (pair.release) return pair.release;
    const { a, b } = pair;
    pair.state = 'removing';
    // From now until the kernel has stopped, nothing the relay sends may overtake what the kernel sends.
    a.outputHeld = true;
    b.outputHeld = true;
    a.counters[LC.kernel] = 0;
    b.counters[LC.kernel] = 0;
    pair.release = (async () => {
      if (!(await pair.added)) return; // never got in: forget() has tidied up
      const counts = await this.offload.remove([...pair.flows]);
      this.apply(pair, counts);
      const [ab, ba] = pair.counted;
      a.leftKernel(ab.packets, ba.packets > 0 ? ba.packets + SEQ_MARGIN : 0);
      b.leftKernel(ba.packets, ab.packets > 0 ? ab.packets + SEQ_MARGIN : 0);
      this.forget(pair, COOLDOWN_MS);
      this.log.info({ a: a.id, b: b.id, forwarded: [ab.packets, ba.packets] }, 'media back in user space');
    })();
    return pair.release;
  }

  private forget(pair: KernelPair, cooldownMs: number): void {
    const notBefore = this.clock.monotonic() + cooldownMs;
    for (const leg of [pair.a, pair.b]) {
      leg.outputHeld = false;
      leg.kernelRelease = null;
      leg.kernelNotBefore = notBefore;
    }
    this.pairs.delete(pair);
  }

  /** Adds what the kernel forwarded since the last count to the legs' counters. */
  private apply(pair: KernelPair, counts: Map<string, FlowCount>): void {
    if (pair.state === 'adding') return;
    const now = this.clock.monotonic();
    pair.flows.forEach((f, i) => {
      const c = counts.get(flowKey(f.inPort, f.srcAddress, f.srcPort));
      const was = pair.counted[i]!;
      if (!c || c.packets <= was.packets) return;
      const packets = c.packets - was.packets;
      const bytes = c.bytes - was.bytes - IP_UDP_HEADERS * packets;
      const [from, to] = i === 0 ? [pair.a, pair.b] : [pair.b, pair.a];
      from.addKernelRx(packets, bytes, now);
      to.addKernelTx(packets, bytes);
      pair.counted[i] = c;
    });
  }

  /** Every pair out of the kernel (the relay is closing). */
  async leaveAll(): Promise<void> {
    await Promise.all([...this.pairs].map((p) => this.leave(p)));
  }
}
