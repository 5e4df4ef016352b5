/**
 * startGatewayMedia and the kernel fast path's table: installed at start when
 * nft works and the device allows it, left alone when it says off, and the
 * gateway runs in user space (and says why) when nft cannot be used.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { createLogger } from '../../../firmware/src/util/logger.js';
import { validateGatewayFile } from '../../../firmware/src/config/index.js';
import { startGatewayMedia } from '../../../firmware/src/wiring/media.js';
import type { Device } from '../../../firmware/src/config/device-schema.js';

function device(kernelForwarding?: 'auto' | 'off'): Device {
  const r = validateGatewayFile({ device: { id: 'box-1', media: { workers: 0, ...(kernelForwarding ? { kernelForwarding } : {}) } } });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value.device;
}

function capture(): { logger: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('auto: the table is installed at start and dropped at close', async () => {
  const scripts: string[] = [];
  const { logger } = capture();
  const media = await startGatewayMedia({ device: device(), practice: null, clock: new FakeClock(), logger, nft: (s) => (scripts.push(s), Promise.resolve('')) });
  assert.is(media.kernelForwarding, true);
  assert.is(media.workers, 0);
  assert.match(scripts[0]!, /add table netdev pgw_media\ndelete table netdev pgw_media\nadd table netdev pgw_media/);
  await media.close();
  assert.match(scripts.at(-1)!, /delete table netdev pgw_media/);
});

test('off: nft is never run', async () => {
  const scripts: string[] = [];
  const media = await startGatewayMedia({ device: device('off'), practice: null, clock: new FakeClock(), logger: capture().logger, nft: (s) => (scripts.push(s), Promise.resolve('')) });
  assert.is(media.kernelForwarding, false);
  await media.close();
  assert.equal(scripts, []);
});

test('nft missing or refused: user space only, and the log says why', async () => {
  const { logger, lines } = capture();
  const media = await startGatewayMedia({ device: device(), practice: null, clock: new FakeClock(), logger, nft: () => Promise.reject(new Error('cannot run nft: spawn nft ENOENT')) });
  assert.is(media.kernelForwarding, false);
  const line = lines().find((l) => typeof l.msg === 'string' && l.msg.startsWith('kernel fast path unavailable'));
  assert.ok(line, 'logged');
  assert.match(String(line.err), /ENOENT/);
  await media.close();
});

test.run();
