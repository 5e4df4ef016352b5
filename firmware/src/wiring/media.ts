/**
 * The gateway's media anchor, as `device.media` asks: RTP forwarded by
 * worker threads (the default on a box with more than one core), or on the
 * main thread (`workers: 0`, and what the unit tests use with a fake clock);
 * steady pass-through calls between LAN phones handed to the kernel fast
 * path when `kernelForwarding` allows and nft can be used (media/offload).
 */
import type { Device } from '../config/device-schema.js';
import type { Practice } from '../config/practice-schema.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { MediaRelay } from '../media/relay/media-relay.js';
import type { MediaAnchor } from '../media/relay/relay-api.js';
import { defaultMediaWorkers, ThreadedMediaRelay } from '../media/relay/threaded-relay.js';
import { RtpPortPool } from '../media/rtp/port-pool.js';
import { KernelOffload } from '../media/offload/kernel-offload.js';
import { spawnNft } from '../media/offload/nft-exec.js';
import type { NftExec } from '../media/offload/nft-exec.js';
import { hostLinks } from '../media/offload/host-links.js';

export const DEFAULT_RTP_PORT_MIN = 16384;
export const DEFAULT_RTP_PORT_MAX = 32767;

export function mediaWorkerCount(device: Device): number {
  const w = device.media.workers;
  return w === 'auto' ? defaultMediaWorkers() : w;
}

export interface GatewayMedia {
  anchor: MediaAnchor;
  /** Media worker threads (0: forwarding on the main thread). */
  workers: number;
  /** True when the kernel fast path is installed. */
  kernelForwarding: boolean;
  /** Closes every leg, then takes the fast path's table away. */
  close(): Promise<void>;
}

/** Installs the fast path's nft table; false (and why, in the log) when it cannot be used. */
async function installKernelForwarding(device: Device, exec: NftExec, parent: Logger): Promise<boolean> {
  if (device.media.kernelForwarding === 'off') return false;
  const logger = parent.child({ component: 'media' });
  try {
    await KernelOffload.install(exec);
    logger.info('kernel fast path ready: steady calls between LAN phones are forwarded by nftables');
    return true;
  } catch (e) {
    logger.info({ err: e instanceof Error ? e.message : String(e) }, 'kernel fast path unavailable (needs nft and root): every packet is relayed in user space');
    return false;
  }
}

export async function startGatewayMedia(o: { device: Device; practice: Practice | null; clock: Clock; logger: Logger; nft?: NftExec }): Promise<GatewayMedia> {
  const portMin = o.practice?.sip.rtp.portMin ?? DEFAULT_RTP_PORT_MIN;
  const portMax = o.practice?.sip.rtp.portMax ?? DEFAULT_RTP_PORT_MAX;
  const deadAfterMs = (o.practice?.calls.deadMediaSeconds ?? 30) * 1000;
  const workers = mediaWorkerCount(o.device);
  const exec = o.nft ?? spawnNft();
  const kernelForwarding = await installKernelForwarding(o.device, exec, o.logger);
  const uninstall = async (): Promise<void> => {
    if (kernelForwarding) await KernelOffload.uninstall(exec).catch((e: unknown) => o.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'could not remove the kernel fast path table'));
  };
  let anchor: MediaAnchor;
  if (workers === 0) {
    const pool = new RtpPortPool({ min: portMin, max: portMax, logger: o.logger });
    const offload = kernelForwarding ? new KernelOffload({ exec, links: hostLinks({ now: () => o.clock.monotonic() }), logger: o.logger.child({ component: 'media' }), portMin, portMax }) : null;
    anchor = new MediaRelay({ clock: o.clock, logger: o.logger, pool, deadAfterMs, offload });
  } else {
    const relay = new ThreadedMediaRelay({ logger: o.logger, workers, portMin, portMax, deadAfterMs, kernelForwarding });
    try {
      await relay.start();
    } catch (e) {
      await relay.close();
      await uninstall();
      throw e;
    }
    anchor = relay;
  }
  return {
    anchor,
    workers,
    kernelForwarding,
    close: async () => {
      await anchor.close();
      await uninstall();
    },
  };
}
