/**
 * Proves the namespace helper: topology addressing, the silent cut and the
 * interface-down cut really stop traffic and restoring really brings it back,
 * counters move, stale namespaces of dead runs are swept (and live ones are
 * not), and a process that exits or is killed with SIGTERM leaves nothing behind.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createTopology, hostAddress, ifaceCounters, listNamespaces, nsSpawn, sweepStaleNamespaces, NETNS_PREFIX,
} from '../../support/netns.js';
import type { Topology } from '../../support/netns.js';
import { run, runOk, sleep, waitUntil, withTimeout } from '../../support/proc.js';

/** True if one UDP datagram from `from` reaches `to`'s address on its link with `from`. */
async function udpReaches(topo: Topology, from: string, to: string, port: number): Promise<boolean> {
  const rx = nsSpawn(topo.ns(to), 'socat', ['-u', `UDP-RECV:${port},bind=${topo.addr(to, from)}`, 'STDOUT']);
  try {
    await sleep(150);
    const r = await topo.run(from, 'socat', ['-u', 'STDIN', `UDP-SENDTO:${topo.addr(to, from)}:${port}`], { input: 'ping\n', timeoutMs: 3_000 });
    if (r.code !== 0 && !/Connection refused|No buffer space/.test(r.stderr)) throw new Error(`socat send failed: ${r.stderr}`);
    try {
      await waitUntil(() => rx.output.toString().includes('ping'), { timeoutMs: 700, what: 'datagram' });
      return true;
    } catch {
      return false;
    }
  } finally {
    await rx.stop({ graceMs: 500 });
  }
}

test('hostAddress picks hosts inside the subnet and rejects the rest', () => {
  assert.equal(hostAddress('10.90.1.0/24', 1), { addr: '10.90.1.1', prefixLen: 24 });
  assert.equal(hostAddress('10.90.1.0/24', 254), { addr: '10.90.1.254', prefixLen: 24 });
  assert.equal(hostAddress('192.168.50.8/30', 2), { addr: '192.168.50.10', prefixLen: 30 });
  assert.throws(() => hostAddress('10.90.1.0/24', 255));
  assert.throws(() => hostAddress('10.90.1.0/24', 0));
  assert.throws(() => hostAddress('10.90.1.5/24', 1), /aligned/);
  assert.throws(() => hostAddress('10.90.1.0', 1));
});

test('topology: addresses, cut/restore, down/up and counters', async () => {
  let topo: Topology | undefined;
  try {
    await withTimeout(
      (async () => {
        topo = await createTopology({
          nodes: ['gw', 'lan', 'wan'],
          links: [
            { a: 'gw', b: 'lan', subnet: '10.90.5.0/24' },
            { a: 'gw', b: 'wan', subnet: '10.90.6.0/24', aHost: 10, bHost: 20 },
          ],
        });
        assert.is(topo.addr('gw', 'lan'), '10.90.5.1');
        assert.is(topo.addr('lan', 'gw'), '10.90.5.2');
        assert.is(topo.addr('wan', 'gw'), '10.90.6.20');
        assert.is(topo.iface('gw', 'wan'), 'to-wan');
        assert.ok(topo.ns('gw').startsWith(`${NETNS_PREFIX}${process.pid}-`));
        const addrs = await runOk('ip', ['-n', topo.ns('gw'), '-4', '-o', 'addr', 'show']);
        assert.match(addrs, /to-lan\s+inet 10\.90\.5\.1\/24/);
        assert.match(addrs, /to-wan\s+inet 10\.90\.6\.10\/24/);
        assert.match(addrs, /lo\s+inet 127\.0\.0\.1/);

        assert.ok(await udpReaches(topo, 'lan', 'gw', 7001), 'lan -> gw before any cut');
        const before = await ifaceCounters(topo.ns('gw'), 'to-lan');

        const link = topo.link('gw', 'lan');
        await link.cut();
        assert.ok(link.isCut);
        assert.not.ok(await udpReaches(topo, 'lan', 'gw', 7002), 'cut drops lan -> gw');
        assert.not.ok(await udpReaches(topo, 'gw', 'lan', 7003), 'cut drops gw -> lan');
        const state = await runOk('ip', ['-n', topo.ns('lan'), 'link', 'show', 'to-gw']);
        assert.match(state, /state UP/, 'a silent cut leaves the link up');
        assert.ok(await udpReaches(topo, 'wan', 'gw', 7004), 'the other link is untouched');

        await link.restore();
        assert.not.ok(link.isCut);
        assert.ok(await udpReaches(topo, 'lan', 'gw', 7005), 'restored');
        const after = await ifaceCounters(topo.ns('gw'), 'to-lan');
        assert.ok(after.rxPackets > before.rxPackets, 'counters moved');

        await link.down();
        const peer = await runOk('ip', ['-n', topo.ns('lan'), 'link', 'show', 'to-gw']);
        assert.match(peer, /NO-CARRIER|state DOWN|LOWERLAYERDOWN/, `peer sees the link down: ${peer}`);
        assert.not.ok(await udpReaches(topo, 'lan', 'gw', 7006), 'down drops traffic');
        await link.up();
        await waitUntil(async () => /state UP/.test(await runOk('ip', ['-n', topo!.ns('lan'), 'link', 'show', 'to-gw'])), {
          timeoutMs: 5_000, what: 'carrier back',
        });
        assert.ok(await udpReaches(topo, 'lan', 'gw', 7007), 'up again');
      })(),
      40_000,
      'topology test',
    );
  } finally {
    const names = topo ? topo.nodes.map((n) => topo!.ns(n)) : [];
    await topo?.destroy();
    for (const n of names) assert.not.ok(listNamespaces().includes(n), `${n} left behind`);
  }
});

test('sweep removes namespaces of dead runs only', async () => {
  // A pid that surely is not running: one that just exited.
  const dead = spawn('true');
  await new Promise((r) => dead.on('close', r));
  const stale = `${NETNS_PREFIX}${dead.pid}-1-stale`;
  const mine = `${NETNS_PREFIX}${process.pid}-999-mine`;
  await runOk('ip', ['netns', 'add', stale]);
  await runOk('ip', ['netns', 'add', mine]);
  try {
    const removed = sweepStaleNamespaces();
    assert.ok(removed.includes(stale), `swept ${removed.join(',')}`);
    assert.not.ok(listNamespaces().includes(stale));
    assert.ok(listNamespaces().includes(mine), 'a live run keeps its namespaces');
  } finally {
    await run('ip', ['netns', 'del', stale]);
    await run('ip', ['netns', 'del', mine]);
  }
});

/** Runs a child that builds a topology and then ends by `how`; returns the namespaces it had. */
async function childThat(how: 'exits' | 'throws' | 'gets SIGTERM'): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-child-'));
  const netnsModule = fileURLToPath(new URL('../../support/netns.ts', import.meta.url));
  const script = join(dir, 'child.mts'); // .mts: ESM (top-level await) outside the package
  writeFileSync(
    script,
    `import { createTopology } from ${JSON.stringify(netnsModule)};
const topo = await createTopology({ nodes: ['x', 'y'], links: [{ a: 'x', b: 'y', subnet: '10.90.9.0/24' }] });
console.log('NS ' + topo.ns('x') + ' ' + topo.ns('y'));
const how = ${JSON.stringify(how)};
if (how === 'exits') process.exit(0);
if (how === 'throws') throw new Error('boom');
setInterval(() => undefined, 1000);
`,
  );
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: fileURLToPath(new URL('../../..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    let exited = false;
    const closed = new Promise((r) => child.on('close', r)).then(() => (exited = true));
    const names = await waitUntil(() => /NS (\S+) (\S+)/.exec(out)?.slice(1, 3) ?? (exited ? [] : undefined), {
      timeoutMs: 15_000,
      what: 'the child to report its namespaces',
    });
    assert.is(names.length, 2, `child output:\n${out}`);
    if (how === 'gets SIGTERM') child.kill('SIGTERM');
    await withTimeout(closed, 10_000, 'child exit');
    return names;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const how of ['exits', 'throws', 'gets SIGTERM'] as const) {
  test(`a process that ${how} leaves no namespace behind`, async () => {
    const names = await childThat(how);
    assert.is(names.length, 2);
    for (const n of names) assert.not.ok(listNamespaces().includes(n), `${n} left behind`);
  });
}

test.run();
