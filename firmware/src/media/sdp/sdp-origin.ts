/**
 * The o= line of the SDP the gateway sends on one leg (RFC 3264 §8): one
 * username, session id and address for the whole session; the version goes
 * up by one each time the gateway sends an SDP that differs from the one it
 * sent before, and stays the same when it sends the same one again (RFC 3264
 * §8: "If the version in the origin line does not increment, the SDP MUST be
 * identical to the SDP with that version number").
 */
import { randomInt } from 'node:crypto';
import type { Sdp } from './sdp-types.js';
import { serializeSdp } from './sdp-serialize.js';
import { connectionFor } from './sdp-connection.js';

export class SdpOriginator {
  readonly username: string;
  readonly sessionId: string;
  readonly address: string;
  private version: bigint;
  private lastBody: string | null = null;

  constructor(options: { address: string; username?: string; sessionId?: string; initialVersion?: bigint }) {
    this.address = options.address;
    this.username = options.username ?? 'pgw';
    // RFC 4566 §5.2 suggests an NTP timestamp; any number unique enough per session will do.
    this.sessionId = options.sessionId ?? String(randomInt(1, 2 ** 47));
    this.version = options.initialVersion ?? 1n;
  }

  /** The version the next stamp would carry if the body is unchanged. */
  get currentVersion(): bigint {
    return this.version;
  }

  /**
   * Write this side's o= line into sdp (in place) and return it. The first
   * SDP gets the initial version; each later one that differs gets +1.
   */
  stamp(sdp: Sdp, options: { forceNewVersion?: boolean } = {}): Sdp {
    const c = connectionFor(this.address);
    sdp.origin = {
      username: this.username,
      sessionId: this.sessionId,
      sessionVersion: '0',
      netType: c.netType,
      addrType: c.addrType,
      address: this.address,
    };
    const body = serializeSdp(sdp);
    if (this.lastBody !== null && (body !== this.lastBody || options.forceNewVersion)) this.version += 1n;
    this.lastBody = body;
    sdp.origin.sessionVersion = this.version.toString();
    return sdp;
  }
}
