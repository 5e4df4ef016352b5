import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_PATH, minimalPractice } from '../config/practice-fixture.js';
import { pgw } from './cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'pgw-cli-check-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: unknown): string {
  const f = join(dir, name);
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}

test('the shared example: exit 0 and a summary', async () => {
  const r = await pgw(['check-config', EXAMPLE_PATH]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /valid gateway file \(device pgw-0001; practice version 1: 7 extensions, 2 hunt groups, 2 uplinks\)/);
  assert.is(r.stderr, '');
});

test('an invalid file: exit 1, `path: message` lines on stdout, a summary on stderr', async () => {
  const practice = minimalPractice();
  practice.extensions[1].number = '201';
  practice.huntGroups = [{ number: '600', name: 'R', members: ['201', '301', '209'] }];
  const f = write('invalid.json', { device: { id: 'pgw-1', admin: { listen: 'nowhere' } }, practice });
  const r = await pgw(['check-config', f]);
  assert.is(r.code, 1);
  // The structural error (admin.listen) is found first; fix it to see the cross-field ones.
  assert.is(r.stdout, 'device.admin.listen: must be host:port with port 0-65535, e.g. 127.0.0.1:8080 or [::1]:8080\n');
  assert.match(r.stderr, /is not a valid gateway file \(1 problem\)/);
});

test('a missing file: exit 1 with a clear message', async () => {
  const r = await pgw(['check-config', join(dir, 'absent.json')]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /cannot read .*absent\.json: no such file/);
});

test('not JSON: exit 1 with the line and column', async () => {
  const r = await pgw(['check-config', write('broken.json', '{\n  "device": { "id": "x" },\n}\n')]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /broken\.json is not JSON: .* at line 3 column 1/);
});

test.run();
