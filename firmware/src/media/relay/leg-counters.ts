/**
 * A leg's counters as one row of numbers, so that the thread that forwards
 * the packets can write them where the thread that answers the admin API
 * reads them (a slice of a SharedArrayBuffer when the relay runs in media
 * workers; a plain array in-process). Only the forwarding thread writes.
 * A reader may see one counter a packet ahead of another: these are
 * statistics, not accounting, so no Atomics are spent on the hot path.
 */
import type { LegStats } from './leg-stats.js';

/** Index of each counter in a leg's row. */
export const LC = {
  rxPackets: 0,
  rxBytes: 1,
  /** Wall-clock ms of the last RTP packet from the leg; 0: none yet. */
  rxLastAt: 2,
  rxLost: 3,
  rxRtcp: 4,
  txPackets: 5,
  txBytes: 6,
  txRtcp: 7,
  txTranscoded: 8,
  dropInvalid: 9,
  dropForeignSource: 10,
  dropUnknownPayloadType: 11,
  dropDirection: 12,
  dropNoRoute: 13,
  dropCodec: 14,
  /** 1 while the kernel fast path forwards this leg's RTP (media/offload), else 0. */
  kernel: 15,
} as const;

/** Numbers per leg row. */
export const LEG_COUNTER_COUNT = 16;

export type LegCounters = Float64Array;

export function newLegCounters(): LegCounters {
  return new Float64Array(LEG_COUNTER_COUNT);
}

/** The rx/tx/dropped part of LegStats from a row. */
export function readLegCounters(c: LegCounters): Pick<LegStats, 'rx' | 'tx' | 'dropped' | 'forwarding'> {
  return {
    forwarding: c[LC.kernel] === 1 ? 'kernel' : 'user',
    rx: { packets: c[LC.rxPackets]!, bytes: c[LC.rxBytes]!, lastPacketAt: c[LC.rxLastAt]! || null, lost: c[LC.rxLost]!, rtcpPackets: c[LC.rxRtcp]! },
    tx: { packets: c[LC.txPackets]!, bytes: c[LC.txBytes]!, rtcpPackets: c[LC.txRtcp]!, transcoded: c[LC.txTranscoded]! },
    dropped: {
      invalid: c[LC.dropInvalid]!,
      foreignSource: c[LC.dropForeignSource]!,
      unknownPayloadType: c[LC.dropUnknownPayloadType]!,
      direction: c[LC.dropDirection]!,
      noRoute: c[LC.dropNoRoute]!,
      codec: c[LC.dropCodec]!,
    },
  };
}

/** Add n (default 1) to one counter of a row. */
export function bump(c: LegCounters, i: number, n = 1): void {
  c[i] = c[i]! + n;
}
