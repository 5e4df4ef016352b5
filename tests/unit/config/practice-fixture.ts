/** Small valid documents the config tests start from and break on purpose. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const EXAMPLE_PATH = join(REPO_ROOT, '../shared/examples/gateway.json');

export function readExample(): Record<string, unknown> {
  return JSON.parse(readFileSync(EXAMPLE_PATH, 'utf8')) as Record<string, unknown>;
}

// The JSON-shaped practice tests mutate freely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** The smallest practice the contract allows: version, site, sip, extensions. */
export function minimalPractice(): Json {
  return {
    version: 3,
    site: { name: 'Test Surgery' },
    sip: {},
    extensions: [
      { number: '201', name: 'Reception 1', password: 'pw-201-abcdef' },
      { number: '202', name: 'Reception 2', password: 'pw-202-abcdef' },
      { number: '301', name: 'Dr A', password: 'pw-301-abcdef' },
    ],
  };
}

/** A practice using every optional section. */
export function fullPractice(): Json {
  const p = minimalPractice();
  p.huntGroups = [{ number: '600', name: 'Reception', members: ['201', '202'] }];
  p.uplinks = {
    cloud: { proxy: 'sip:sbc.example.net;transport=tcp' },
    trunks: [{ name: 'backup', registrar: 'sip:sip.trunk.example', username: 'u', password: 'trunk-pw' }],
  };
  p.inbound = [{ did: '+441632960000', destination: '600' }];
  return p;
}
