/** Counters of one relay leg, for the admin API and the logs. Plain data, safe to serialise. */
export interface LegStats {
  id: string;
  label: string | null;
  state: 'idle' | 'active' | 'closed';
  localAddress: string;
  rtpPort: number;
  rtcpPort: number;
  /** Where the leg's SDP says to send. */
  remote: { address: string; port: number } | null;
  /** Where media really comes from (symmetric RTP), if latched. */
  latched: { address: string; port: number } | null;
  /** The leg this one is bridged to. */
  peer: string | null;
  /** The codec sent to this leg when transcoding (its first accepted audio codec). */
  codec: string | null;
  flow: { toLeg: boolean; fromLeg: boolean };
  rx: {
    packets: number;
    bytes: number;
    /** Wall-clock time (ms since the epoch) of the last RTP packet from the leg. */
    lastPacketAt: number | null;
    /** Packets missing from the sequence numbers (gaps minus late arrivals). */
    lost: number;
    rtcpPackets: number;
  };
  tx: { packets: number; bytes: number; rtcpPackets: number; transcoded: number };
  dropped: {
    /** Not RTP/RTCP at all. */
    invalid: number;
    /** From a source other than the latched one. */
    foreignSource: number;
    /** RTP with a payload type the leg's SDP does not have. */
    unknownPayloadType: number;
    /** Against the negotiated direction (hold, inactive). */
    direction: number;
    /** Nowhere to send: not bridged, or no address for the other leg yet. */
    noRoute: number;
    /** The other leg cannot take this codec and it cannot be transcoded. */
    codec: number;
  };
  /**
   * Who forwards this leg's RTP: the relay in user space, or the kernel fast
   * path (media/offload) once the call's media is steady pass-through. The
   * counters include both; while the kernel forwards they are brought up to
   * date once a second, and packet loss is counted when the leg comes back.
   */
  forwarding: 'user' | 'kernel';
  /** A dead-media event was raised and no RTP came since. */
  dead: boolean;
}
