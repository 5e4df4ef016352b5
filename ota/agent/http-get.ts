/**
 * A streaming HTTP(S) GET with redirects, for the bundle download. node:http
 * rather than fetch: the body is consumed as a Readable with backpressure,
 * and a Range request on a server that ignores Range is seen as such (a
 * 200) instead of being buffered.
 */
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { PgwError } from '../../firmware/src/util/errors.js';

export interface GetOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Extra CA certificates (PEM) for https, e.g. a private update server. */
  ca?: string | Buffer;
  maxRedirects?: number;
}

export function httpGet(url: string, options: GetOptions = {}): Promise<IncomingMessage> {
  return getOnce(url, options, options.maxRedirects ?? 5);
}

function getOnce(url: string, options: GetOptions, redirectsLeft: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new PgwError('PGW_E_OTA_DOWNLOAD', `bad URL ${url}`));
      return;
    }
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : undefined;
    if (!mod) {
      reject(new PgwError('PGW_E_OTA_DOWNLOAD', `unsupported URL scheme ${u.protocol}`));
      return;
    }
    const req = mod.get(
      u,
      {
        headers: { 'user-agent': 'pgw-ota-agent', 'accept-encoding': 'identity', ...options.headers },
        signal: options.signal,
        ...(u.protocol === 'https:' && options.ca ? { ca: options.ca } : {}),
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
          res.resume();
          if (redirectsLeft <= 0) {
            reject(new PgwError('PGW_E_OTA_DOWNLOAD', `too many redirects from ${url}`));
            return;
          }
          getOnce(new URL(res.headers.location, u).toString(), options, redirectsLeft - 1).then(resolve, reject);
          return;
        }
        resolve(res);
      },
    );
    req.on('error', (e) => reject(e));
  });
}

/** Parses `Content-Range: bytes START-END/TOTAL` (RFC 9110 §14.4); TOTAL may be `*` (undefined). */
export function parseContentRange(h: string | undefined): { start: number; end: number; total: number | undefined } | undefined {
  if (!h) return undefined;
  const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(h.trim());
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}
