/**
 * Issue 2: authenticated REGISTERs per second (target >= 2,000), and the
 * same load against Kamailio's registrar on the same machine (our rate as a
 * ratio of its rate); the gateway's resident memory idle and under this load.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startKamailio } from '../support/kamailio.js';
import { createNamespace, removeNamespace } from '../support/netns.js';
import { run, sleep } from '../support/proc.js';
import { makeUsers, type SipUser } from '../support/users.js';
import { startProcSampler } from './support/proc-sampler.js';
import { measureRegisterRate } from './support/sipp-load.js';
import { fmt, type Bench, type BenchContext, type BenchResult } from './bench-api.js';
import { startBenchGateway, SIP_HOST, SIP_PORT } from './sip/bench-gateway.js';
import { measuredStep, STEP_COLUMNS, stepRow, type MeasuredStep } from './sip/measured-step.js';
import { searchMaxRate, type SearchResult } from './sip/rate-search.js';

const USERS = 2000;
const STEP_SECONDS = 6;
const TARGET = 2000;

async function search(o: {
  ctx: BenchContext;
  who: string;
  pid: number;
  users: readonly SipUser[];
  netns: string;
  startRate: number;
  deadline: number;
  dir: string;
}): Promise<SearchResult<MeasuredStep>> {
  return searchMaxRate<MeasuredStep>({
    startRate: o.startRate,
    maxRate: 20_000,
    factor: 1.4,
    refineSteps: 2,
    granularity: 50,
    workDir: o.dir,
    deadline: o.deadline,
    stepMs: (STEP_SECONDS + 6) * 1000,
    // An overloaded step leaves retransmissions and transactions behind: let them end first.
    beforeStep: async (prev) => sleep(prev.sustained ? 1000 : 5000),
    step: async (rate, workDir) => {
      const s = await measuredStep({
        targetPid: o.pid,
        netns: o.netns,
        workDir,
        loadSeconds: STEP_SECONDS,
        run: () =>
          measureRegisterRate({
            target: `${SIP_HOST}:${SIP_PORT}`,
            domain: SIP_HOST,
            users: o.users,
            rate,
            seconds: STEP_SECONDS,
            workDir,
            netns: o.netns,
          }),
      });
      o.ctx.log(
        `${o.who}: offered ${rate}/s -> ${fmt(s.achievedPerSec, 0)}/s, ${s.failed} failed, ${fmt(s.responseTimeMs)} ms, ` +
          `${s.retransmissions} retransmissions, ${s.udpRcvbufErrors} UDP drops, CPU ${fmt(s.targetCpuPercent, 0)} % (waiting for a CPU ${fmt(s.mainThreads.waitPercent, 0)} %; SIPp ${fmt(s.sippCpuPercent, 0)} %): ` +
          (s.sustained ? 'sustained' : 'NOT sustained'),
      );
      return s;
    },
  });
}

function stepData(s: MeasuredStep): Record<string, unknown> {
  const { sipp, ...rest } = s;
  return { ...rest, sippExit: sipp?.exitCode, sippFailures: sipp?.stats?.failures };
}

async function versionOf(cmd: string, args: string[], re: RegExp): Promise<string> {
  const r = await run(cmd, args, { timeoutMs: 5_000 }).catch(() => undefined);
  return re.exec(`${r?.stdout ?? ''}${r?.stderr ?? ''}`)?.[1] ?? 'unknown';
}

const bench: Bench = {
  name: 'sip-register',
  title: 'Authenticated REGISTERs per second, and Kamailio under the same load',
  issue: 2,
  timeoutMs: 5 * 60_000,
  async run(ctx): Promise<BenchResult> {
    const users = makeUsers(USERS);
    const sippVersion = await versionOf('sipp', ['-v'], /SIPp (v\d[\w.-]*\w)/);
    const kamailioVersion = await versionOf('kamailio', ['-v'], /version: kamailio ([\d.]+)/);
    const netns = await createNamespace('bench-reg');
    // Half of the time left for each system (whatever the gateway does not use, Kamailio may).
    const half = Date.now() + (ctx.deadline - Date.now() - 30_000) / 2;
    try {
      ctx.log(`gateway with ${USERS} extensions`);
      const gw = await startBenchGateway({ netns, dir: join(ctx.workDir, 'gw'), users });
      let idle: { rssMb: number; cpuPercent: number };
      let ours: SearchResult<MeasuredStep>;
      try {
        await sleep(3000);
        const s = startProcSampler({ rootPid: gw.pid, intervalMs: 250 });
        await sleep(3000);
        const r = s.stop();
        idle = { rssMb: r.rssMb.max, cpuPercent: r.cpuPercent };
        ctx.log(`gateway idle: ${fmt(idle.rssMb)} MB RSS`);
        ours = await search({ ctx, who: 'gateway', pid: gw.pid, users, netns, startRate: 1000, deadline: half, dir: join(ctx.workDir, 'gw-steps') });
      } finally {
        await gw.stop();
      }

      ctx.log(`Kamailio ${kamailioVersion} with the same ${USERS} users`);
      mkdirSync(join(ctx.workDir, 'kamailio'), { recursive: true });
      const k = await startKamailio({ netns, listenIp: SIP_HOST, port: SIP_PORT, users, workDir: join(ctx.workDir, 'kamailio') });
      let theirs: SearchResult<MeasuredStep>;
      let kIdleRssMb: number;
      try {
        await sleep(1000);
        kIdleRssMb = startProcSampler({ rootPid: k.proc.pid }).stop().rssMb.max;
        theirs = await search({ ctx, who: 'kamailio', pid: k.proc.pid, users, netns, startRate: 2000, deadline: ctx.deadline - 20_000, dir: join(ctx.workDir, 'kamailio-steps') });
      } finally {
        await k.stop();
      }

      const ourRate = ours.best?.achievedPerSec ?? 0;
      const theirRate = theirs.best?.achievedPerSec ?? 0;
      const ratio = theirRate > 0 ? ourRate / theirRate : NaN;
      const peakRss = Math.max(...ours.steps.map((s) => s.targetRssMaxMb));
      const atBest = ours.best;
      const kBest = theirs.best;
      const kLimitedBySipp = theirs.firstFailing !== undefined && theirs.firstFailing.sippCpuPercent >= 85;
      const kNeverFailed = theirs.firstFailing === undefined;

      const notes: string[] = [];
      if (kNeverFailed || kLimitedBySipp) {
        notes.push(
          `Kamailio's figure is a lower bound: ${kNeverFailed ? 'no step failed within the time allowed' : `at the first failing step SIPp itself used ${fmt(theirs.firstFailing!.sippCpuPercent, 0)} % of a core`}, ` +
            'so the load generator, not Kamailio, may have been the limit; our ratio to it is then an upper bound.',
        );
      }
      if (ours.firstFailing && theirs.firstFailing) {
        notes.push(
          `At the lowest failing rate the gateway's threads waited for a CPU ${fmt(ours.firstFailing.mainThreads.waitPercent, 0)} % of the time (load average ${fmt(ours.firstFailing.loadAverage)}), ` +
            `Kamailio's worker processes ${fmt(theirs.firstFailing.mainThreads.waitPercent, 0)} % (summed over its processes; load average ${fmt(theirs.firstFailing.loadAverage)}): ` +
            "both ran on a machine other work was also using, Kamailio's two workers needing both CPUs. Its UDP receive-buffer drops are its socket overflowing while its workers waited.",
        );
      }
      if (ours.firstFailing) {
        notes.push(
          `Above ${fmt(ourRate, 0)}/s the gateway's event loop saturates (${fmt(ours.firstFailing.targetCpuPercent, 0)} % CPU at ${ours.firstFailing.offeredPerSec}/s offered, ` +
            `SIPp ${fmt(ours.firstFailing.sippCpuPercent, 0)} %): answers come later than SIPp's 500 ms retransmission timer, the retransmissions add load, and the run collapses ` +
            `(${ours.firstFailing.retransmissions} retransmissions, mean registration time ${fmt(ours.firstFailing.responseTimeMs, 0)} ms). ` +
            'A CPU profile of the gateway at this load (node --cpu-prof, taken while this benchmark was written) showed no single hot spot: about a fifth of the busy time was the ' +
            'sendto() system call (node:dgram doSend), the rest spread over SIP parsing (firmware/src/sip/message), the transaction layer, digest checks (HMAC-SHA256 nonces, MD5) and garbage collection.',
        );
      }
      notes.push(
        'Resident memory grows with the REGISTER rate because every server transaction is kept for Timer J (32 s on UDP, RFC 3261 §17.2.2) to absorb retransmissions: ' +
          `about ${fmt(peakRss - idle.rssMb, 0)} MB above idle at the highest step. Since the third session a completed transaction is kept as a compact record ` +
          '(its keys, To tag and the frozen final response, about 1.1 KB; firmware/src/sip/transaction/completed-transactions.ts), and at most 100,000 completed non-INVITE ones are kept; ' +
          'the rest of the RSS is garbage V8 grew into and keeps (tests/bench/sip/transaction-memory.ts measures the live heap: back to its baseline after Timer J).',
      );

      return {
        figures: [
          { label: 'authenticated REGISTERs per second (< 0.1 % failures)', value: Math.round(ourRate), unit: '/s', target: `>= ${TARGET}`, met: ourRate >= TARGET },
          { label: "Kamailio's registrar, same load, same machine", value: Math.round(theirRate), unit: '/s' },
          { label: "our rate as a ratio of Kamailio's", value: Number.isFinite(ratio) ? ratio.toFixed(2) : '-' },
          { label: `resident memory idle (${USERS} extensions configured, none registered)`, value: Math.round(idle.rssMb), unit: 'MB', target: '< 150', met: idle.rssMb < 150 },
          { label: 'resident memory at the highest sustained REGISTER rate', value: atBest ? Math.round(atBest.targetRssMaxMb) : '-', unit: 'MB' },
          { label: 'resident memory, peak over all steps (incl. overload)', value: Math.round(peakRss), unit: 'MB' },
          { label: "Kamailio's resident memory at its highest sustained rate (all processes)", value: kBest ? Math.round(kBest.targetRssMaxMb) : '-', unit: 'MB' },
        ],
        method: [
          `Load: SIPp ${sippVersion} running tests/sipp/register-auth.xml (REGISTER, 401, REGISTER with digest credentials, 200; one SIPp "call" = one authenticated registration) ` +
            `over ${USERS} extensions in turn (users 1000-${1000 + USERS - 1}, MD5 digest, qop=auth), UDP, from one SIPp process, through tests/bench/support/sipp-load.ts (measureRegisterRate).`,
          `System under test: the gateway as built (dist/cli.js, \`pgw run\`, log level info: one JSON line per registration) with a practice of ${USERS} extensions, ` +
            'alone in a network namespace with only `lo` (SIP on 127.0.0.1:5060), so nothing else on the machine shares its ports. ' +
            `Then Kamailio ${kamailioVersion} (tests/support/kamailio.ts: usrloc in memory, users in an htable, pv_www_authenticate, 2 UDP worker processes for the 2 CPUs) ` +
            'with the same users, the same scenario, the same step length, in the same namespace, right after.',
          `Search: steps of ${STEP_SECONDS} s at a fixed offered rate, rising by x1.4 (the gateway from 1,000/s, Kamailio from 2,000/s) until a step is not sustained, ` +
            'then two bisection steps between the last sustained and the first failing rate (tests/bench/sip/rate-search.ts). A step is sustained when fewer than 0.1 % ' +
            'of its registrations fail and SIPp completed them at >= 95 % of the offered rate (successful / SIPp elapsed time, so slow answers count against it). ' +
            'The figure is the achieved rate of the best sustained step. Between steps: 1 s, or 5 s after an overloaded one.',
          'Memory and CPU: /proc of the process tree (tests/bench/support/proc-sampler.ts, every 250 ms); idle = 3 s after startup, sampled for 3 s. ' +
            "SIPp's own CPU is sampled from the processes working in the step's directory (tests/bench/sip/cwd-cpu.ts), to tell when SIPp was the limit.",
        ],
        tables: [
          { caption: 'The gateway, step by step:', columns: STEP_COLUMNS, rows: ours.steps.map(stepRow) },
          { caption: 'Kamailio, step by step:', columns: STEP_COLUMNS, rows: theirs.steps.map(stepRow) },
        ],
        notes,
        data: { idle, kamailioIdleRssMb: kIdleRssMb, gateway: ours.steps.map(stepData), kamailio: theirs.steps.map(stepData), sippVersion, kamailioVersion },
      };
    } finally {
      await removeNamespace(netns);
    }
  },
};

export default bench;
