/**
 * The gateway's media anchor, as `device.media` asks: RTP forwarded by
 * worker threads (the default on a box with more than one core), or on the
 * main thread (`workers: 0`, and what the unit tests use with a fake clock).
 */
import type { Device } from '../config/device-schema.js';
import type { Practice } from '../config/practice-schema.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { MediaRelay } from '../media/relay/media-relay.js';
import type { MediaAnchor } from '../media/relay/relay-api.js';
import { defaultMediaWorkers, ThreadedMediaRelay } from '../media/relay/threaded-relay.js';
import { RtpPortPool } from '../media/rtp/port-pool.js';

export const DEFAULT_RTP_PORT_MIN = 16384;
export const DEFAULT_RTP_PORT_MAX = 32767;

export function mediaWorkerCount(device: Device): number {
  const w = device.media.workers;
  return w === 'auto' ? defaultMediaWorkers() : w;
}

export async function startGatewayMedia(o: { device: Device; practice: Practice | null; clock: Clock; logger: Logger }): Promise<MediaAnchor> {
  const portMin = o.practice?.sip.rtp.portMin ?? DEFAULT_RTP_PORT_MIN;
  const portMax = o.practice?.sip.rtp.portMax ?? DEFAULT_RTP_PORT_MAX;
  const deadAfterMs = (o.practice?.calls.deadMediaSeconds ?? 30) * 1000;
  const workers = mediaWorkerCount(o.device);
  if (workers === 0) {
    const pool = new RtpPortPool({ min: portMin, max: portMax, logger: o.logger });
    return new MediaRelay({ clock: o.clock, logger: o.logger, pool, deadAfterMs });
  }
  const relay = new ThreadedMediaRelay({ logger: o.logger, workers, portMin, portMax, deadAfterMs });
  try {
    await relay.start();
  } catch (e) {
    await relay.close();
    throw e;
  }
  return relay;
}
