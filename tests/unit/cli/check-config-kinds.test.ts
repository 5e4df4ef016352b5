import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../firmware/src/cli/run-cli.js';
import { minimalPractice } from '../config/practice-fixture.js';
import { fakeContext } from './fake-context.js';

const dir = mkdtempSync(join(tmpdir(), 'pgw-cli-kinds-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: unknown): string {
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify(content));
  return f;
}

test('a practice document on its own', async () => {
  const ctx = fakeContext();
  assert.is(await runCli(['check-config', write('p.json', minimalPractice())], ctx), 0);
  assert.match(ctx.stdout, /valid practice document \(practice version 3: 3 extensions, 0 hunt groups, 0 uplinks\)/);
});

test('an MQTT config/desired payload, practice version taken from it', async () => {
  const practice = minimalPractice();
  delete practice.version;
  const ctx = fakeContext();
  assert.is(await runCli(['check-config', write('d.json', { version: 12, practice })], ctx), 0);
  assert.match(ctx.stdout, /valid config\/desired payload \(practice version 12/);
});

test('an invalid practice document: paths start with practice.', async () => {
  const p = minimalPractice();
  p.sip.rtp = { portMin: 10001 };
  const ctx = fakeContext();
  assert.is(await runCli(['check-config', write('bad.json', p)], ctx), 1);
  assert.is(ctx.stdout, 'practice.sip.rtp.portMin: must be even (RTP on even ports, RFC 3550 §11)\n');
  assert.match(ctx.stderr, /not a valid practice document \(1 problem\)/);
});

test('a gateway file without a practice is valid', async () => {
  const ctx = fakeContext();
  assert.is(await runCli(['check-config', write('g.json', { device: { id: 'box' } })], ctx), 0);
  assert.match(ctx.stdout, /valid gateway file \(device box; no practice\)/);
});

test('no file or two files → usage error', async () => {
  for (const args of [['check-config'], ['check-config', 'a', 'b']]) {
    const ctx = fakeContext();
    assert.is(await runCli(args, ctx), 2);
    assert.match(ctx.stderr, /check-config takes exactly one FILE[^]*Usage:/);
  }
});

test('cross-field problems: one `path: message` line each, in order', async () => {
  const practice = minimalPractice();
  practice.extensions[1].number = '201';
  practice.huntGroups = [{ number: '600', name: 'R', members: ['201', '301', '209'] }];
  const ctx = fakeContext();
  assert.is(await runCli(['check-config', write('g2.json', { device: { id: 'pgw-1' }, practice })], ctx), 1);
  assert.equal(ctx.stdout.trimEnd().split('\n'), [
    'practice.extensions[1].number: 201 is already used by extensions[0]',
    'practice.huntGroups[0].members[2]: no extension 209',
  ]);
  assert.match(ctx.stderr, /\(2 problems\)/);
});

test('an unknown flag → exit 2 with usage', async () => {
  const ctx = fakeContext();
  assert.is(await runCli(['check-config', '--strict', 'x.json'], ctx), 2);
  assert.match(ctx.stderr, /^pgw check-config: Unknown option '--strict'[^]*Usage:/);
});

test.run();
