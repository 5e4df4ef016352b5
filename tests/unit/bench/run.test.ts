/**
 * The `make bench` runner's document handling: the hand-written intro of
 * docs/BENCHMARKS.md survives every run, a run replaces only the sections of
 * the benchmarks it ran, and the summary is rebuilt from every section.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  GENERATED_MARKER,
  leadingDocComment,
  parseBenchLine,
  parseDoc,
  renderDoc,
  renderSection,
  type MachineInfo,
  type RunRecord,
} from '../../bench/run.js';

const machine: MachineInfo = {
  cpus: 2,
  cpuModel: 'Test CPU',
  memoryGiB: 8,
  freeMemoryGiB: 4,
  loadAverage: [3.5, 2, 1],
  kernel: '6.1.0',
  node: 'v20.0.0',
};

function record(name: string, value: number, over: Partial<RunRecord> = {}): RunRecord {
  return {
    name,
    title: `Title of ${name}`,
    kind: 'bench',
    file: `tests/bench/${name}.bench.ts`,
    issue: 2,
    startedAt: '2026-01-02T03:04:05.000Z',
    seconds: 12,
    machine,
    revision: 'abc1234',
    ok: true,
    result: {
      figures: [{ label: 'things per second', value, unit: '/s', target: '>= 100', met: value >= 100 }],
      method: ['Measured like so.'],
      tables: [{ columns: ['a', 'b'], rows: [[1, 'x|y']] }],
      notes: ['A note.'],
    },
    ...over,
  };
}

const INTRO = '# Benchmarks\n\nHand-written words that must survive.\n';

test('a missing document gets the default intro and no sections', () => {
  const d = parseDoc(undefined);
  assert.match(d.intro, /^# Benchmarks/);
  assert.is(d.sections.size, 0);
  assert.match(renderDoc(d), /No benchmark has been run yet/);
});

test('the intro is kept byte for byte and a section round-trips with its figures', () => {
  const d = parseDoc(INTRO);
  d.sections.set('alpha', renderSection(record('alpha', 150)));
  const text = renderDoc(d);
  assert.ok(text.startsWith(INTRO), 'intro first, unchanged');
  assert.ok(text.includes(GENERATED_MARKER));
  assert.match(text, /\| 2 \| alpha \| things per second \| 150 \/s \| >= 100 \(met\) \| 2026-01-02 \|/);
  assert.match(text, /x\\\|y/, 'a pipe in a cell is escaped');
  assert.match(text, /other work was running/, 'a load average above the CPU count is called out');

  const again = parseDoc(text);
  assert.is(again.intro, INTRO);
  assert.equal([...again.sections.keys()], ['alpha']);
  assert.is(again.sections.get('alpha')!.meta.figures[0]!.value, 150);
  assert.is(renderDoc(again), text, 'parse then render changes nothing');
});

test('running one benchmark replaces its section and keeps the others', () => {
  const d = parseDoc(INTRO);
  d.sections.set('alpha', renderSection(record('alpha', 150)));
  d.sections.set('beta', renderSection(record('beta', 50)));
  const first = renderDoc(d);
  const next = parseDoc(first);
  next.sections.set('beta', renderSection(record('beta', 120)));
  const text = renderDoc(next);
  assert.match(text, /beta \| things per second \| 120 \/s \| >= 100 \(met\)/);
  assert.not.match(text, /beta \| things per second \| 50 \/s/);
  assert.match(text, /alpha \| things per second \| 150 \/s/);
  assert.is(text.split('<!-- /bench:beta -->').length, 2, 'one beta section');
});

test('a failed run says so in its section and in the summary', () => {
  const d = parseDoc(INTRO);
  d.sections.set('gamma', renderSection(record('gamma', 0, { ok: false, error: 'timed out after 60 s\nstack', result: undefined })));
  const text = renderDoc(d);
  assert.match(text, /\*\*This run failed\*\*: timed out after 60 s/);
  assert.match(text, /\| 2 \| gamma \| run failed \|/);
  assert.match(renderDoc(parseDoc(text)), /target not met|run failed/);
});

test('an unmet target is marked not met', () => {
  const d = parseDoc(INTRO);
  d.sections.set('delta', renderSection(record('delta', 80)));
  assert.match(renderDoc(d), /80 \/s \| >= 100 \(\*\*not met\*\*\)/);
});

test("a standalone script's doc comment becomes its method, its BENCH line its data", () => {
  const src = '/**\n * Benchmark of the thing (issue 3).\n *\n * 1. First step.\n * 2. Second.\n */\nimport x from "y";\n';
  assert.equal(leadingDocComment(src), ['Benchmark of the thing (issue 3).', '1. First step.\n2. Second.']);
  assert.equal(leadingDocComment('const a = 1;'), []);
  const out = parseBenchLine('table\nBENCH {"name":"s","n":3}\nmore');
  assert.equal(out.data, { name: 's', n: 3 });
  assert.is(out.rest, 'table\nmore');
  assert.is(parseBenchLine('BENCH {broken').data, undefined);
});

test.run();
