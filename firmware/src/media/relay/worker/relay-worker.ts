/**
 * A media worker thread: one MediaRelay on its own event loop, forwarding
 * the RTP of the legs opened on it, so packet forwarding never waits behind
 * SIP, timers or logging on the main thread (and several workers use
 * several cores). Started by ThreadedMediaRelay; see protocol.ts.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { SystemClock } from '../../../util/clock.js';
import { RtpPortPool } from '../../rtp/port-pool.js';
import { MediaRelay } from '../media-relay.js';
import type { FromWorker, MediaWorkerData, ToWorker } from './protocol.js';
import { RelayWorkerHost } from './worker-host.js';
import { KernelOffload } from '../../offload/kernel-offload.js';
import { spawnNft } from '../../offload/nft-exec.js';
import { hostLinks } from '../../offload/host-links.js';
import { postingLogger } from './posting-logger.js';

const port = parentPort;
if (!port) throw new Error('relay-worker.ts runs as a worker thread, started by ThreadedMediaRelay');
const data = workerData as MediaWorkerData;
const post = (m: FromWorker): void => port.postMessage(m);
const logger = postingLogger(post, data.logLevels, { worker: data.index });
const pool = new RtpPortPool({ min: data.portMin, max: data.portMax, logger, recvBufferSize: data.recvBufferSize });
const clock = new SystemClock();
const offload = data.kernel
  ? new KernelOffload({ exec: spawnNft(), links: hostLinks({ now: () => clock.monotonic() }), logger, portMin: data.kernel.portMin, portMax: data.kernel.portMax })
  : null;
const relay = new MediaRelay({
  clock,
  offload,
  logger,
  pool,
  deadAfterMs: data.deadAfterMs,
  deadCheckIntervalMs: data.deadCheckIntervalMs,
  relatchAfterMs: data.relatchAfterMs,
});
raiseThreadPriority();
const host = new RelayWorkerHost(relay, new Float64Array(data.counters), new Float64Array(data.snapshot), post);
port.on('message', (m: ToWorker) => host.handle(m));
post({ ev: 'ready' });

/**
 * Audio forwarding is real-time work: on a busy box (a call storm, an update
 * being verified) the media thread should run before housekeeping, as PBX
 * media threads do. Linux gives each thread its own nice value; this thread
 * finds its id in /proc/thread-self and lowers its nice to MEDIA_NICE, which
 * needs CAP_SYS_NICE (pgw.service runs as root). Without it the thread runs
 * at the process's priority and says so once.
 */
function raiseThreadPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) throw new Error('no thread id in /proc/thread-self');
    setPriority(tid, data.nice);
    logger.debug({ tid, nice: data.nice }, 'media worker priority raised');
  } catch (e) {
    logger.warn({ err: e instanceof Error ? e.message : String(e), nice: data.nice }, 'media worker runs at normal priority (cannot raise it)');
  }
}
