/**
 * The running gateway's local control socket: HTTP on a Unix socket in the
 * data directory (DATA/control.sock, mode 0600), for `pgw factory-reset` at
 * the box's console.
 *
 * Why not the admin API: it is read-only, and on a box it listens on
 * 0.0.0.0:8080 (first boot) for the installer's laptop on the LAN, the same
 * network as the phones, with no authentication. A request that erases the
 * practice must come from someone at the box: a Unix socket in a 0700
 * directory owned by root can only be reached by root on the box itself.
 *
 *   POST /v1/factory-reset  {"confirm":"factory-reset"}
 *     200 {"status":"erased","deviceId","claimCode","restart"}   then the board restarts
 *     409 {"status":"refused","reason":"calls-up"|"update-running","message"}
 *     500 {"status":"failed","message"}
 */
import { chmod, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { CONTROL_SOCKET_FILE } from '../../../hw/reset/erase-plan.js';
import type { Logger } from '../util/logger.js';
import type { FactoryResetAnswer } from './factory-reset.js';

export const FACTORY_RESET_PATH = '/v1/factory-reset';
export const FACTORY_RESET_CONFIRM = 'factory-reset';

export function controlSocketPath(dataDir: string): string {
  return join(dataDir, CONTROL_SOCKET_FILE);
}

export interface ControlSocket {
  readonly path: string;
  close(): Promise<void>;
}

export async function startControlSocket(o: { dataDir: string; logger: Logger; factoryReset: () => Promise<FactoryResetAnswer> }): Promise<ControlSocket> {
  const path = controlSocketPath(o.dataDir);
  const log = o.logger.child({ component: 'control-socket' });
  const server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    void (async () => {
      if (req.url !== FACTORY_RESET_PATH) return reply(404, { status: 'failed', message: `no such endpoint: ${req.url ?? ''}` });
      if (req.method !== 'POST') return reply(405, { status: 'failed', message: 'POST only' });
      const body = await readJson(req).catch(() => null);
      if (!body || body.confirm !== FACTORY_RESET_CONFIRM) return reply(400, { status: 'failed', message: `the body must be {"confirm":"${FACTORY_RESET_CONFIRM}"}` });
      log.warn('factory reset asked for on the control socket');
      const a = await o.factoryReset();
      if (a.outcome === 'erased') return reply(200, { status: 'erased', deviceId: a.deviceId, claimCode: a.claimCode, restart: a.restart });
      return reply(a.reason === 'failed' ? 500 : 409, { status: a.reason === 'failed' ? 'failed' : 'refused', reason: a.reason, message: a.message });
    })().catch((err: unknown) => {
      log.error({ err: (err as Error).message }, 'control request failed');
      if (!res.headersSent) reply(500, { status: 'failed', message: 'internal error' });
    });
  });
  // A socket file left by a process that died is in the way of listen().
  await rm(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  let text = '';
  for await (const chunk of req) {
    text += (chunk as Buffer).toString('utf8');
    if (text.length > 4096) return null;
  }
  const j = JSON.parse(text) as unknown;
  return typeof j === 'object' && j !== null && !Array.isArray(j) ? (j as Record<string, unknown>) : null;
}
