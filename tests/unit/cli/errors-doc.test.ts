import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderErrorsDoc } from '../../../firmware/src/cli/errors-doc.js';
import { ERROR_CODES } from '../../../firmware/src/util/errors.js';
import { REPO_ROOT } from '../config/practice-fixture.js';

const committed = readFileSync(join(REPO_ROOT, 'docs/ERRORS.md'), 'utf8');

test('docs/ERRORS.md is generated from errors.ts', () => {
  if (committed !== renderErrorsDoc())
    assert.unreachable('docs/ERRORS.md is stale: run `node --import tsx firmware/src/cli/print-errors-doc.ts > docs/ERRORS.md`');
});

test('every code is documented once, with its meaning', () => {
  const documented = [...committed.matchAll(/^\| `(PGW_E_[A-Z_]+)` \| ([^|]+) \|/gm)];
  assert.equal(documented.map((m) => m[1]).sort(), Object.keys(ERROR_CODES).sort());
  for (const m of documented) assert.is(m[2]!.trim(), ERROR_CODES[m[1] as keyof typeof ERROR_CODES]);
});

test.run();
