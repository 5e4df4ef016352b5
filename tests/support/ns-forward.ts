/**
 * Reaching a TCP service inside a network namespace from the test process.
 *
 * Node cannot enter a namespace, and the namespaces have no route to the root
 * namespace (on purpose: nothing leaks). But a Unix socket is a file, and the
 * filesystem is shared: socat inside the namespace listens on a Unix socket
 * and relays each connection to host:port there. The test then uses
 * `net.connect({ path })` or `http.request({ socketPath })`.
 *
 *   const fwd = await forwardTcpFromNamespace({ netns: topo.ns('gw'), host: '127.0.0.1', port: 8080 });
 *   http.get({ socketPath: fwd.socketPath, path: '/api/v1/status' }, ...);
 *   await fwd.close();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nsSpawn } from './netns.js';
import { HarnessError, waitUntil } from './proc.js';
import { existsSync } from 'node:fs';

export interface NsForward {
  /** Unix socket path in the shared filesystem. */
  readonly socketPath: string;
  close(): Promise<void>;
}

export async function forwardTcpFromNamespace(opts: {
  netns: string | undefined;
  host: string;
  port: number;
  timeoutMs?: number;
}): Promise<NsForward> {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-fwd-'));
  const socketPath = join(dir, 'sock');
  const proc = nsSpawn(opts.netns, 'socat', [`UNIX-LISTEN:${socketPath},fork`, `TCP:${opts.host}:${opts.port}`]);
  try {
    await waitUntil(() => existsSync(socketPath) || (proc.hasExited() ? 'exited' : false), {
      timeoutMs: opts.timeoutMs ?? 5_000,
      what: `socat relay to ${opts.host}:${opts.port}`,
    });
    if (proc.hasExited()) throw new HarnessError('socat relay exited', proc.output.toString());
  } catch (e) {
    await proc.stop({ graceMs: 500 });
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    socketPath,
    async close() {
      await proc.stop({ graceMs: 1_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** GET `path` over the Unix socket of a forwarder (or any HTTP server on a socket); the 200 body as JSON. */
export function getJsonOverSocket<T>(socketPath: string, path: string, timeoutMs = 3_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', headers: { host: 'localhost' }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) return reject(new HarnessError(`GET ${path}: ${res.statusCode} ${text.slice(0, 300)}`));
        try {
          resolve(JSON.parse(text) as T);
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    });
    req.on('timeout', () => req.destroy(new HarnessError(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
