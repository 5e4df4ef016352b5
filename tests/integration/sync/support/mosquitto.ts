/**
 * A real Debian mosquitto per test file, on a free 127.0.0.1 port, with its
 * own generated config and persistence in a temp dir, so a broker restart
 * keeps sessions, queued QoS 1 messages and retained messages like the
 * cloud's broker does.
 *
 *   const broker = await startMosquitto();
 *   try { ...broker.url...; await broker.stop(); await broker.start(); } finally { await broker.destroy(); }
 *
 * stop() is SIGTERM: mosquitto saves its database and exits. kill() is
 * SIGKILL: nothing saved since the last autosave.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCommand, HarnessError, spawnManaged, waitUntil } from '../../../support/proc.js';
import type { ManagedProcess } from '../../../support/proc.js';

export interface Mosquitto {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  running(): boolean;
  /** Starts it again on the same port with the same persistence. */
  start(): Promise<void>;
  /** SIGTERM: saves persistence and exits. */
  stop(): Promise<void>;
  /** SIGKILL. */
  kill(): Promise<void>;
  /** The broker's log so far (for failure messages). */
  log(): string;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
}

export function mosquittoAvailable(): boolean {
  return hasCommand('mosquitto');
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export interface MosquittoOptions {
  /**
   * A TLS listener instead of plain TCP (the url is then mqtts://): the
   * server's certificate and key, the CA that signs client certificates,
   * and whether a client certificate is required.
   */
  tls?: { ca: string; cert: string; key: string; requireCertificate: boolean };
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  if (!mosquittoAvailable()) throw new HarnessError('mosquitto is not installed (make deps-deb installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'pgw-mosquitto-'));
  const port = await freeTcpPort();
  const conf = join(dir, 'mosquitto.conf');
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence true',
    `persistence_location ${dir}/`,
    'autosave_interval 1',
    'set_tcp_nodelay true',
    'max_queued_messages 100000',
    'max_inflight_messages 100',
    'log_dest stdout',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
  ];
  const tls = options.tls;
  if (tls) {
    lines.push(`cafile ${tls.ca}`, `certfile ${tls.cert}`, `keyfile ${tls.key}`, `require_certificate ${tls.requireCertificate}`);
    // The client's certificate CN is its identity, as on the cloud's broker.
    if (tls.requireCertificate) lines.push('use_identity_as_username true');
  }
  // Run as root, mosquitto would switch to the `mosquitto` user, which cannot write the temp dir.
  if (process.getuid?.() === 0) lines.push('user root');
  writeFileSync(conf, `${lines.join('\n')}\n`);

  let proc: ManagedProcess | undefined;
  let history = '';
  const start = async (): Promise<void> => {
    if (proc && !proc.hasExited()) return;
    if (proc) history += proc.output.toString();
    proc = spawnManaged('mosquitto', ['-c', conf], { label: 'mosquitto' });
    const p = proc;
    await waitUntil(async () => (p.hasExited() ? 'exited' : (await canConnect(port)) ? 'up' : false), {
      timeoutMs: 10_000,
      intervalMs: 20,
      what: `mosquitto on port ${port}`,
    }).then((state) => {
      if (state === 'exited') throw new HarnessError('mosquitto exited at start', p.output.toString());
    });
  };
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    if (!proc || proc.hasExited()) return;
    await proc.stop({ signal, graceMs: 5_000 });
  };
  await start();
  return {
    port,
    url: `${tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    dir,
    running: () => !!proc && !proc.hasExited(),
    start,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    log: () => history + (proc?.output.toString() ?? ''),
    destroy: async () => {
      await halt('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
