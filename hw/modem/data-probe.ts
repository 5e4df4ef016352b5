/**
 * A data-path probe for the modem monitor: can a TCP connection be opened
 * from the modem's own address to a peer on the far side (the trunk's SIP
 * server over TCP, or any host the practice may reach)? Attached-but-dead
 * modems (a stale PDP context) answer every AT command and pass no packet;
 * only traffic finds them out. Binding the local address to the modem's
 * interface keeps the probe off broadband and HSCN.
 */
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';

export interface TcpProbeOptions {
  host: string;
  port: number;
  timeoutMs?: number;
  /** The local address to connect from; null: let routing choose (unless requireLocalAddress). */
  localAddress?: () => string | null;
  /**
   * No local address (the modem's interface has none yet) is a failed probe, not a
   * connection by another route: a probe that tests broadband would hide a dead 4G path.
   */
  requireLocalAddress?: boolean;
}

export function tcpConnectProbe(options: TcpProbeOptions): () => Promise<boolean> {
  return () =>
    new Promise((resolve) => {
      const local = options.localAddress?.() ?? undefined;
      if (!local && options.requireLocalAddress) {
        resolve(false);
        return;
      }
      const socket = connect({ host: options.host, port: options.port, ...(local ? { localAddress: local } : {}) });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      // An I/O deadline on the socket itself (not protocol timing): no answer is a dead path.
      socket.setTimeout(options.timeoutMs ?? 8000, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
}

/** The first IPv4 address of an interface (wwan0), or null while it has none. */
export function interfaceIPv4(name: string): () => string | null {
  return () => networkInterfaces()[name]?.find((a) => a.family === 'IPv4')?.address ?? null;
}
