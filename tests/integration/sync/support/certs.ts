/**
 * A throwaway PKI for the TLS tests, made with the openssl CLI: a CA, the
 * broker's certificate for 127.0.0.1, and client certificates whose CN is
 * the device id (the per-device certificate of issue 3).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from '../../../support/proc.js';

export interface Pki {
  ca: string;
  serverCert: string;
  serverKey: string;
  /** Makes a client certificate signed by this CA; returns its cert and key paths. */
  client(cn: string): Promise<{ cert: string; key: string }>;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function makePki(dir: string, name = 'pgw-test-ca'): Promise<Pki> {
  const ca = join(dir, `${name}.pem`);
  const caKey = join(dir, `${name}.key`);
  await runOk('openssl', ['req', '-x509', ...EC, '-keyout', caKey, '-out', ca, '-days', '2', '-subj', `/CN=${name}`]);
  const sign = async (cn: string, ext: string): Promise<{ cert: string; key: string }> => {
    const base = join(dir, `${name}-${cn}`);
    writeFileSync(`${base}.ext`, `${ext}\n`);
    await runOk('openssl', ['req', ...EC, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`]);
    await runOk('openssl', [
      'x509', '-req', '-in', `${base}.csr`, '-CA', ca, '-CAkey', caKey, '-CAcreateserial',
      '-out', `${base}.pem`, '-days', '2', '-extfile', `${base}.ext`,
    ]);
    return { cert: `${base}.pem`, key: `${base}.key` };
  };
  const server = await sign('127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  return {
    ca,
    serverCert: server.cert,
    serverKey: server.key,
    client: (cn) => sign(cn, 'extendedKeyUsage=clientAuth'),
  };
}
