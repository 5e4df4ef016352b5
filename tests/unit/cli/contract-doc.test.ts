import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../../firmware/src/cli/commands.js';
import { ADMIN_ROUTES } from '../../../firmware/src/admin/server.js';
import { LOG_LEVELS, DEFAULT_API } from '../../../firmware/src/cli/commands.js';
import { STOP_DEADLINE_MS, DEFAULT_DATA_DIR } from '../../../firmware/src/cli/cmd-run.js';
import { EXIT } from '../../../firmware/src/cli/exit-codes.js';
import { REPO_ROOT } from '../config/practice-fixture.js';

const ours = readFileSync(join(REPO_ROOT, 'docs/CONTRACT.md'), 'utf8');
const sharedPath = join(REPO_ROOT, '../shared/CONTRACT.md');

test('every command of the CLI is in docs/CONTRACT.md with its synopsis', () => {
  for (const c of COMMANDS) assert.ok(ours.includes(`\`${c.synopsis}\``), c.synopsis);
});

test('every admin API route is in docs/CONTRACT.md', () => {
  for (const r of ADMIN_ROUTES) assert.ok(ours.includes(`\`${r.method} ${r.path}\``), `${r.method} ${r.path}`);
});

test('the constants the doc states are the code', () => {
  assert.ok(ours.includes(`default \`${DEFAULT_DATA_DIR}\``));
  assert.ok(ours.includes(`else \`${DEFAULT_API}\``));
  assert.ok(ours.includes(`within ${STOP_DEADLINE_MS / 1000} s`));
  assert.ok(ours.includes(LOG_LEVELS.map((l) => `\`${l}\``).join(', ').replace('`info`', '`info` (default)')));
  assert.ok(ours.includes(`${EXIT.FAILURE} the gateway failed`));
  assert.ok(ours.includes(`${EXIT.API} the admin API could not be reached`));
});

test('nothing of the shared contract is lost: every term it quotes is in ours', () => {
  if (!existsSync(sharedPath)) return;
  const shared = readFileSync(sharedPath, 'utf8');
  const terms = [...shared.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  assert.ok(terms.length > 40);
  const missing = terms.filter((t) => !ours.includes(t));
  assert.equal(missing, []);
  // The status example and the SIP section verbatim.
  const example = /```json\n([^`]+)```/.exec(shared)?.[1];
  assert.ok(example && ours.includes(example));
});

test.run();
