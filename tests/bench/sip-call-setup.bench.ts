/**
 * Issue 2: call setups per second through the B2BUA (target >= 200): SIPp
 * callers place short authenticated calls to extensions registered by a
 * SIPp far end, every call anchored on the gateway's RTP ports.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNamespace, removeNamespace } from '../support/netns.js';
import { sleep, waitUntil } from '../support/proc.js';
import { startSipp, sippScenario, type SippResult } from '../support/sipp.js';
import { makeUsers, writeInjectionFile } from '../support/users.js';
import { measureLoad, measureRegisterRate } from './support/sipp-load.js';
import { fmt, type Bench, type BenchResult } from './bench-api.js';
import { startBenchGateway, SIP_HOST, type BenchGateway } from './sip/bench-gateway.js';
import { measuredStep, STEP_COLUMNS, stepRow, type MeasuredStep } from './sip/measured-step.js';
import { searchMaxRate } from './sip/rate-search.js';

const PAIRS = 1000;
const STEP_SECONDS = 8;
const HOLD_MS = 1000;
const TARGET = 200;
const UAS_PORT = 5070;
const WATCHDOG = ['-watchdog_major_maxtriggers', '1000', '-watchdog_minor_maxtriggers', '100000'];
const UAC_SCENARIO = fileURLToPath(new URL('./sip/uac-call-bench.xml', import.meta.url));

async function activeCalls(gw: BenchGateway): Promise<number> {
  return (await gw.api<{ activeCalls: number }>('/api/v1/status')).activeCalls;
}

function stepData(s: MeasuredStep): Record<string, unknown> {
  const { sipp, ...rest } = s;
  return { ...rest, sippExit: sipp?.exitCode, sippFailures: sipp?.stats?.failures };
}

/** The unexpected messages SIPp aborted calls on, most frequent first (from its error log). */
function failureKinds(r: SippResult): string {
  const counts = new Map<string, number>();
  for (const m of r.errors.matchAll(/while expecting '([^']+)' \(index (\d+)\), received '([^\r\n']*)/g)) {
    const k = `expecting ${m[1]} (step ${m[2]}), got "${m[3]!.trim()}"`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  for (const m of r.errors.matchAll(/Call-Id '[^']*' rejected because of (\w+)|(timeout) on max UDP retrans/gi)) {
    const k = m[1] ?? m[2] ?? 'other';
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
  return top.length ? top.map(([k, n]) => `${n} × ${k}`).join('; ') : "no unexpected message logged (timeouts or SIPp's own limits)";
}

const bench: Bench = {
  name: 'sip-call-setup',
  title: 'Call setups per second through the B2BUA',
  issue: 2,
  timeoutMs: 4 * 60_000,
  async run(ctx): Promise<BenchResult> {
    const callers = makeUsers(PAIRS, { first: 1000 });
    const callees = makeUsers(PAIRS, { first: 3000 });
    const netns = await createNamespace('bench-calls');
    try {
      const gw = await startBenchGateway({ netns, dir: join(ctx.workDir, 'gw'), users: [...callers, ...callees] });
      let uasResult: SippResult | undefined;
      try {
        // The far end: one SIPp registers every callee from its SIP port, then answers there.
        const reg = await measureRegisterRate({
          target: gw.sipTarget, domain: SIP_HOST, users: callees, rate: 500, seconds: PAIRS / 500,
          workDir: join(ctx.workDir, 'register'), netns, localPort: UAS_PORT,
        });
        const registered = (await gw.api<{ registrations: number }>('/api/v1/status')).registrations;
        if (registered !== PAIRS) throw new Error(`only ${registered} of ${PAIRS} callees registered: ${reg.sipp.report}`);
        const uasDir = join(ctx.workDir, 'uas');
        mkdirSync(uasDir, { recursive: true });
        const uas = startSipp({
          scenario: sippScenario('uas-answer.xml'), netns, localIp: SIP_HOST, localPort: UAS_PORT, mediaIp: SIP_HOST, mediaPort: 40000,
          timeoutMs: ctx.deadline - Date.now(), workDir: uasDir, extraArgs: WATCHDOG,
        });
        await uas.ready;
        const injection = writeInjectionFile(
          join(ctx.workDir, 'calls.csv'),
          callers.map((c, i) => ({ ...c, domain: SIP_HOST, target: callees[i]!.user })),
        );

        const search = await searchMaxRate<MeasuredStep>({
          startRate: 100,
          maxRate: 2000,
          factor: 1.5,
          refineSteps: 2,
          granularity: 10,
          workDir: join(ctx.workDir, 'steps'),
          deadline: ctx.deadline - 20_000,
          stepMs: (STEP_SECONDS + HOLD_MS / 1000 + 8) * 1000,
          // Calls a failed step left half set up end by themselves (64*T1 without an ACK, or the BYE):
          // the next step starts on an empty gateway.
          beforeStep: async () => {
            const timeoutMs = Math.max(1000, Math.min(40_000, ctx.deadline - 60_000 - Date.now()));
            await waitUntil(async () => (await activeCalls(gw)) === 0, { timeoutMs, intervalMs: 500, what: 'the gateway to have no calls' }).catch(() => undefined);
            await sleep(1000);
          },
          step: async (rate, workDir) => {
            const s = await measuredStep({
              targetPid: gw.pid,
              netns,
              workDir,
              loadSeconds: STEP_SECONDS,
              run: () =>
                measureLoad({
                  scenario: UAC_SCENARIO, target: gw.sipTarget, netns, injectionFile: injection, rate, seconds: STEP_SECONDS, workDir,
                  // Room for every call of the step to be in flight: a slow gateway shows as failures and time, not as SIPp holding back.
                  limit: Math.ceil(rate * (HOLD_MS / 1000 + 10)),
                  // A call that waits 5 s for a message has failed: end it, so an overloaded step ends soon after its load.
                  extraArgs: ['-d', String(HOLD_MS), '-recv_timeout', '5000'],
                }),
            });
            // SIPp's elapsed time includes each call's hold; take it out so the rate is the setup rate.
            const elapsed = s.sipp.stats?.elapsedSec ?? STEP_SECONDS;
            s.achievedPerSec = s.successful / Math.max(STEP_SECONDS, elapsed - HOLD_MS / 1000);
            s.sustained = s.successRatio >= 0.999 && s.achievedPerSec >= 0.95 * rate;
            ctx.log(
              `offered ${rate}/s -> ${fmt(s.achievedPerSec, 0)}/s, ${s.failed} failed, setup ${fmt(s.responseTimeMs)} ms, ${s.retransmissions} retransmissions, ` +
                `gateway CPU ${fmt(s.targetCpuPercent, 0)} % (waiting for a CPU ${fmt(s.mainThreads.waitPercent, 0)} %), SIPp ${fmt(s.sippCpuPercent, 0)} %: ` +
                (s.sustained ? 'sustained' : 'NOT sustained'),
            );
            return s;
          },
        });
        uasResult = await uas.stop(2000);
        const best = search.best;
        const rate = best?.achievedPerSec ?? 0;
        const notes: string[] = [];
        if (search.firstFailing) {
          const f = search.firstFailing;
          notes.push(
            `At ${f.offeredPerSec}/s offered: ${f.failed} of ${f.successful + f.failed} calls failed, mean setup ${fmt(f.responseTimeMs, 0)} ms, ` +
              `${f.retransmissions} SIPp retransmissions, gateway CPU ${fmt(f.targetCpuPercent, 0)} % with its event loop waiting for a CPU ${fmt(f.mainThreads.waitPercent, 0)} % of the time ` +
              `(load average ${fmt(f.loadAverage)}). What SIPp failed on: ${failureKinds(f.sipp)}.`,
          );
        }
        notes.push(
          'Per call the gateway exchanges about 10 SIP messages with the caller (two INVITEs because of the challenge) and 7 with the callee, binds and closes ' +
            '4 UDP sockets (RTP and RTCP of each leg) and writes a few log lines, all on one event loop: the same loop that serves the registrar.',
        );
        const peak = Math.max(...search.steps.map((x) => x.targetRssMaxMb));
        notes.push(
          `Resident memory is the highest sample of each step: V8 keeps the heap it grew to in earlier steps (up to ${fmt(peak, 0)} MB in this run, overloaded steps included), ` +
            'so a figure after an overload step says more about the past than about that rate; most of it is garbage (sip-register\'s notes).',
        );
        return {
          figures: [
            { label: `call setups per second (< 0.1 % failures, ${HOLD_MS / 1000} s calls)`, value: Math.round(rate), unit: '/s', target: `>= ${TARGET}`, met: rate >= TARGET },
            { label: 'mean call setup time at that rate (first INVITE to 200, incl. the 407 round trip)', value: best ? fmt(best.responseTimeMs, 1) : '-', unit: 'ms' },
            { label: 'resident memory at that rate', value: best ? Math.round(best.targetRssMaxMb) : '-', unit: 'MB' },
          ],
          method: [
            `Callers: SIPp running tests/bench/sip/uac-call-bench.xml from one process: INVITE with an SDP offer (PCMU, PCMA, telephone-event), 407, ACK, INVITE with digest ` +
              `credentials, 100/180/200 with the answer, ACK, ${HOLD_MS} ms pause, BYE, 200. ${PAIRS} calling extensions, each calling its own callee ` +
              '(1000 → 3000, 1001 → 3001, ...). The Request-URI is the gateway and the number is in To, because SIPp 3.6 puts sip:<remote ip>:<port> in every digest uri; ' +
              'the gateway does the same work (scenario comment).',
            `Callees: one SIPp process first registers all ${PAIRS} callee extensions from its SIP port (register-auth.xml), then answers every INVITE there with ` +
              'tests/sipp/uas-answer.xml (100, 180, 200 with SDP, ACK, BYE, 200). Every call is a B2BUA call with both legs anchored on the gateway\'s RTP port pool; no RTP is sent (see sip-media for calls with audio).',
            'The gateway as built (dist/cli.js, log level info) in a namespace of its own with only lo (SIP 127.0.0.1:5060), like sip-register.',
            `Search: steps of ${STEP_SECONDS} s at a fixed offered call rate, x1.5 from 100/s until a step is not sustained, then two bisection steps (tests/bench/sip/rate-search.ts). ` +
              'Sustained: fewer than 0.1 % of the calls failed and SIPp completed them at >= 95 % of the offered rate, the rate being successful calls / (SIPp elapsed time - the hold time). ' +
              'SIPp may have every call of a step in flight (-l), so a slow gateway shows as failures and time, never as SIPp holding calls back. ' +
              'Before each step the runner waits until the gateway reports no active calls.',
          ],
          tables: [{ caption: 'Steps:', columns: STEP_COLUMNS, rows: search.steps.map(stepRow) }],
          notes,
          data: { steps: search.steps.map(stepData), uas: uasResult?.stats },
        };
      } finally {
        await gw.stop();
      }
    } finally {
      await removeNamespace(netns);
    }
  },
};

export default bench;
