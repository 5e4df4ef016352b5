/**
 * A minimal static file server for the OTA benchmarks, run in its own
 * process (as the update server is another machine for a real box), with
 * Range support. Prints its URL on stdout.
 *
 * It serves the file from memory (read once at start): on a real box the
 * server's CPU is someone else's, but here it shares this machine's two
 * cores with the agent being measured. Streaming the file from the page
 * cache (read() into a new buffer, then write()) cost about 0.55 ms of CPU
 * per MiB; writing slices of one buffer costs about 0.2, the closest Node
 * gets to a real server's sendfile(), which copies nothing in user space.
 *
 *   node --import tsx tests/bench/ota/serve-file.ts FILE
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const data = readFileSync(process.argv[2]!);
const size = data.length;
/** Bytes handed to the socket per write (node:http queues them; drain paces the rest). */
const STEP = 4 * 1024 * 1024;

const server = http.createServer((req, res) => {
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  let start = 0;
  let end = size - 1;
  if (m) {
    start = Number(m[1]);
    if (m[2]) end = Math.min(end, Number(m[2]));
    if (start >= size) {
      res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
  } else res.writeHead(200, { 'content-length': size });
  let at = start;
  const next = (): void => {
    while (at <= end) {
      const n = Math.min(STEP, end + 1 - at);
      const more = res.write(data.subarray(at, at + n));
      at += n;
      if (!more) {
        res.once('drain', next);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => {
    at = end + 1;
  });
  next();
});
server.listen(0, '127.0.0.1', () => {
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}/bundle`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
