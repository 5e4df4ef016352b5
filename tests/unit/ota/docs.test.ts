/** docs/OTA.md against the code: the transition table and the reason codes. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { OTA_STATES, OTA_TRANSITIONS } from '../../../ota/agent/states.js';
import { REFUSAL_CODES } from '../../../ota/agent/preconditions.js';

const doc = readFileSync(new URL('../../../docs/OTA.md', import.meta.url), 'utf8');

function section(title: string): string {
  const start = doc.indexOf(`### ${title}`);
  assert.ok(start >= 0, `section ${title}`);
  const end = doc.indexOf('\n#', start + 4);
  return doc.slice(start, end < 0 ? undefined : end);
}

function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| ---'))
    .slice(1)
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}

test('the documented transition table is exactly the code’s', () => {
  const documented = tableRows(section('Transition table')).map(([f, e, t]) => `${f} --${e}--> ${t}`).sort();
  const code: string[] = [];
  for (const s of OTA_STATES) for (const [e, t] of Object.entries(OTA_TRANSITIONS[s])) code.push(`${s} --${e}--> ${t}`);
  assert.equal(documented, code.sort());
});

test('every refusal code and every reason code the agent uses is documented', () => {
  const documented = new Set(tableRows(section('Reason codes')).map((r) => r[0]!));
  for (const c of REFUSAL_CODES) assert.ok(documented.has(c), c);
  const agentSrc = readFileSync(new URL('../../../ota/agent/agent.ts', import.meta.url), 'utf8');
  for (const m of agentSrc.matchAll(/code: '([a-z-]+)'/g)) assert.ok(documented.has(m[1]!), m[1]);
  for (const m of agentSrc.matchAll(/refuse\('([a-z-]+)'/g)) assert.ok(documented.has(m[1]!), m[1]);
});

test.run();
