/**
 * The hardware views of the admin API (issue 5): `GET /api/v1/hardware` and
 * `GET /api/v1/ports` serve what the provider gives, and are 404 when it has none.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createAdminServer } from '../../../firmware/src/admin/server.js';
import type { GatewayStatus, StatusProvider } from '../../../firmware/src/admin/status-provider.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';

const STATUS: GatewayStatus = { mode: 'normal', configVersion: 1, uplinks: [], registrations: 0, activeCalls: 0, firmware: { version: '1.0.0', slot: 'a' } };
const base: StatusProvider = { status: () => STATUS, registrations: () => [], calls: () => [] };

async function get(provider: StatusProvider, path: string): Promise<{ status: number; body: unknown }> {
  const server = await createAdminServer({ listen: '127.0.0.1:0', status: provider, logger: silentLogger() });
  try {
    const res = await fetch(`${server.url()}${path}`);
    return { status: res.status, body: await res.json() };
  } finally {
    await server.close();
  }
}

test('hardware and ports are served from the provider', async () => {
  const view = { board: 'dev-sim', health: null, alarms: [], modem: { up: true, reason: 'ok' }, watchdog: null, panel: { page: 'mode', state: 'paging' }, poe: true };
  const ports = [{ port: 1, enabled: true, link: 'up', power: 'on', powerClass: 2, drawMw: 4200, mac: '00:15:65:00:02:01', extension: '201' }];
  const provider: StatusProvider = { ...base, hardware: async () => view, ports: () => ports };
  const h = await get(provider, '/api/v1/hardware');
  assert.is(h.status, 200);
  assert.equal(h.body, view);
  const p = await get(provider, '/api/v1/ports');
  assert.is(p.status, 200);
  assert.equal(p.body, { ports });
});

test('404 without hardware, or without a PoE controller', async () => {
  assert.is((await get(base, '/api/v1/hardware')).status, 404);
  assert.is((await get(base, '/api/v1/ports')).status, 404);
  const noPoe = await get({ ...base, hardware: () => ({ board: 'generic' }), ports: () => null }, '/api/v1/ports');
  assert.is(noPoe.status, 404);
  assert.is((noPoe.body as { error: { code: string } }).error.code, 'not_found');
});

test.run();
