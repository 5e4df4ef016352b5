import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../config/practice-fixture.js';
import { COMMANDS } from '../../../firmware/src/cli/commands.js';
import { pgw } from './cli-process.js';

test('--help: exit 0, every command on stdout', async () => {
  const r = await pgw(['--help']);
  assert.is(r.code, 0);
  for (const c of COMMANDS) assert.ok(r.stdout.includes(c.synopsis), c.name);
  assert.match(r.stdout, /Exit codes: 0 success, 1 invalid input, 2 usage error/);
});

test('--version: the package version', async () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const r = await pgw(['--version']);
  assert.is(r.code, 0);
  assert.is(r.stdout, `pgw ${pkg.version}\n`);
});

test('an unknown command, or none: exit 2 with the usage on stderr', async () => {
  const r = await pgw(['frobnicate']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /^pgw: unknown command frobnicate\n[^]*Usage:/);
  assert.is(r.stdout, '');
});

test.run();
