/**
 * Fetches only the bundle head (128-byte header + manifest) with a Range
 * request (RFC 9110 §14.2), so the signature and every precondition are
 * checked before the image is downloaded. A server that ignores Range
 * answers 200 with the whole file; the head is read from its first bytes
 * and the rest is not downloaded (the request is destroyed).
 */
import type { IncomingMessage } from 'node:http';
import { PgwError } from '../../firmware/src/util/errors.js';
import { HEADER_SIZE, MAX_MANIFEST_LENGTH } from '../bundle/format.js';
import { parseHead } from '../bundle/read.js';
import type { BundleHead } from '../bundle/read.js';
import { httpGet } from './http-get.js';
import type { GetOptions } from './http-get.js';

export async function fetchBundleHead(
  url: string,
  options: GetOptions & { onResponse?: (res: IncomingMessage) => void } = {},
): Promise<BundleHead> {
  const res = await httpGet(url, { ...options, headers: { range: `bytes=0-${HEADER_SIZE + MAX_MANIFEST_LENGTH - 1}` } });
  options.onResponse?.(res);
  const status = res.statusCode ?? 0;
  if (status !== 200 && status !== 206) {
    res.resume();
    throw new PgwError('PGW_E_OTA_DOWNLOAD', `GET ${url} answered ${status}`, { context: { status } });
  }
  const chunks: Buffer[] = [];
  let have = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      have += chunk.length;
      const head = parseHead(Buffer.concat(chunks, have));
      if (!('need' in head)) return head;
      if (have >= HEADER_SIZE + MAX_MANIFEST_LENGTH) break;
    }
  } finally {
    res.destroy();
  }
  const r = parseHead(Buffer.concat(chunks, have));
  if (!('need' in r)) return r;
  throw new PgwError('PGW_E_OTA_BUNDLE', `the bundle at ${url} ends after ${have} bytes, inside its head (${r.need} needed)`);
}
