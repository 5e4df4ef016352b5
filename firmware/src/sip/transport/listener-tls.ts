/**
 * The TLS listener's certificate and key, read from the files a listening
 * point names (`practice.sip.listen[].tls`, CONTRACT.md). The transport layer
 * takes one TlsSettings for all its TLS listeners, so the first TLS
 * listening point's files are used; they are also the certificate the box
 * presents as a TLS client, unless a peer has its own (setClientTls).
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import { PgwError } from '../../util/errors.js';
import type { TlsSettings } from './stream-transport.js';

export interface ListenPointTls {
  transport: string;
  tls?: { cert: string; key: string } | undefined;
}

/** undefined when no listening point is TLS; rejects with PGW_E_CONFIG_READ when a file cannot be read. */
export async function readListenerTls(
  listen: readonly ListenPointTls[],
  readFile: (path: string) => Promise<Buffer> = (p) => fsReadFile(p),
): Promise<TlsSettings | undefined> {
  const point = listen.find((l) => l.transport === 'tls' && l.tls !== undefined);
  if (!point?.tls) return undefined;
  const read = async (path: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (e) {
      throw new PgwError('PGW_E_CONFIG_READ', `cannot read the SIP TLS file ${path}: ${(e as Error).message}`, { cause: e, context: { path } });
    }
  };
  // One after the other, so a box missing both files always names the certificate first: the
  // installer's message does not depend on which read failed first.
  const cert = await read(point.tls.cert);
  const key = await read(point.tls.key);
  return { cert, key };
}
