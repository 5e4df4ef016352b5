/**
 * KernelOffload's handling of nft: batching, counts, and what it does when
 * nft refuses. nft is a fake that records scripts and fails on demand.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { silentLogger } from '../../../../firmware/src/util/logger.js';
import { KernelOffload } from '../../../../firmware/src/media/offload/kernel-offload.js';
import type { KernelFlow } from '../../../../firmware/src/media/offload/nft-script.js';
import { hostLinks } from '../../../../firmware/src/media/offload/host-links.js';

const LO = { name: 'lo', index: 1, loopback: true };
const flow = (inPort: number): KernelFlow => ({
  inPort, srcAddress: '127.0.0.1', srcPort: inPort + 10000, payloadTypes: [0], viaAddress: '127.0.0.1', viaPort: inPort + 2, toAddress: '127.0.0.1', toPort: inPort + 10002, device: LO, outDevice: LO,
});

function fakeNft(): { exec: (s: string) => Promise<string>; scripts: string[]; fail: (s: string) => boolean; release: () => void; hold: boolean } {
  const f = {
    scripts: [] as string[],
    fail: (_s: string) => false,
    hold: false,
    waiting: [] as Array<() => void>,
    release: () => {
      f.hold = false;
      for (const w of f.waiting.splice(0)) w();
    },
    exec: async (s: string): Promise<string> => {
      f.scripts.push(s);
      if (f.hold) await new Promise<void>((r) => f.waiting.push(r));
      if (f.fail(s)) throw new Error('nft: No such file or directory');
      return s.includes('list map') ? '\t\telements = { 20000 . 127.0.0.1 . 30000 . 0x0 counter packets 7 bytes 1400 : 0x5a004e20 }\n' : '';
    },
  };
  return f;
}

const offloadWith = (exec: (s: string) => Promise<string>): KernelOffload =>
  new KernelOffload({ exec, links: { sharedDevice: () => LO }, logger: silentLogger(), portMin: 20000, portMax: 29999 });

test('changes asked for while nft runs go together in the next run, in order', async () => {
  const nft = fakeNft();
  const o = offloadWith(nft.exec);
  nft.hold = true;
  const first = o.add([flow(20000)]);
  const second = o.add([flow(20004)]);
  const removed = o.remove([flow(20000)]);
  await new Promise((r) => setImmediate(r));
  assert.is(nft.scripts.length, 1, 'one run in flight');
  nft.release();
  assert.is(await first, true);
  assert.is(await second, true);
  const counts = await removed;
  assert.is(nft.scripts.length, 2, 'the two waiting changes ran as one batch');
  const batch = nft.scripts[1]!;
  assert.ok(batch.indexOf('list map') < batch.indexOf('add element') && batch.indexOf('add element') < batch.indexOf('delete element'), 'listed first, then in the order asked');
  assert.equal(counts.get('20000/127.0.0.1:30000'), { packets: 7, bytes: 1400 });
  assert.is(nft.scripts.filter((s) => s.includes('add chain')).length, 1, 'the device chain is made once');
});

test('a refused batch is retried change by change: only the bad one fails', async () => {
  const nft = fakeNft();
  nft.fail = (s) => s.includes('20004 . 127.0.0.1');
  const o = offloadWith(nft.exec);
  nft.hold = true;
  const blocker = o.counts();
  const good = o.add([flow(20000)]);
  const bad = o.add([flow(20004)]);
  await new Promise((r) => setImmediate(r));
  nft.release();
  await blocker;
  assert.is(await good, true);
  assert.is(await bad, false);
  assert.ok(o.enabled, 'a refused add does not turn the fast path off');
});

test('a removal nft refuses drops the whole table and turns the fast path off', async () => {
  const nft = fakeNft();
  nft.fail = (s) => s.includes('delete element');
  const o = offloadWith(nft.exec);
  assert.is(await o.add([flow(20000)]), true);
  const counts = await o.remove([flow(20000)]);
  assert.is(counts.size, 0);
  assert.not.ok(o.enabled);
  assert.ok(nft.scripts.some((s) => s.includes('delete table netdev pgw_media')), 'table dropped');
  assert.is(await o.add([flow(20008)]), false, 'nothing more is offloaded');
});

test('purgePorts removes exactly the flows entering on a dead worker\'s ports', async () => {
  const scripts: string[] = [];
  const listing =
    '\t\telements = { 20000 . 10.0.0.5 . 5004 . 0x0 counter packets 1 bytes 200 : 0x5a004e20,\n' +
    '\t\t\t     20000 . 10.0.0.5 . 5004 . 0x65 counter packets 0 bytes 0 : 0x5a004e20,\n' +
    '\t\t\t     25000 . 10.0.0.6 . 6000 . 0x0 counter packets 3 bytes 600 : 0x5a0061a8 }\n';
  const exec = (s: string): Promise<string> => {
    scripts.push(s);
    return Promise.resolve(s.includes('list map') ? listing : '');
  };
  assert.is(await KernelOffload.purgePorts(exec, 20000, 24999), 2);
  const del = scripts[1]!;
  assert.ok(del.includes('20000 . 10.0.0.5 . 5004 . 0') && del.includes('20000 . 10.0.0.5 . 5004 . 101'));
  assert.not.ok(del.includes('25000'), 'the other worker\'s flow stays');
});

test('hostLinks: a phone on the subnet of the interface the leg is on, lo for lo, nothing else', () => {
  let now = 0;
  const links = hostLinks({
    now: () => now,
    source: {
      list: () => ({
        lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', internal: true, mac: '', cidr: '127.0.0.1/8' }],
        eth0: [{ address: '192.168.10.1', netmask: '255.255.255.0', family: 'IPv4', internal: false, mac: '', cidr: '192.168.10.1/24' }],
        hscn0: [{ address: '10.200.0.2', netmask: '255.255.255.252', family: 'IPv4', internal: false, mac: '', cidr: '10.200.0.2/30' }],
      }),
      ifindex: (name) => ({ lo: 1, eth0: 3, hscn0: 4 })[name] ?? null,
    },
  });
  assert.equal(links.sharedDevice('192.168.10.1', '192.168.10.50'), { name: 'eth0', index: 3, loopback: false });
  assert.is(links.sharedDevice('192.168.10.1', '10.200.0.1'), null, 'the cloud, reached through a router');
  assert.is(links.sharedDevice('192.168.10.1', '192.168.10.1'), null, 'the gateway itself');
  assert.is(links.sharedDevice('192.168.10.1', '10.200.0.2'), null, 'another of its own addresses');
  assert.equal(links.sharedDevice('127.0.0.1', '127.0.0.1'), { name: 'lo', index: 1, loopback: true });
  assert.is(links.sharedDevice('127.0.0.1', '192.168.10.50'), null);
  assert.is(links.sharedDevice('172.16.0.1', '172.16.0.2'), null, 'an address the host does not have');
  now += 20_000;
  assert.is(links.sharedDevice('192.168.10.1', '192.168.10.50')?.index, 3, 'read again after the refresh interval');
});

test.run();
