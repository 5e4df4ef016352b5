/**
 * Bad input and abuse at the SIP level (issue 2, "Bad input"), against the
 * real gateway:
 * - a phone with a wrong password gets 401s and is not registered; because it
 *   keeps retrying (baresip does, at once), its source is throttled and then
 *   ignored, even with correct credentials, while other sources carry on;
 * - an unknown user and a wrong password get the same answer (no enumeration);
 * - malformed datagrams are answered 400/505 where a response is possible and
 *   dropped otherwise, logged at a limited rate, and the gateway keeps
 *   serving: a call between two phones still works afterwards.
 * Raw datagrams come from sip-probe.ts, run inside the phones' namespace from
 * extra addresses on the LAN interface, so each concern has its own source.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTone } from '../../support/audio.js';
import { BaresipPhone } from '../../support/baresip.js';
import { sleep, withTimeout } from '../../support/proc.js';
import type { ProbeResult, ProbeStep } from './sip-probe.js';
import { createPbxWorld, type PbxWorld } from './world.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const PROBE = new URL('./sip-probe.ts', import.meta.url).pathname;
const SUBNET = '10.91.8';

let w: PbxWorld;
let specs = 0;

test.before(async () => {
  w = await createPbxWorld({ subnet: `${SUBNET}.0/24` });
  // Extra sources on the LAN: .3 the phone with the wrong password, .4 a good neighbour, .5 the enumeration probe.
  for (const host of [3, 4, 5]) await w.topo.run('lan', 'ip', ['addr', 'add', `${SUBNET}.${host}/24`, 'dev', w.topo.iface('lan', 'gw')]);
});

test.after(async () => {
  await w.close();
});

async function probe(bind: string, steps: ProbeStep[]): Promise<ProbeResult[]> {
  const spec = join(w.dir, `probe-${++specs}.json`);
  writeFileSync(spec, JSON.stringify({ bind, host: w.gwAddr, port: 5060, domain: w.gwAddr, steps }));
  const r = await w.topo.run('lan', process.execPath, ['--import', 'tsx', PROBE, spec], { cwd: ROOT, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`sip-probe failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ProbeResult[];
}

const registerResult = (r: ProbeResult | undefined): Extract<ProbeResult, { kind: 'register' }> => {
  if (r?.kind !== 'register') throw new Error(`not a register result: ${JSON.stringify(r)}`);
  return r;
};
const sendResult = (r: ProbeResult | undefined): string[] => {
  if (r?.kind !== 'send') throw new Error(`not a send result: ${JSON.stringify(r)}`);
  return r.responses;
};

test('a wrong password: 401, not registered; the retrying phone is throttled, other extensions and addresses are not', async () => {
  await withTimeout(
    (async () => {
      const mallory = await BaresipPhone.start({
        name: 'mallory',
        netns: w.topo.ns('lan'),
        listenIp: `${SUBNET}.3`,
        sipPort: 5060,
        user: '201',
        registrar: { host: w.gwAddr, port: 5060, password: 'not-the-password', regintSec: 300 },
        toneWav: await makeTone({ path: join(w.dir, 'mallory.wav'), freqHz: 1000, seconds: 5 }),
        workDir: join(w.dir, 'mallory'),
        sipTrace: true,
      });
      try {
        const blocked = await w.gw.waitForLog((l) => l.msg === 'registration refused' && l.source === `${SUBNET}.3` && l.blocked === true, 10_000);
        assert.is(blocked.aor, '201');
        assert.match(mallory.log(), /SIP\/2\.0 401 Unauthorized/);
        assert.not.ok(mallory.events.some((e) => e.type === 'REGISTER_OK'), 'the phone never registered');
        assert.not.ok(w.gw.logs().some((l) => l.msg === 'registered' && l.aor === '201'), 'no binding for 201');
        const refusals = w.gw.logs().filter((l) => l.msg === 'registration refused' && l.source === `${SUBNET}.3`).length;
        await sleep(1_000);
        const later = w.gw.logs().filter((l) => l.msg === 'registration refused' && l.source === `${SUBNET}.3`).length;
        assert.is(later, refusals, 'once blocked, its REGISTERs are not even looked at');
      } finally {
        await mallory.stop();
      }

      // The blocked extension is ignored from that address even with good credentials; another
      // extension behind the same address (phones sharing a NAT) and a neighbour register as usual.
      const fromBlocked = registerResult((await probe(`${SUBNET}.3`, [{ kind: 'register', user: '201', password: 'pw-201-secret', waitMs: 1_500 }]))[0]);
      assert.equal(fromBlocked.statuses, [null], 'dropped without an answer');
      const sameAddress = registerResult((await probe(`${SUBNET}.3`, [{ kind: 'register', user: '202', password: 'pw-202-secret', waitMs: 2_000 }]))[0]);
      assert.equal(sameAddress.statuses, [401, 200], sameAddress.final ?? 'no answer');
      const fromNeighbour = registerResult((await probe(`${SUBNET}.4`, [{ kind: 'register', user: '202', password: 'pw-202-secret', waitMs: 2_000 }]))[0]);
      assert.equal(fromNeighbour.statuses, [401, 200], fromNeighbour.final ?? 'no answer');
    })(),
    40_000,
    'wrong password and throttling',
  );
});

test('an unknown user and a wrong password get the same answer', async () => {
  const [unknown, wrong] = (
    await probe(`${SUBNET}.5`, [
      { kind: 'register', user: '999', password: 'guess-1234', waitMs: 2_000 },
      { kind: 'register', user: '203', password: 'guess-1234', waitMs: 2_000 },
    ])
  ).map(registerResult);
  assert.equal(unknown!.statuses, [401, 401]);
  assert.equal(wrong!.statuses, [401, 401]);
  // Same status line and the same set of headers, in the same order (values differ: tags, nonces).
  const shape = (m: string | null): string[] => (m ?? '').split('\r\n\r\n')[0]!.split('\r\n').map((l, i) => (i === 0 ? l : l.split(':')[0]!.toLowerCase()));
  assert.equal(shape(unknown!.final), shape(wrong!.final));
  assert.ok(/^WWW-Authenticate: Digest /m.test(unknown!.final ?? ''), 'a fresh challenge, as for a real user');
});

test('malformed SIP: 400 (or 505) when answerable, dropped otherwise, logged at a limited rate; the gateway keeps serving', async () => {
  await withTimeout(
    (async () => {
      const me = w.lanAddr;
      const via = `Via: SIP/2.0/UDP ${me}:5999;branch=z9hG4bKbad${randomBytes(3).toString('hex')};rport`;
      const head = (lines: string[]): string => `${lines.join('\r\n')}\r\n\r\n`;
      const garbage: ProbeStep[] = Array.from({ length: 30 }, () => ({ kind: 'send', payload: randomBytes(200).toString('base64'), base64: true, waitMs: 20 }));
      const results = await probe(me, [
        { kind: 'send', payload: 'hello gateway\r\n\r\n', waitMs: 500 },
        // No Call-ID and no CSeq (RFC 3261 §8.1.1): a response could not be matched to it (§17.1.3), dropped.
        { kind: 'send', payload: head([`OPTIONS sip:${w.gwAddr} SIP/2.0`, via, 'From: <sip:x@example.com>;tag=1', `To: <sip:${w.gwAddr}>`, 'Max-Forwards: 70', 'Content-Length: 0']), waitMs: 500 },
        // Every header there but From unreadable and Max-Forwards not a number: answerable, so 400.
        { kind: 'send', payload: head([`OPTIONS sip:${w.gwAddr} SIP/2.0`, via, 'From: <<<nobody', `To: <sip:${w.gwAddr}>`, 'Call-ID: bad-from', 'CSeq: 1 OPTIONS', 'Max-Forwards: 70', 'Content-Length: 0']), waitMs: 800 },
        { kind: 'send', payload: head([`OPTIONS sip:${w.gwAddr} SIP/2.0`, via, 'From: <sip:x@example.com>;tag=1', `To: <sip:${w.gwAddr}>`, 'Call-ID: bad-mf', 'CSeq: 1 OPTIONS', 'Max-Forwards: lots', 'Content-Length: 0']), waitMs: 800 },
        // An unsupported SIP version: 505 (RFC 3261 §8.2.2... §21.5.7).
        { kind: 'send', payload: head([`OPTIONS sip:${w.gwAddr} SIP/7.0`, via, 'From: <sip:x@example.com>;tag=1', `To: <sip:${w.gwAddr}>`, 'Call-ID: bad-version', 'CSeq: 1 OPTIONS', 'Content-Length: 0']), waitMs: 800 },
        // No Via at all: nowhere to answer, dropped.
        { kind: 'send', payload: head([`OPTIONS sip:${w.gwAddr} SIP/2.0`, 'From: <sip:x@example.com>;tag=1', `To: <sip:${w.gwAddr}>`, 'Call-ID: no-via', 'CSeq: 1 OPTIONS', 'Content-Length: 0']), waitMs: 500 },
        // A Content-Length longer than the datagram (RFC 3261 §18.3): 400 or dropped, never a crash.
        { kind: 'send', payload: head([`INVITE sip:202@${w.gwAddr} SIP/2.0`, via, 'From: <sip:x@example.com>;tag=1', `To: <sip:202@${w.gwAddr}>`, 'Call-ID: short-body', 'CSeq: 1 INVITE', 'Content-Type: application/sdp', 'Content-Length: 5000']) + 'v=0\r\n', waitMs: 800 },
        ...garbage,
        // And a good OPTIONS still gets its 200.
        { kind: 'send', payload: head([`OPTIONS sip:${w.gwAddr} SIP/2.0`, via.replace('bad', 'good'), 'From: <sip:x@example.com>;tag=2', `To: <sip:${w.gwAddr}>`, 'Call-ID: good-one', 'CSeq: 2 OPTIONS', 'Max-Forwards: 70', 'Content-Length: 0']), waitMs: 1_000 },
      ]);
      const FIRST = 7;
      const [hello, noCallId, badFrom, badMaxForwards, badVersion, noVia, shortBody] = results.slice(0, FIRST).map(sendResult);
      assert.equal(hello, [], 'garbage text: no answer');
      assert.equal(noCallId, [], 'no Call-ID/CSeq: dropped');
      for (const [what, r] of [['bad From', badFrom], ['bad Max-Forwards', badMaxForwards]] as const) {
        assert.is(r!.length, 1, `one answer to the request with a ${what}`);
        assert.match(r![0]!, /^SIP\/2\.0 400 Bad Request \(/, `${what}: 400 with the problem in the reason`);
        assert.match(r![0]!, /^CSeq: 1 OPTIONS$/m, `${what}: the 400 can be matched to its request`);
      }
      assert.is(badVersion!.length, 1);
      assert.match(badVersion![0]!, /^SIP\/2\.0 505 /);
      assert.equal(noVia, [], 'no Via: dropped');
      assert.ok(shortBody!.length === 0 || /^SIP\/2\.0 400 /.test(shortBody![0]!), `short body: 400 or nothing, got ${shortBody![0]?.split('\r\n')[0]}`);
      for (const r of results.slice(FIRST, FIRST + garbage.length).map(sendResult)) assert.equal(r, [], 'binary garbage: no answer');
      const good = sendResult(results.at(-1));
      assert.match(good[0] ?? '', /^SIP\/2\.0 200 /, 'the gateway still answers a good request');

      // Logged, but at a limited rate: 30+ bad datagrams from one source, a handful of lines.
      const badLines = w.gw.logs().filter((l) => l.component === 'sip-transport' && l.source === `udp:${me}`);
      assert.ok(badLines.length >= 1, 'bad input is logged');
      assert.ok(badLines.length <= 8, `at a limited rate (${badLines.length} lines for ${garbage.length + FIRST} bad datagrams)`);
      assert.not.ok(w.gw.proc.hasExited(), 'the gateway is still running');

      // And a real call still goes through.
      const alice = await w.phone({ name: 'alice', ext: '201', freqHz: 1000, sipPort: 5060 });
      const bob = await w.phone({ name: 'bob', ext: '202', freqHz: 1500, sipPort: 5070 });
      await alice.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
      await bob.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
      await alice.dial(`sip:202@${w.gwAddr}`);
      await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
      await bob.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000 });
      await sleep(1_000);
      await alice.hangup();
      await bob.waitFor('CALL_CLOSED', { timeoutMs: 5_000 });
      const ended = await w.callEnded();
      assert.is(ended.disposition, 'answered');
    })(),
    60_000,
    'malformed input',
  );
});

test('a source that changes port for every bad datagram is still logged at a limited rate', async () => {
  const me = `${SUBNET}.4`;
  const before = w.gw.logs().length;
  const steps: ProbeStep[] = Array.from({ length: 40 }, () => ({ kind: 'send', payload: randomBytes(120).toString('base64'), base64: true, waitMs: 10, fromNewPort: true }));
  await probe(me, steps);
  await sleep(300);
  const lines = w.gw.logs().slice(before).filter((l) => l.component === 'sip-transport' && l.source === `udp:${me}`);
  assert.ok(lines.length >= 1, 'logged');
  assert.ok(lines.length <= 8, `${lines.length} lines for 40 bad datagrams from 40 ports of one address`);
});

test.run();
