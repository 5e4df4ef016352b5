/**
 * TLS toward an uplink (`uplinks.cloud.tls`, `uplinks.trunks[].tls`):
 *
 * - the server name its certificate must carry (RFC 5922 §4: the host of
 *   the URI the request was sent to, here the configured proxy or registrar
 *   URI), or `tls.serverName` where the SBC's certificate names something
 *   else; for an address literal with no serverName, the address (IP SAN);
 * - the CA it is verified with (`tls.ca`, default the system store) and the
 *   client certificate the box presents to it (`tls.cert`/`tls.key`, default
 *   the box's own TLS listener certificate, if any): the files are read once
 *   when the uplink starts (a config push that changes the uplink restarts
 *   it) and given to the transport for the peer's address and port
 *   (TransportLayer.setClientTls), since the UA core hands the transport
 *   only the server name.
 *
 * An uplink whose files cannot be read is not contacted at all: its probes
 * fail (it is `down`, with the reason logged) rather than connect with a
 * trust it was not configured with.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import type { UplinkTlsConfig } from '../config/practice-schema.js';
import type { ClientTlsSettings, Endpoint, TransportLayer } from '../sip/transport/api.js';
import { PgwError } from '../util/errors.js';
import type { ResolvedPeer } from './peer-address.js';

export type ReadFile = (path: string) => Promise<Buffer>;

export type ClientTlsPort = Pick<TransportLayer, 'setClientTls'>;

/** `sips` when the configured URI is (RFC 3261 §19.1: TLS on every hop); `sip` otherwise, whatever the transport. */
export function schemeFor(peer: Pick<ResolvedPeer, 'secure'>): 'sip' | 'sips' {
  return peer.secure ? 'sips' : 'sip';
}

export class UplinkTls {
  private loaded: Promise<ClientTlsSettings | undefined> | undefined;
  private readonly applied = new Map<string, Endpoint>();

  constructor(
    private readonly o: {
      /** The uplink's name, for messages. */
      name: string;
      config: UplinkTlsConfig | undefined;
      transport: ClientTlsPort | undefined;
      readFile?: ReadFile;
    },
  ) {}

  /** The name the peer's certificate must match; undefined when the peer is not reached over TLS (or is an address without serverName). */
  serverNameFor(peer: Pick<ResolvedPeer, 'endpoint' | 'tlsServerName'>): string | undefined {
    if (peer.endpoint.protocol !== 'tls') return undefined;
    return this.o.config?.serverName ?? peer.tlsServerName;
  }

  /**
   * Make connections to this endpoint use the uplink's CA and client
   * certificate. Nothing to do for a peer not reached over TLS, or with no
   * files configured. Rejects (PGW_E_CONFIG_READ) when a file cannot be read.
   */
  async prepare(endpoint: Endpoint): Promise<void> {
    if (endpoint.protocol !== 'tls') return;
    const settings = await this.settings();
    if (!settings) return;
    const setClientTls = this.o.transport?.setClientTls?.bind(this.o.transport);
    if (!setClientTls) throw new PgwError('PGW_E_SIP_TRANSPORT', `uplink ${this.o.name}: the transport cannot take per-peer TLS settings`);
    setClientTls({ address: endpoint.address, port: endpoint.port }, settings);
    this.applied.set(`${endpoint.address}|${endpoint.port}`, endpoint);
  }

  /** The uplink stops: its settings no longer apply to new connections. */
  release(): void {
    for (const e of this.applied.values()) this.o.transport?.setClientTls?.({ address: e.address, port: e.port }, undefined);
    this.applied.clear();
  }

  private settings(): Promise<ClientTlsSettings | undefined> {
    const c = this.o.config;
    if (!c || (c.ca === undefined && c.cert === undefined)) return Promise.resolve(undefined);
    this.loaded ??= this.read(c).catch((e: unknown) => {
      // Read again next time: the file may be put in place later.
      this.loaded = undefined;
      throw e;
    });
    return this.loaded;
  }

  private async read(c: UplinkTlsConfig): Promise<ClientTlsSettings> {
    const readFile = this.o.readFile ?? ((p: string) => fsReadFile(p));
    const one = async (path: string): Promise<Buffer> => {
      try {
        return await readFile(path);
      } catch (e) {
        throw new PgwError('PGW_E_CONFIG_READ', `uplink ${this.o.name}: cannot read the TLS file ${path}: ${(e as Error).message}`, { cause: e, context: { path } });
      }
    };
    const [ca, cert, key] = await Promise.all([
      c.ca !== undefined ? one(c.ca) : undefined,
      c.cert !== undefined ? one(c.cert) : undefined,
      c.key !== undefined ? one(c.key) : undefined,
    ]);
    return { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) };
  }
}
