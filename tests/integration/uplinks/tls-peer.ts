/**
 * The TLS side of the uplink tests (issue 6): throwaway CAs and certificates
 * made with the openssl CLI, and a Kamailio carrier with its tls module
 * (Debian `kamailio-tls-modules`) that presents its certificate on several
 * TLS ports and demands a client certificate from its own CA.
 *
 * The carrier's config is the harness's (tests/support/kamailio.ts:
 * registrar, digest auth, proxy) with the TLS lines added, and a log line
 * per request that arrived over TLS naming the port, the client
 * certificate's CN and the SNI the client sent, so a test can tell what
 * the gateway really presented.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kamailioConfig, type KamailioOptions } from '../../support/kamailio.js';
import { nsSpawn, waitForListening } from '../../support/netns.js';
import { HarnessError, runOk, type ManagedProcess } from '../../support/proc.js';

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
export const TLS_MODULE = '/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestCa {
  /** The CA certificate file. */
  ca: string;
  /** A certificate signed by this CA; `ext` is openssl x509 extension lines (subjectAltName, extendedKeyUsage). */
  issue(name: string, ext: string): Promise<CertFiles>;
}

export async function makeCa(dir: string, name: string): Promise<TestCa> {
  mkdirSync(dir, { recursive: true });
  const ca = join(dir, `${name}.pem`);
  const caKey = join(dir, `${name}.key`);
  await runOk('openssl', ['req', '-x509', ...EC, '-keyout', caKey, '-out', ca, '-days', '2', '-subj', `/CN=${name}`]);
  return {
    ca,
    issue: async (leaf, ext) => {
      const base = join(dir, `${name}-${leaf}`);
      writeFileSync(`${base}.ext`, `${ext}\n`);
      await runOk('openssl', ['req', ...EC, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${leaf}`]);
      await runOk('openssl', ['x509', '-req', '-in', `${base}.csr`, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', `${base}.pem`, '-days', '2', '-extfile', `${base}.ext`]);
      return { cert: `${base}.pem`, key: `${base}.key` };
    },
  };
}

export interface TlsCarrierOptions extends Omit<KamailioOptions, 'transports' | 'workDir'> {
  netns: string;
  workDir: string;
  /** The carrier's server certificate. */
  server: CertFiles;
  /** Clients must present a certificate from this CA. */
  clientCa: string;
  tlsPorts: number[];
}

export interface TlsCarrier {
  readonly proc: ManagedProcess;
  log(): string;
  /** `pgwt-tls:` lines: one per request that arrived over TLS. */
  tlsRequests(): Array<{ method: string; user: string; port: number; cn: string; sni: string }>;
  stop(): Promise<void>;
}

export async function startTlsCarrier(o: TlsCarrierOptions): Promise<TlsCarrier> {
  if (!existsSync(TLS_MODULE)) throw new HarnessError(`Kamailio's tls module is missing (${TLS_MODULE}): apt-get install kamailio-tls-modules`);
  const tlsCfg = join(o.workDir, 'tls.cfg');
  writeFileSync(
    tlsCfg,
    `[server:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
private_key = ${o.server.key}
certificate = ${o.server.cert}
ca_list = ${o.clientCa}

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
`,
  );
  const logLine = `  if ($pr == "tls") { xlog("L_NOTICE", "pgwt-tls: $rm $fU port=$Rp cn=$tls_peer_subject_cn sni=$tls_peer_server_name\\n"); }\n`;
  let cfg = kamailioConfig({ ...o, transports: ['udp', 'tcp'], extraRequestRoute: `${logLine}${o.extraRequestRoute ?? ''}` });
  const listenTls = o.tlsPorts.map((p) => `listen=tls:${o.listenIp}:${p}`).join('\n');
  cfg = cfg.replace(/^(listen=tcp:.*)$/m, `$1\nenable_tls=yes\n${listenTls}`);
  cfg = cfg.replace('loadmodule "sl.so"', `loadmodule "tls.so"\nmodparam("tls", "config", "${tlsCfg}")\nloadmodule "sl.so"`);
  const configPath = join(o.workDir, 'kamailio.cfg');
  writeFileSync(configPath, cfg);
  const proc = nsSpawn(o.netns, 'kamailio', ['-DD', '-E', '-f', configPath, '-m', '64', '-M', '8', '-Y', o.workDir]);
  const stop = async (): Promise<void> => {
    await proc.stop({ signal: 'SIGTERM', graceMs: 3_000 });
  };
  try {
    await Promise.race([
      Promise.all(o.tlsPorts.map((port) => waitForListening({ netns: o.netns, port, proto: 'tcp', timeoutMs: 10_000 }))),
      proc.exited.then(() => {
        throw new HarnessError('kamailio exited during startup');
      }),
    ]);
  } catch (e) {
    await stop();
    throw new HarnessError(`kamailio (TLS) did not start: ${(e as Error).message}`, proc.output.toString());
  }
  const log = (): string => proc.output.toString();
  return {
    proc,
    log,
    tlsRequests: () =>
      [...log().matchAll(/pgwt-tls: (\S+) (\S*) port=(\d+) cn=(\S*) sni=(\S*)/g)].map((m) => ({
        method: m[1]!,
        user: m[2]!,
        port: Number(m[3]),
        cn: m[4]!,
        sni: m[5]!,
      })),
    stop,
  };
}
