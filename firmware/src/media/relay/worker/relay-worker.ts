/**
 * A media worker thread: one MediaRelay on its own event loop, forwarding
 * the RTP of the legs opened on it, so packet forwarding never waits behind
 * SIP, timers or logging on the main thread (and several workers use
 * several cores). Started by ThreadedMediaRelay; see protocol.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SystemClock } from '../../../util/clock.js';
import { RtpPortPool } from '../../rtp/port-pool.js';
import { MediaRelay } from '../media-relay.js';
import type { FromWorker, MediaWorkerData, ToWorker } from './protocol.js';
import { RelayWorkerHost } from './worker-host.js';
import { postingLogger } from './posting-logger.js';

const port = parentPort;
if (!port) throw new Error('relay-worker.ts runs as a worker thread, started by ThreadedMediaRelay');
const data = workerData as MediaWorkerData;
const post = (m: FromWorker): void => port.postMessage(m);
const logger = postingLogger(post, data.logLevels, { worker: data.index });
const pool = new RtpPortPool({ min: data.portMin, max: data.portMax, logger, recvBufferSize: data.recvBufferSize });
const relay = new MediaRelay({
  clock: new SystemClock(),
  logger,
  pool,
  deadAfterMs: data.deadAfterMs,
  deadCheckIntervalMs: data.deadCheckIntervalMs,
  relatchAfterMs: data.relatchAfterMs,
});
const host = new RelayWorkerHost(relay, new Float64Array(data.counters), new Float64Array(data.snapshot), post);
port.on('message', (m: ToWorker) => host.handle(m));
post({ ev: 'ready' });
