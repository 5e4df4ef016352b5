import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { JsonDocument } from '../../../firmware/src/store/json-document.js';
import type { DocumentSpec } from '../../../firmware/src/store/json-document.js';
import type { Migration } from '../../../firmware/src/store/migrations.js';
import { checkMigrationChain } from '../../../firmware/src/store/migrations.js';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { createLogger } from '../../../firmware/src/util/logger.js';
import { isPgwError } from '../../../firmware/src/util/errors.js';

/**
 * A made-up document with a history: v0 was `{ name, tags: "a,b" }` with no
 * schemaVersion-bearing shape beyond the number, v1 split tags into an
 * array, v2 renamed name → title.
 */
interface NotesV2 {
  schemaVersion: number;
  title: string;
  tags: string[];
}

const migrations: Migration[] = [
  { from: 0, description: 'tags: comma string → array', up: (d) => ({ ...d, tags: String(d.tags ?? '').split(',').filter(Boolean) }) },
  {
    from: 1,
    description: 'name → title',
    up: ({ name, ...rest }) => {
      if (typeof name !== 'string') throw new Error('name missing');
      return { ...rest, title: name };
    },
  },
];

const spec: DocumentSpec<NotesV2> = {
  file: 'notes.json',
  schemaVersion: 2,
  migrations,
  initial: () => ({ schemaVersion: 2, title: '', tags: [] }),
  check: (d) => (typeof d.title === 'string' && Array.isArray(d.tags) ? undefined : 'not a notes document'),
};

let dir = '';
let lines: Array<Record<string, unknown>> = [];
const clock = new FakeClock(Date.UTC(2026, 0, 2, 3, 4, 5));
const logger = createLogger({
  level: 'info',
  destination: new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  }),
});

test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgw-doc-'));
  lines = [];
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

const open = () => JsonDocument.open({ dataDir: dir, spec, logger, clock });
const file = () => join(dir, 'notes.json');

test('a missing file gives the initial document and writes nothing until a change', async () => {
  const doc = await open();
  assert.equal(doc.data, { schemaVersion: 2, title: '', tags: [] });
  assert.not.ok(existsSync(file()));
  await doc.update((d) => {
    d.title = 'hello';
  });
  assert.equal(JSON.parse(readFileSync(file(), 'utf8')), { schemaVersion: 2, title: 'hello', tags: [] });
  assert.is(doc.recovery, null);
});

test('the data dir is created when missing', async () => {
  dir = join(dir, 'deeper', 'var');
  const doc = await open();
  await doc.update((d) => d.tags.push('x'));
  assert.ok(existsSync(file()));
});

test('a fake v0 document is migrated through v1 to v2, the original kept as .v0.bak', async () => {
  const v0 = { schemaVersion: 0, name: 'Riverside', tags: 'a,b' };
  writeFileSync(file(), JSON.stringify(v0));
  const doc = await open();
  assert.equal(doc.data, { schemaVersion: 2, title: 'Riverside', tags: ['a', 'b'] });
  assert.is(doc.migratedFrom, 0);
  assert.equal(JSON.parse(readFileSync(file(), 'utf8')), doc.data);
  assert.equal(JSON.parse(readFileSync(`${file()}.v0.bak`, 'utf8')), v0);
  assert.ok(lines.some((l) => l.msg === 'store file migrated' && l.from === 0 && l.to === 2 && l.component === 'store'));
});

test('a v1 document runs only the v1 → v2 migration', async () => {
  writeFileSync(file(), JSON.stringify({ schemaVersion: 1, name: 'N', tags: ['x'] }));
  const doc = await open();
  assert.equal(doc.data, { schemaVersion: 2, title: 'N', tags: ['x'] });
  assert.is(doc.migratedFrom, 1);
});

test('a current document is used as is, and not rewritten', async () => {
  const text = JSON.stringify({ schemaVersion: 2, title: 'T', tags: [] });
  writeFileSync(file(), text);
  const doc = await open();
  assert.is(doc.data.title, 'T');
  assert.is(doc.migratedFrom, null);
  assert.is(readFileSync(file(), 'utf8'), text);
});

test('a document from a newer schema is refused with PGW_E_STORE_SCHEMA and left alone', async () => {
  const text = JSON.stringify({ schemaVersion: 3, whatever: true });
  writeFileSync(file(), text);
  let err: unknown;
  await open().catch((e: unknown) => (err = e));
  assert.ok(isPgwError(err, 'PGW_E_STORE_SCHEMA'));
  if (isPgwError(err)) assert.equal({ found: err.context.found, supported: err.context.supported }, { found: 3, supported: 2 });
  assert.is(readFileSync(file(), 'utf8'), text);
});

for (const [what, content, reason] of [
  ['not JSON', '{"schemaVersion": 2, "title": ', /not JSON/],
  ['an empty file (a crash before the fsync-less days)', '', /not JSON/],
  ['a JSON array', '[1,2]', /not a JSON object/],
  ['no schemaVersion', '{"title":"x","tags":[]}', /schemaVersion/],
  ['a schemaVersion that is not an integer', '{"schemaVersion":"2"}', /schemaVersion/],
  ['a shape the check refuses', '{"schemaVersion":2,"title":5}', /not a notes document/],
  ['a failing migration', '{"schemaVersion":1,"tags":[]}', /migration from schema version 1 failed: name missing/],
] as const) {
  test(`${what}: moved aside, reported, initial document used`, async () => {
    writeFileSync(file(), content);
    const doc = await open();
    assert.equal(doc.data, spec.initial());
    assert.ok(doc.recovery);
    assert.match(doc.recovery!.reason, reason);
    const moved = `${file()}.corrupt-2026-01-02T03-04-05.000Z`;
    assert.is(doc.recovery!.movedTo, moved);
    assert.is(readFileSync(moved, 'utf8'), content);
    assert.not.ok(existsSync(file()));
    assert.ok(lines.some((l) => l.level === 'error' && l.movedTo === moved));
  });
}

test('temporary files from an interrupted write are cleaned on open', async () => {
  writeFileSync(join(dir, '.notes.json.999.1.tmp'), '{"schemaVersion":2,"tit');
  await open();
  assert.equal(readdirSync(dir), []);
});

test('a migration chain with a gap is refused', () => {
  assert.throws(() => checkMigrationChain([migrations[0]!], 2), /migrations must cover/);
  assert.throws(() => checkMigrationChain([migrations[1]!, { ...migrations[1]! }], 2), /migrations must cover/);
  checkMigrationChain(migrations, 2);
  checkMigrationChain([], 1);
});

test('a document older than the oldest migration is moved aside', async () => {
  const s: DocumentSpec<NotesV2> = { ...spec, migrations: [migrations[1]!] };
  writeFileSync(file(), JSON.stringify({ schemaVersion: 0, name: 'x', tags: '' }));
  const doc = await JsonDocument.open({ dataDir: dir, spec: s, logger, clock });
  assert.match(doc.recovery?.reason ?? '', /too old/);
});

test.run();
