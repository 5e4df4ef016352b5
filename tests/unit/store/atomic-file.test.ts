import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtomicJsonFile, removeStaleTemps, writeFileAtomic } from '../../../firmware/src/store/atomic-file.js';

const dir = mkdtempSync(join(tmpdir(), 'pgw-atomic-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('writes the content, mode 0600, and leaves no temporary file', async () => {
  const f = join(dir, 'a.json');
  await writeFileAtomic(f, 'hello');
  assert.is(readFileSync(f, 'utf8'), 'hello');
  assert.is(statSync(f).mode & 0o777, 0o600);
  assert.equal(readdirSync(dir).filter((n) => n.includes('.tmp')), []);
});

test('replaces an existing file whole', async () => {
  const f = join(dir, 'b.json');
  writeFileSync(f, 'x'.repeat(10000));
  await writeFileAtomic(f, 'short');
  assert.is(readFileSync(f, 'utf8'), 'short');
});

test('a failed write leaves the old file and no temporary file', async () => {
  const f = join(dir, 'c.json');
  writeFileSync(f, 'old');
  // Renaming a file over a directory fails (EISDIR): the old content must survive.
  const target = join(dir, 'c-dir');
  mkdirSync(target);
  writeFileSync(join(target, 'keep'), 'k');
  let failed = false;
  await writeFileAtomic(target, 'new').catch(() => (failed = true));
  assert.ok(failed);
  assert.is(readFileSync(f, 'utf8'), 'old');
  assert.equal(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
});

test('queued writes land in order and a reader never sees a torn file', async () => {
  const f = join(dir, 'd.json');
  const file = new AtomicJsonFile<{ n: number; pad: string }>(f);
  const pad = 'p'.repeat(50_000);
  await file.write({ n: -1, pad });
  let done = false;
  const writes = Promise.all(Array.from({ length: 30 }, (_, n) => file.write({ n, pad }))).then(() => (done = true));
  const seen = new Set<number>();
  while (!done) {
    // Every read while writes are in flight must parse: an old document or a new one, whole.
    const doc = JSON.parse(readFileSync(f, 'utf8')) as { n: number; pad: string };
    assert.is(doc.pad.length, 50_000);
    seen.add(doc.n);
    await new Promise((r) => setImmediate(r));
  }
  await writes;
  await file.flush();
  assert.ok(seen.size > 1, `reads saw ${seen.size} versions`);
  assert.is((await file.read())?.n, 29);
});

test('a failed write rejects its caller but not the writes after it', async () => {
  const sub = join(dir, 'gone');
  const file = new AtomicJsonFile<{ n: number }>(join(sub, 'e.json'));
  let err: unknown;
  await file.write({ n: 1 }).catch((e: unknown) => (err = e));
  assert.ok(err instanceof Error);
  mkdirSync(sub);
  await file.write({ n: 2 });
  assert.equal(await file.read(), { n: 2 });
});

test('read returns null for a missing file', async () => {
  assert.is(await new AtomicJsonFile(join(dir, 'none.json')).read(), null);
});

test('stale temporary files of one document are removed, others kept', async () => {
  const f = join(dir, 'f.json');
  writeFileSync(join(dir, '.f.json.123.1.tmp'), 'partial');
  writeFileSync(join(dir, '.other.json.1.1.tmp'), 'partial');
  const removed = await removeStaleTemps(f);
  assert.equal(removed, ['.f.json.123.1.tmp']);
  assert.ok(readdirSync(dir).includes('.other.json.1.1.tmp'));
});

test.run();
