/**
 * The test runner behind `make test`. Each test file runs in its own node
 * process (uvu suites, `test.run()` at the end of the file), so a file that
 * crashes or leaks a socket cannot take the others down. Unit files run two at
 * a time; integration files one at a time, because they own network
 * namespaces, ports and real peers. Ends with the line `N passed, N failed`.
 *
 *   node --import tsx tests/run.ts [unit|integration|all] [substring filter]
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const which = process.argv[2] ?? 'all';
const filter = process.argv[3] ?? '';
const FILE_TIMEOUT_MS = Number(process.env.PGW_TEST_FILE_TIMEOUT_MS ?? 300_000);

function findTests(dir: string): string[] {
  let out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const name of names) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

interface FileResult {
  file: string;
  passed: number;
  failed: number;
  output: string;
  ms: number;
}

function runFile(file: string): Promise<FileResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, TZ: process.env.TZ ?? 'UTC', LANG: 'C.UTF-8', FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += `\n[runner] ${relative(root, file)} timed out after ${FILE_TIMEOUT_MS} ms; killed\n`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, FILE_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      // uvu prints "Total: N" and "Passed: N" per process (summed over suites).
      // eslint-disable-next-line no-control-regex
      const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
      const total = [...plain.matchAll(/Total:\s+(\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
      const passed = [...plain.matchAll(/Passed:\s+(\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
      let failed = total - passed;
      // A file that died before reporting, or exited non-zero with everything passed, is a failure.
      if (total === 0 || (code !== 0 && failed === 0)) failed += 1;
      resolve({ file, passed, failed, output, ms: Date.now() - started });
    });
  });
}

async function runPool(files: string[], concurrency: number): Promise<FileResult[]> {
  const results: FileResult[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    while (next < files.length) {
      const file = files[next++]!;
      const r = await runFile(file);
      const mark = r.failed === 0 ? 'ok  ' : 'FAIL';
      console.log(`${mark} ${relative(root, file)}  (${r.passed} passed, ${r.failed} failed, ${r.ms} ms)`);
      if (r.failed > 0 || process.env.PGW_TEST_VERBOSE) console.log(r.output.replace(/^/gm, '    | '));
      results.push(r);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

const groups: Array<[string, number]> = [];
if (which === 'unit' || which === 'all') groups.push(['unit', 2]);
if (which === 'integration' || which === 'all') groups.push(['integration', 1]);
if (groups.length === 0) {
  console.error(`usage: tests/run.ts [unit|integration|all] [filter]`);
  process.exit(2);
}

let passed = 0;
let failed = 0;
for (const [group, concurrency] of groups) {
  const files = findTests(join(root, 'tests', group)).filter((f) => f.includes(filter));
  console.log(`\n== ${group}: ${files.length} files`);
  for (const r of await runPool(files, concurrency)) {
    passed += r.passed;
    failed += r.failed;
  }
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
