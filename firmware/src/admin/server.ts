/**
 * The local admin HTTP API on node:http (CONTRACT.md "Local HTTP API").
 * Read-only for now: status, registrations, calls, the running config
 * (redacted) and a health check. Every answer is JSON, errors included:
 *
 *   { "error": { "status": 404, "code": "not_found", "message": "..." } }
 *
 * A provider that throws gets a 500 with a generic message (the details go
 * to the log, not to the client); one that does not answer within
 * `requestTimeoutMs` gets a 503, so a wedged PBX cannot hang the installer's tools.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseHostPort } from '../config/host-port.js';
import { redactPractice } from '../config/redact.js';
import type { Clock } from '../util/clock.js';
import { SystemClock } from '../util/clock.js';
import { PgwError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { Router } from './router.js';
import type { RouteParams } from './router.js';
import type { StatusProvider } from './status-provider.js';

export const API_PREFIX = '/api/v1';

export type ApiErrorCode = 'not_found' | 'method_not_allowed' | 'internal' | 'unavailable';

export interface ApiErrorBody {
  error: { status: number; code: ApiErrorCode; message: string };
}

export interface AdminServerOptions {
  /** `host:port`, as device.admin.listen; port 0 picks a free one. */
  listen: string;
  status: StatusProvider;
  logger: Logger;
  clock?: Clock;
  /** How long a provider may take before the request gets 503. Default 5000 ms. */
  requestTimeoutMs?: number;
}

export interface AdminServer {
  /** Where it listens, once listening (port resolved when 0 was asked for). */
  address(): { host: string; port: number };
  /** `http://host:port`, for logs and the CLI. */
  url(): string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** The result of a handler: a status code and a JSON body. */
interface Reply {
  status: number;
  body: unknown;
}

type Handler = (params: RouteParams) => Promise<Reply>;

/** The API's routes, as data: docs/CONTRACT.md is tested against this list. */
export const ADMIN_ROUTES = [
  { method: 'GET', path: `${API_PREFIX}/health`, what: 'liveness: { "status": "ok" }' },
  { method: 'GET', path: `${API_PREFIX}/status`, what: 'mode, configVersion, uplinks, registrations, activeCalls, firmware' },
  { method: 'GET', path: `${API_PREFIX}/registrations`, what: "the phones' registrations (contacts)" },
  { method: 'GET', path: `${API_PREFIX}/calls`, what: 'active calls with their legs and media counters' },
  { method: 'GET', path: `${API_PREFIX}/config`, what: 'the running practice config, secrets redacted' },
  { method: 'GET', path: `${API_PREFIX}/hardware`, what: 'board, health sample, alarms, 4G modem, watchdog, front panel' },
  { method: 'GET', path: `${API_PREFIX}/ports`, what: 'PoE ports and the extension on each' },
] as const;

type RoutePath = (typeof ADMIN_ROUTES)[number]['path'];

function buildRouter(provider: StatusProvider): Router<Handler> {
  const handlers: Record<RoutePath, Handler> = {
    [`${API_PREFIX}/health`]: async () => ({ status: 200, body: { status: 'ok' } }),
    [`${API_PREFIX}/status`]: async () => ({ status: 200, body: await provider.status() }),
    [`${API_PREFIX}/registrations`]: async () => ({ status: 200, body: { registrations: await provider.registrations() } }),
    [`${API_PREFIX}/calls`]: async () => ({ status: 200, body: { calls: await provider.calls() } }),
    [`${API_PREFIX}/config`]: async () => {
      const applied = provider.appliedConfig ? await provider.appliedConfig() : null;
      if (!applied) return errorReply(404, 'not_found', 'no practice config has been applied');
      // Redacted here, whatever the provider passed: secrets never leave the box (issue 3).
      return { status: 200, body: { ...applied, practice: redactPractice(applied.practice) } };
    },
    [`${API_PREFIX}/hardware`]: async () => {
      const hw = provider.hardware ? await provider.hardware() : null;
      return hw ? { status: 200, body: hw } : errorReply(404, 'not_found', 'no hardware view on this gateway');
    },
    [`${API_PREFIX}/ports`]: async () => {
      const ports = provider.ports ? await provider.ports() : null;
      return ports ? { status: 200, body: { ports } } : errorReply(404, 'not_found', 'this box has no PoE controller');
    },
  };
  const router = new Router<Handler>();
  for (const r of ADMIN_ROUTES) router.add(r.method, r.path, handlers[r.path]);
  return router;
}

function errorReply(status: number, code: ApiErrorCode, message: string): Reply {
  const body: ApiErrorBody = { error: { status, code, message } };
  return { status, body };
}

export async function createAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const hp = parseHostPort(options.listen);
  if (!hp) throw new PgwError('PGW_E_ADMIN_LISTEN', `admin listen address "${options.listen}" is not host:port`);
  const log = options.logger.child({ component: 'admin' });
  const clock = options.clock ?? new SystemClock();
  const timeoutMs = options.requestTimeoutMs ?? 5000;
  const router = buildRouter(options.status);

  const withTimeout = (p: Promise<Reply>): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const timer = clock.setTimer(timeoutMs, () => resolve(errorReply(503, 'unavailable', 'the gateway did not answer in time')));
      p.then(
        (r) => {
          timer.cancel();
          resolve(r);
        },
        (e: unknown) => {
          timer.cancel();
          reject(e);
        },
      );
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://admin.invalid').pathname;
    } catch {
      pathname = '/';
    }
    const m = router.match(method, pathname);
    let reply: Reply;
    switch (m.kind) {
      case 'not-found':
        reply = errorReply(404, 'not_found', `no such endpoint: ${pathname}`);
        break;
      case 'method-not-allowed':
        res.setHeader('Allow', m.allow.join(', '));
        reply = errorReply(405, 'method_not_allowed', `${method} is not allowed on ${pathname}; allowed: ${m.allow.join(', ')}`);
        break;
      case 'found':
        try {
          reply = await withTimeout(m.handler(m.params));
        } catch (e) {
          log.error({ err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e), path: pathname }, 'admin API handler failed');
          reply = errorReply(500, 'internal', 'internal error');
        }
        break;
      default: {
        const never: never = m;
        throw new Error(`unhandled route match ${String(never)}`);
      }
    }
    const text = `${JSON.stringify(reply.body)}\n`;
    res.statusCode = reply.status;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(method === 'HEAD' ? undefined : text);
    log.debug({ method, path: pathname, status: reply.status }, 'admin request');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log.error({ err: String(e) }, 'admin API response failed');
      res.destroy();
    });
  });
  // The API may listen on the LAN (device.admin.listen 0.0.0.0): do not let
  // slow clients hold sockets open.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      reject(
        new PgwError('PGW_E_ADMIN_LISTEN', `admin API cannot listen on ${options.listen}: ${e.code ?? e.message}`, {
          cause: e,
          context: { listen: options.listen },
        }),
      );
    };
    server.once('error', onError);
    server.listen(hp.port, hp.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (e) => log.error({ err: e.message }, 'admin API server error'));

  // Kept from the moment of listening, so it still answers after close().
  const bound = server.address() as AddressInfo;
  const address = (): { host: string; port: number } => ({ host: bound.address, port: bound.port });
  const url = (): string => {
    const a = address();
    return a.host.includes(':') ? `http://[${a.host}]:${a.port}` : `http://${a.host}:${a.port}`;
  };
  log.info({ url: url() }, 'admin API listening');

  let closing: Promise<void> | null = null;
  return {
    address,
    url,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
