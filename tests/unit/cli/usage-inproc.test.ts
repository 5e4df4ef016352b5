import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../config/practice-fixture.js';
import { runCli } from '../../../firmware/src/cli/run-cli.js';
import { firmwareVersion } from '../../../firmware/src/cli/version.js';
import { fakeContext } from './fake-context.js';

test('an unknown global flag is a usage error', async () => {
  const ctx = fakeContext();
  assert.is(await runCli(['--frob'], ctx), 2);
  assert.match(ctx.stderr, /unknown option --frob/);
});

test('COMMAND --help prints that command', async () => {
  const ctx = fakeContext();
  assert.is(await runCli(['status', '--help'], ctx), 0);
  assert.is(ctx.stdout, 'Usage: pgw status [--api URL] [--json]\n  ask a running gateway for its status\n');
});

test('config-schema prints docs/config.schema.json and takes no arguments', async () => {
  const ctx = fakeContext();
  assert.is(await runCli(['config-schema'], ctx), 0);
  assert.is(ctx.stdout, readFileSync(join(REPO_ROOT, 'docs/config.schema.json'), 'utf8'));
  assert.is(await runCli(['config-schema', 'x'], fakeContext()), 2);
});

test('no command: the usage on stderr, exit 2', async () => {
  const ctx = fakeContext();
  assert.is(await runCli([], ctx), 2);
  assert.match(ctx.stderr, /^pgw: the practice gateway\n\nUsage:/);
  assert.is(ctx.stdout, '');
});

test('the version comes from package.json, with a fallback when there is none', () => {
  assert.is(firmwareVersion('file:///nonexistent/dir/x.js'), '0.0.0-unknown');
  assert.match(firmwareVersion(), /^\d+\.\d+\.\d+/);
});

test.run();
