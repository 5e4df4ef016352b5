/**
 * Issue 2: concurrent anchored G.711 calls with RTP flowing both ways
 * (target >= 500 with no loss and p99 added forwarding delay under 2 ms),
 * measured level by level, and the gateway's resident memory at each level.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallView } from '../../firmware/src/admin/status-provider.js';
import { makeUlawTone } from '../support/audio.js';
import { createNamespace, nsRun, removeNamespace } from '../support/netns.js';
import { sleep, waitUntil } from '../support/proc.js';
import { startSipp, sippScenario, type SippProcess } from '../support/sipp.js';
import { makeUsers, writeInjectionFile, type SipUser } from '../support/users.js';
import { processSchedstat, processTree, startProcSampler } from './support/proc-sampler.js';
import { measureRegisterRate } from './support/sipp-load.js';
import { fmt, type Bench, type BenchResult } from './bench-api.js';
import { startBenchGateway, SIP_HOST, type BenchGateway } from './sip/bench-gateway.js';
import { startRtpProbe, type PathStats, type ProbeWindow, type RtpProbe } from './sip/rtp-probe-client.js';
import { buildRtpFarm, startRtpFarm, type FarmStats, type RtpFarm } from './sip/rtp-farm-client.js';

/** Call levels; PGW_BENCH_MEDIA_LEVELS (comma-separated) to measure others, e.g. while tuning. */
const LEVELS = (process.env.PGW_BENCH_MEDIA_LEVELS ?? '50,100,200,300,400,500,600,800').split(',').map(Number).filter((n) => n > 0);
const MAX_CALLS = LEVELS[LEVELS.length - 1]!;
const WINDOW_SECONDS = 10;
const SETTLE_SECONDS = 3;
const SETUP_RATE = Number(process.env.PGW_BENCH_MEDIA_SETUP_RATE ?? 50);
/**
 * Where the calls' audio comes from (PGW_BENCH_MEDIA_LOAD):
 * - `farm` (default): tests/bench/sip/rtp-farm.c, one stream per phone, each on its own 20 ms phase
 *   (phones' packet clocks are independent): what a surgery's phones send.
 * - `farm-aligned`: the same streams all on one phase: every call's packet at the same instant, a worst case.
 * - `sipp`: SIPp's rtp_stream in the call scenarios, which also sends in one burst per period (see rtp-farm.c).
 */
const LOAD = (process.env.PGW_BENCH_MEDIA_LOAD ?? 'farm') as 'farm' | 'farm-aligned' | 'sipp';
if (!['farm', 'farm-aligned', 'sipp'].includes(LOAD)) throw new Error(`PGW_BENCH_MEDIA_LOAD must be farm, farm-aligned or sipp, not ${LOAD}`);
const RTP_MIN = 20000;
const RTP_MAX = 29999;
const PACKETS_PER_SECOND = 50; // G.711 at 20 ms ptime
const UAS_PORT = 5070;
const PROBE_UAS_PORT = 5080;
const PROBE_UAC_PORT = 5090;
const PROBE_A = 55000;
const PROBE_B = 55002;
/** The RTP farm's streams: FARM_PORT + n (up to 2 × MAX_CALLS), clear of SIPp's media ports (31000-45999, 50000) and the probe's (55000-55012). */
const FARM_PORT = 56000;
const TARGET_CALLS = 500;
const TARGET_P99_MS = 2;
/** One packet interval: a relay whose median delay is longer is falling behind. */
const KEEP_UP_MS = 20;
const WATCHDOG = ['-watchdog_major_maxtriggers', '1000', '-watchdog_minor_maxtriggers', '100000'];
const here = (f: string): string => fileURLToPath(new URL(`./sip/${f}`, import.meta.url));

interface LevelResult {
  level: number;
  /** Answered calls on the gateway during the window (the probe's call included). */
  answeredCalls: number;
  reached: boolean;
  rtpInPerSecond: number;
  rtpExpectedPerSecond: number;
  /** Packets that came in on one leg and did not go out of the other (Σ in − Σ out over all legs). */
  forwardingLoss: number;
  /** Gaps in the RTP sequence numbers arriving at the gateway (packets lost before it read them). */
  arrivalGaps: number;
  /** Datagrams dropped by the kernel at the gateway's sockets (receive buffer full). */
  gatewaySocketDrops: number;
  /** With the RTP farm: packets missing in what the phones got back, and sends behind schedule. */
  farmGaps: number;
  farmLate: number;
  /** Call legs whose RTP the kernel fast path forwarded at the end of the window, of all answered legs. */
  kernelLegs: number;
  legs: number;
  probe: ProbeWindow;
  /** Per packet: time through the gateway minus that of the direct packet sent with it (p99, p50). */
  addedP99Ms: number;
  addedP50Ms: number;
  /** p99 through the gateway minus the direct path's median: an upper bound that also charges the gateway with the probe's own tail. */
  vsDirectMedianP99Ms: number;
  cpuPercent: number;
  waitingPercent: number;
  /** CPU of everything else in the namespace over the window (the SIPp load generators, the probe): % of one core. */
  loadGeneratorCpuPercent: number;
  rssMb: number;
  loadAverage: number;
  /** Every call up, the load fully offered, and not one packet lost anywhere. */
  /** The load generators delivered the level (SIPp's streams at >= 95 % of the rate; the farm on time). */
  offered: boolean;
  lossFree: boolean;
  /**
   * Loss-free, and the gateway kept up: the median added delay under one packet interval
   * (20 ms) and no more packets in than the calls send (more means it was draining a backlog).
   */
  keepsUp: boolean;
  /** The added p99 is under the target. */
  delayOk: boolean;
  pass: boolean;
  why: string[];
}

type Calls = { calls: CallView[] };

const NO_PATH: PathStats = { sent: 0, received: 0, lost: 0, delayUs: { p50: NaN, p99: NaN, max: NaN, mean: NaN } };

function failedLevel(level: number, why: string): LevelResult {
  return {
    level, answeredCalls: 0, reached: false, rtpInPerSecond: NaN, rtpExpectedPerSecond: NaN, forwardingLoss: NaN, arrivalGaps: NaN, gatewaySocketDrops: NaN, farmGaps: NaN, farmLate: NaN, kernelLegs: NaN, legs: NaN,
    probe: { seconds: 0, aToB: NO_PATH, bToA: NO_PATH, throughGateway: NO_PATH, direct: NO_PATH, reference: NO_PATH, extraReceived: 0, pairedAddedUs: { n: 0, p50: NaN, p99: NaN, max: NaN } },
    addedP99Ms: NaN, addedP50Ms: NaN, vsDirectMedianP99Ms: NaN, cpuPercent: NaN, waitingPercent: NaN, loadGeneratorCpuPercent: NaN, rssMb: NaN, loadAverage: loadavg()[0]!,
    offered: true, lossFree: false, keepsUp: false, delayOk: false, pass: false, why: [why],
  };
}

function legTotals(calls: CallView[]): Map<string, { in: number; out: number; lost: number }> {
  const m = new Map<string, { in: number; out: number; lost: number }>();
  for (const c of calls) for (const l of c.legs) if (l.media) m.set(l.id, { in: l.media.packetsIn, out: l.media.packetsOut, lost: l.media.packetsLost ?? 0 });
  return m;
}

/** Per-socket receive drops (/proc/net/udp `drops`) of the gateway's SIP and RTP ports. */
async function gatewaySocketDrops(netns: string): Promise<Map<number, number>> {
  const r = await nsRun(netns, 'cat', ['/proc/net/udp'], { timeoutMs: 5_000 });
  const out = new Map<number, number>();
  for (const line of r.stdout.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const port = parseInt(f[1]!.split(':')[1]!, 16);
    if (port === 5060 || (port >= RTP_MIN && port <= RTP_MAX)) out.set(port, (out.get(port) ?? 0) + Number(f[f.length - 1]));
  }
  return out;
}

/** CPU ticks (USER_HZ, 100/s) used so far by each process in the namespace. */
async function namespaceTicks(netns: string): Promise<Map<number, number>> {
  const r = await nsRun(undefined, 'ip', ['netns', 'pids', netns], { timeoutMs: 5_000 });
  const out = new Map<number, number>();
  for (const pid of r.stdout.split('\n').map(Number).filter((n) => n > 0)) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      out.set(pid, Number(f[11]) + Number(f[12]));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Set this process's CPUs (all its threads; children started later inherit them). */
function pinSelf(list: string): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', list, String(process.pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset -c ${list}: ${r.error?.message ?? r.stderr}`);
}

/** ns the gateway's threads (main and media workers) spent runnable but waiting for a CPU. */
function schedWait(pid: number): number {
  return processSchedstat(pid)?.wait ?? NaN;
}

const bench: Bench = {
  name: 'sip-media',
  title: 'Concurrent anchored G.711 calls with RTP flowing: loss and added forwarding delay',
  issue: 2,
  timeoutMs: 4 * 60_000,
  async run(ctx): Promise<BenchResult> {
    // PGW_BENCH_MEDIA_PIN=1: the gateway alone on CPUs 1.., everything that stands in for the phones
    // (SIPp, the RTP farm, the probe: children of this process) on CPU 0. Off by default: on this 2-CPU
    // machine one CPU is too few for the load generators, whose lateness then makes bursts (measured).
    const ncpu = cpus().length;
    const pin = ncpu >= 2 && process.env.PGW_BENCH_MEDIA_PIN === '1';
    const gatewayCpus = pin ? `1-${ncpu - 1}` : undefined;
    if (pin) pinSelf('0');
    const callers = makeUsers(MAX_CALLS, { first: 1000 });
    const callees = makeUsers(MAX_CALLS, { first: 5000 });
    const [probeCaller, probeCallee] = makeUsers(2, { first: 9000 }) as [SipUser, SipUser];
    const netns = await createNamespace('bench-media');
    const sipps: SippProcess[] = [];
    let gw: BenchGateway | undefined;
    let probe: RtpProbe | undefined;
    let farm: RtpFarm | undefined;
    const farmBin = LOAD === 'sipp' ? null : buildRtpFarm(ctx.workDir);
    const levels: LevelResult[] = [];
    let idleRssMb = NaN;
    let baseline: ProbeWindow | undefined;
    /** Media worker threads the gateway runs (its log says); 0: forwarding on the main thread. */
    let mediaWorkers = 0;
    try {
      gw = await startBenchGateway({
        netns, dir: join(ctx.workDir, 'gw'), users: [...callers, ...callees, probeCaller, probeCallee],
        rtp: { portMin: RTP_MIN, portMax: RTP_MAX }, cpus: gatewayCpus,
      });
      const g = gw;
      await sleep(2000);
      idleRssMb = startProcSampler({ rootPid: g.pid }).stop().rssMb.max;
      const started = g.logLines().find((l) => l.msg === 'media workers running');
      mediaWorkers = typeof started?.workers === 'number' ? started.workers : 0;
      const dir = (name: string): string => {
        const d = join(ctx.workDir, name);
        mkdirSync(d, { recursive: true });
        return d;
      };
      const answered = async (): Promise<CallView[]> => (await g.api<Calls>('/api/v1/calls')).calls.filter((c) => c.state === 'answered');

      // Far ends: every callee registered from the SIPp UAS's port, which then answers and streams a tone.
      await measureRegisterRate({ target: g.sipTarget, domain: SIP_HOST, users: callees, rate: 300, seconds: MAX_CALLS / 300, workDir: dir('register'), netns, localPort: UAS_PORT });
      await measureRegisterRate({ target: g.sipTarget, domain: SIP_HOST, users: [probeCallee], rate: 1, seconds: 1, workDir: dir('register-probe'), netns, localPort: PROBE_UAS_PORT });
      const registered = (await g.api<{ registrations: number }>('/api/v1/status')).registrations;
      if (registered !== MAX_CALLS + 1) throw new Error(`only ${registered} of ${MAX_CALLS + 1} callees registered`);
      const untilEnd = ctx.deadline - Date.now();
      const uasDir = dir('uas');
      if (LOAD === 'sipp') await makeUlawTone({ path: join(uasDir, 'rtp-tone.ulaw'), freqHz: 1000, seconds: 10 });
      const uas = startSipp({
        // With the farm the far end only answers; the farm plays both phones' audio.
        scenario: sippScenario(LOAD === 'sipp' ? 'uas-answer-rtp.xml' : 'uas-answer.xml'), netns, localIp: SIP_HOST, localPort: UAS_PORT, mediaIp: SIP_HOST, mediaPort: 50000,
        timeoutMs: untilEnd, workDir: uasDir, extraArgs: WATCHDOG,
      });
      sipps.push(uas);
      const probeUas = startSipp({
        scenario: here('uas-probe.xml'), netns, localIp: SIP_HOST, localPort: PROBE_UAS_PORT, mediaIp: SIP_HOST,
        keys: { probe_port: String(PROBE_B) }, timeoutMs: untilEnd, workDir: dir('probe-uas'),
      });
      sipps.push(probeUas);
      await uas.ready;
      await probeUas.ready;

      // The probe's call: its media ends are the probe's own sockets.
      sipps.push(
        startSipp({
          scenario: here('uac-probe.xml'), remote: g.sipTarget, netns, localIp: SIP_HOST, localPort: PROBE_UAC_PORT, mediaIp: SIP_HOST,
          keys: { probe_port: String(PROBE_A) }, calls: 1, rate: 1, timeoutMs: untilEnd, workDir: dir('probe-uac'),
          injectionFile: writeInjectionFile(join(ctx.workDir, 'probe.csv'), [{ ...probeCaller, domain: SIP_HOST, target: probeCallee.user }]),
          extraArgs: ['-d', String(untilEnd)],
        }),
      );
      const probeCall = await waitUntil(async () => (await answered()).find((c) => c.to.number === probeCallee.user && c.legs.every((l) => l.media)), {
        timeoutMs: 10_000, intervalMs: 200, what: "the probe's call to be answered",
      });
      const port = (c: CallView, i: number): number => Number(c.legs[i]!.media!.local.split(':').pop());
      probe = await startRtpProbe({ netns, aPort: PROBE_A, bPort: PROBE_B, gwA: port(probeCall, 0), gwB: port(probeCall, 1) });
      await sleep(1000);
      await probe.window();
      await sleep(5000);
      baseline = await probe.window();
      ctx.log(
        `probe alone: through the gateway p50 ${fmt(baseline.throughGateway.delayUs.p50 / 1000, 3)} ms, p99 ${fmt(baseline.throughGateway.delayUs.p99 / 1000, 3)} ms; ` +
          `direct p99 ${fmt(baseline.direct.delayUs.p99 / 1000, 3)} ms; minimal relay p50 ${fmt(baseline.reference.delayUs.p50 / 1000, 3)} p99 ${fmt(baseline.reference.delayUs.p99 / 1000, 3)} ms`,
      );

      if (farmBin) farm = await startRtpFarm({ netns, host: SIP_HOST, bin: farmBin, phases: LOAD === 'farm-aligned' ? 'aligned' : 'random', basePort: FARM_PORT });
      /** Calls whose two phone streams the farm plays. */
      const farmed = new Set<string>();

      let placed = 0;
      for (const [k, level] of LEVELS.entries()) {
        // Time for this level: the setup ramp, settling and the window, plus the teardown margin.
        const needMs = ((level - placed) / SETUP_RATE + SETTLE_SECONDS + WINDOW_SECONDS + 15) * 1000;
        if (Date.now() + needMs > ctx.deadline - 20_000) {
          ctx.log(`no time left for ${level} calls`);
          break;
        }
        const batch = level - placed;
        const batchDir = dir(`uac-${level}`);
        if (LOAD === 'sipp') await makeUlawTone({ path: join(batchDir, 'rtp-tone.ulaw'), freqHz: 1500, seconds: 10 });
        sipps.push(
          startSipp({
            scenario: here(LOAD === 'sipp' ? 'uac-call-rtp.xml' : 'uac-call-bench.xml'), remote: g.sipTarget, netns, localIp: SIP_HOST, localPort: 5100 + k, mediaIp: SIP_HOST, mediaPort: 31000 + k * 2000,
            injectionFile: writeInjectionFile(
              join(batchDir, 'calls.csv'),
              callers.slice(placed, level).map((c, i) => ({ ...c, domain: SIP_HOST, target: callees[placed + i]!.user })),
            ),
            calls: batch, rate: SETUP_RATE, limit: batch, timeoutMs: ctx.deadline - Date.now(), workDir: batchDir,
            extraArgs: ['-d', String(ctx.deadline - Date.now()), ...WATCHDOG],
          }),
        );
        placed = level;
        const reached = await waitUntil(async () => (await answered()).length >= level + 1, {
          timeoutMs: (batch / SETUP_RATE + 10) * 1000, intervalMs: 500, what: `${level} answered calls`,
        }).then(() => true, () => false);
        if (farm) {
          // Each newly answered call gets its two phones: a stream into each of its legs' gateway ports.
          for (const c of await answered()) {
            if (c.to.number === probeCallee.user || farmed.has(c.id) || !c.legs.every((l) => l.media)) continue;
            farmed.add(c.id);
            for (const [i] of c.legs.entries()) farm.add(port(c, i));
          }
        }
        await sleep(SETTLE_SECONDS * 1000);

        let r: LevelResult;
        try {
          const loadAverage = loadavg()[0]!;
          const before = legTotals(await answered());
          const drops0 = await gatewaySocketDrops(netns);
          const gwPids = new Set(processTree(g.pid));
          const wait0 = [...gwPids].reduce((s, p) => s + schedWait(p), 0);
          const others0 = await namespaceTicks(netns);
          await probe.window();
          const farm0: FarmStats | null = farm ? await farm.stats() : null;
          const sampler = startProcSampler({ rootPid: g.pid, intervalMs: 250 });
          const t0 = Date.now();
          await sleep(WINDOW_SECONDS * 1000);
          const w = await probe.window();
          const farm1: FarmStats | null = farm ? await farm.stats() : null;
          const usage = sampler.stop();
          const seconds = (Date.now() - t0) / 1000;
          const wait1 = [...gwPids].reduce((s, p) => s + schedWait(p), 0);
          const others1 = await namespaceTicks(netns);
          let otherTicks = 0;
          for (const [pid, t] of others1) if (!gwPids.has(pid) && others0.has(pid)) otherTicks += t - others0.get(pid)!;
          const afterCalls = await answered();
          const after = legTotals(afterCalls);
          const drops1 = await gatewaySocketDrops(netns);

          let dIn = 0;
          let dOut = 0;
          let dLost = 0;
          for (const [id, a] of after) {
            const b = before.get(id);
            if (!b) continue; // a leg that appeared during the window: not comparable
            dIn += a.in - b.in;
            dOut += a.out - b.out;
            dLost += a.lost - b.lost;
          }
          let socketDrops = 0;
          for (const [p, n] of drops1) socketDrops += n - (drops0.get(p) ?? 0);
          const answeredCalls = afterCalls.length;
          const legs = afterCalls.flatMap((c) => c.legs);
          const kernelLegs = legs.filter((l) => l.media?.forwarding === 'kernel').length;
          // Each answered call (the probe's too) brings one stream into each of its two legs.
          const expected = answeredCalls * 2 * PACKETS_PER_SECOND;
          const addedP99Ms = w.pairedAddedUs.p99 / 1000;
          const addedP50Ms = w.pairedAddedUs.p50 / 1000;
          const vsDirectMedianP99Ms = (w.throughGateway.delayUs.p99 - w.direct.delayUs.p50) / 1000;
          const why: string[] = [];
          // The probe's call is one of the answered calls.
          if (answeredCalls - 1 < level) why.push(`only ${answeredCalls - 1} of ${level} calls answered${reached ? '' : ' in time'}`);
          // The load generators' own failures: the level was not really offered (it cannot pass), but they do not stop the climb.
          const short: string[] = [];
          if (dIn / seconds < 0.95 * expected) short.push(`RTP in ${fmt(dIn / seconds, 0)}/s, expected ${expected}/s (the load generator fell short)`);
          if (dIn - dOut !== 0) why.push(`${dIn - dOut} packets in but not out`);
          if (dLost > 0) why.push(`${dLost} sequence gaps on arrival`);
          if (socketDrops > 0) why.push(`${socketDrops} datagrams dropped at the gateway's sockets`);
          if (w.throughGateway.lost > 0) why.push(`probe lost ${w.throughGateway.lost} of ${w.throughGateway.sent}`);
          const farmGaps = farm0 && farm1 ? farm1.gaps - farm0.gaps : 0;
          const farmLate = farm0 && farm1 ? farm1.late - farm0.late : 0;
          const farmSent = farm0 && farm1 ? farm1.sent - farm0.sent : 0;
          if (farmGaps > 0) why.push(`${farmGaps} packets missing in what the phones got back`);
          if (farmLate > 0.01 * farmSent) short.push(`the RTP farm sent ${farmLate} of ${farmSent} packets over 1 ms late (the load generator fell behind)`);
          const offered = short.length === 0;
          why.push(...short);
          const lossFree = why.length === 0;
          if (addedP50Ms >= KEEP_UP_MS) why.push(`median added delay ${fmt(addedP50Ms, 1)} ms: not keeping up`);
          // Kernel-forwarded legs' counters move once a second (when the relay reads nft's), so a window's count may hold up to a second more.
          const countSlackS = kernelLegs > 0 ? 1 : 0;
          if (dIn / seconds > 1.05 * expected * ((seconds + countSlackS) / seconds)) why.push(`RTP in ${fmt(dIn / seconds, 0)}/s, more than the ${expected}/s sent: draining a backlog`);
          const keepsUp = why.length === 0;
          const delayOk = addedP99Ms < TARGET_P99_MS;
          if (!delayOk) why.push(`added p99 ${fmt(addedP99Ms, 2)} ms`);
          r = {
            level, answeredCalls, reached,
            rtpInPerSecond: dIn / seconds, rtpExpectedPerSecond: expected,
            forwardingLoss: dIn - dOut, arrivalGaps: dLost, gatewaySocketDrops: socketDrops, farmGaps, farmLate, kernelLegs, legs: legs.length,
            probe: w, addedP99Ms, addedP50Ms, vsDirectMedianP99Ms,
            cpuPercent: usage.cpuPercent, waitingPercent: (100 * (wait1 - wait0)) / (seconds * 1e9),
            loadGeneratorCpuPercent: otherTicks / seconds,
            rssMb: usage.rssMb.max, loadAverage,
            offered, lossFree, keepsUp, delayOk, pass: keepsUp && delayOk, why,
          };
          levels.push(r);
          ctx.log(
            `${level} calls: ${answeredCalls - 1} answered, RTP ${fmt(r.rtpInPerSecond, 0)}/s in (expected ${expected}), in-out ${r.forwardingLoss}, gaps ${dLost}, socket drops ${socketDrops}${farm ? `, phones missing ${farmGaps}, farm late ${farmLate}` : ''}, kernel legs ${kernelLegs}/${legs.length}, ` +
              `probe ${w.throughGateway.received}/${w.throughGateway.sent} p50 ${fmt(w.throughGateway.delayUs.p50 / 1000, 3)} p99 ${fmt(w.throughGateway.delayUs.p99 / 1000, 3)} ms, added per packet p50 ${fmt(addedP50Ms, 3)} p99 ${fmt(addedP99Ms, 3)} ms ` +
              `(direct p50 ${fmt(w.direct.delayUs.p50 / 1000, 3)} p99 ${fmt(w.direct.delayUs.p99 / 1000, 3)}; minimal relay p50 ${fmt(w.reference.delayUs.p50 / 1000, 3)} p99 ${fmt(w.reference.delayUs.p99 / 1000, 3)}), CPU ${fmt(r.cpuPercent, 0)} % (waiting ${fmt(r.waitingPercent, 0)} %; load generators ${fmt(r.loadGeneratorCpuPercent, 0)} %), ` +
              `RSS ${fmt(r.rssMb, 0)} MB, load ${fmt(loadAverage)}: ${r.pass ? 'pass' : `FAIL (${why.join('; ')})`}`,
          );
        } catch (e) {
          // An overloaded gateway may not answer its admin API in time: the level failed, the run goes on to report.
          r = failedLevel(level, `could not be measured: ${(e as Error).message.split('\n')[0]}`);
          levels.push(r);
          ctx.log(`${level} calls: FAIL (${r.why.join('; ')})`);
        }
        // The delay tail is partly the machine's (see the minimal relay): keep climbing while the gateway keeps up
        // (a level the load generators could not offer says nothing about the gateway: climb on).
        if (!r.keepsUp && r.offered) break;
      }
    } finally {
      await probe?.stop().catch(() => undefined);
      await farm?.stop().catch(() => undefined);
      await gw?.stop().catch(() => undefined);
      for (const s of sipps) await s.stop(1000).catch(() => undefined);
      await removeNamespace(netns);
      if (pin) pinSelf(`0-${ncpu - 1}`);
    }

    // The highest level up to which every level the load generators really offered passed.
    let best: LevelResult | undefined;
    for (const l of levels) {
      if (!l.offered) continue;
      if (!l.pass) break;
      best = l;
    }
    const bestKeepingUp = [...levels].reverse().find((l) => l.keepsUp);
    const firstBehind = levels.find((l) => !l.keepsUp && l.offered);
    const bestCalls = best?.level ?? 0;
    const ms = (us: number): string => fmt(us / 1000, 3);
    const notes: string[] = [];
    const relayThreads =
      mediaWorkers > 0
        ? `The relay ran in ${mediaWorkers} media worker thread(s) (device.media.workers), apart from SIP on the main thread`
        : "The relay ran on the gateway's main event loop (device.media.workers 0), with SIP";
    if (firstBehind) {
      notes.push(
        `At ${firstBehind.level} calls: ${firstBehind.why.join('; ')} (gateway CPU ${fmt(firstBehind.cpuPercent, 0)} %, waiting for a CPU ${fmt(firstBehind.waitingPercent, 0)} %, ` +
          `load average ${fmt(firstBehind.loadAverage)}). ${relayThreads}, so its packet rate is bounded by ${Math.max(1, mediaWorkers)} core(s) ` +
          '(shared here with SIPp, which generates all the calls\' audio on the same 2 CPUs).',
      );
    } else if (bestKeepingUp && bestKeepingUp.level < MAX_CALLS) notes.push(`The run stopped at ${bestKeepingUp.level} calls for lack of time, not because the gateway fell behind.`);
    const delayFails = levels.filter((l) => l.keepsUp && !l.delayOk);
    if (delayFails.length > 0) {
      const worstRef = Math.max(...delayFails.map((l) => l.probe.reference.delayUs.p99));
      notes.push(
        `The p99 criterion failed at ${delayFails.map((l) => l.level).join(', ')} calls with no loss and the gateway keeping up. At those levels the minimal relay process, which relays ` +
          `only the probe's 100 packets/s, had a p99 of up to ${ms(worstRef)} ms itself: part of the tail is the wait of a woken process for a CPU on this shared machine ` +
          `(load average ${fmt(Math.min(...delayFails.map((l) => l.loadAverage)))}-${fmt(Math.max(...delayFails.map((l) => l.loadAverage)))} at those levels, 2 CPUs), which any relay pays. ` +
          "The column 'gateway p99 - minimal relay p99' is the part of the tail that is the gateway's own: queueing behind the other calls' " +
          'packets and the rest of its event loop.',
      );
    }
    const kernelShare = levels.filter((l) => l.legs > 0).map((l) => l.kernelLegs / l.legs);
    if (kernelShare.length > 0 && Math.min(...kernelShare) > 0.99) {
      notes.push(
        'Every call was forwarded by the kernel fast path once steady (firmware/src/media/offload, docs/TELEPHONY.md "Kernel fast path"): nftables rewrites each packet in the ingress path of lo ' +
          'and delivers it to the other phone, so the added delay is the kernel\'s, not an event loop\'s, and the gateway\'s CPU is what reading the counters once a second costs. ' +
          'The p99 left is mostly the probe\'s own wait for a CPU, which the direct path shows too.',
      );
    } else {
      notes.push(
        `${relayThreads}. Each forwards a packet in the socket callback it arrived in (firmware/src/media/relay/media-leg.ts: the header is rewritten in place and the same buffer is sent), ` +
          'so the added delay is one pass through that event loop; its tail grows with the other packets that loop handles at the same moment, its GC, and the wait for a CPU on a busy machine.',
      );
    }
    return {
      figures: [
        {
          label: `concurrent anchored G.711 calls with RTP both ways, no loss and p99 added delay < ${TARGET_P99_MS} ms`,
          value: bestCalls, unit: 'calls', target: `>= ${TARGET_CALLS}`, met: bestCalls >= TARGET_CALLS,
        },
        {
          label: `concurrent anchored G.711 calls with RTP both ways, no loss, the gateway keeping up (median added delay < ${KEEP_UP_MS} ms), whatever the p99`,
          value: bestKeepingUp?.level ?? 0, unit: 'calls',
        },
        { label: 'at that level: RTP packets per second into the gateway (as many go out)', value: bestKeepingUp ? Math.round(bestKeepingUp.rtpInPerSecond) : '-', unit: '/s' },
        {
          label: 'at that level: added forwarding delay p50 / p99 (per packet: through the gateway minus the direct packet sent with it)',
          value: bestKeepingUp ? `${fmt(bestKeepingUp.addedP50Ms, 3)} / ${fmt(bestKeepingUp.addedP99Ms, 3)}` : '-', unit: 'ms', target: `p99 < ${TARGET_P99_MS}`,
          ...(bestKeepingUp ? { met: bestKeepingUp.delayOk } : {}),
        },
        {
          label: 'at that level: one-way time through the gateway / through the minimal relay process, p99',
          value: bestKeepingUp ? `${ms(bestKeepingUp.probe.throughGateway.delayUs.p99)} / ${ms(bestKeepingUp.probe.reference.delayUs.p99)}` : '-', unit: 'ms',
        },
        ...(best && best !== bestKeepingUp
          ? [{ label: `at ${best.level} calls (the highest level meeting both): added delay p50 / p99`, value: `${fmt(best.addedP50Ms, 3)} / ${fmt(best.addedP99Ms, 3)}`, unit: 'ms' }]
          : []),
        {
          label: 'with only the probe call up: through the gateway / through the minimal relay process, p50 / p99',
          value: baseline
            ? `${ms(baseline.throughGateway.delayUs.p50)} / ${ms(baseline.throughGateway.delayUs.p99)} vs ${ms(baseline.reference.delayUs.p50)} / ${ms(baseline.reference.delayUs.p99)}`
            : '-',
          unit: 'ms',
        },
        { label: `resident memory idle (${2 * MAX_CALLS + 2} extensions)`, value: Number.isFinite(idleRssMb) ? Math.round(idleRssMb) : '-', unit: 'MB', target: '< 150', ...(Number.isFinite(idleRssMb) ? { met: idleRssMb < 150 } : {}) },
        { label: 'resident memory at that level', value: bestKeepingUp ? Math.round(bestKeepingUp.rssMb) : '-', unit: 'MB' },
      ],
      method: [
        LOAD === 'sipp'
          ? `Calls: SIPp callers (tests/bench/sip/uac-call-rtp.xml: PCMU offer, digest auth, then a PCMU tone streamed with rtp_stream from the call's own RTP port) call extensions registered by one SIPp far end ` +
            `(tests/sipp/uas-answer-rtp.xml, which streams a tone back): every call is a B2BUA call with both legs anchored on the gateway (pass-through, PCMU on both legs), ${PACKETS_PER_SECOND} packets/s each way on each leg. ` +
            "SIPp's rtp_stream wakes every stream of a SIPp process on one 20 ms grid and waits for each stream's reply before its next send, so the packets of all calls arrive in bursts, not spread over the period."
          : `Calls: SIPp callers (tests/bench/sip/uac-call-bench.xml: PCMU offer, digest auth) call extensions registered by one SIPp far end (tests/sipp/uas-answer.xml); every call is a B2BUA call with both legs anchored on the gateway (pass-through, PCMU on both legs). ` +
            `The phones' audio comes from tests/bench/sip/rtp-farm.c (built with cc -O2 at the start of the run): once a call is answered, one stream into each of its two legs' gateway ports, a 172-byte PCMU packet every 20 ms, ${PACKETS_PER_SECOND} packets/s each way on each leg; ` +
            (LOAD === 'farm'
              ? 'each stream on its own phase, uniform in the 20 ms period, as independent phones send (SIPp\'s rtp_stream sends all calls\' packets in one burst per period: run with PGW_BENCH_MEDIA_LOAD=sipp or farm-aligned for that worst case). '
              : 'all streams on the same phase: every call\'s packet at the same instant, a worst case no group of independent phones produces. ') +
            'The farm counts the packets that come back to each phone and the gaps in their sequence numbers.',
        `Calls are added in batches (one SIPp per batch, ${SETUP_RATE} calls/s) to reach each level (${LEVELS.join(', ')}) and held; ${SETTLE_SECONDS} s after a level is reached, a ${WINDOW_SECONDS} s window is measured.`,
        'Loss, from the gateway (GET /api/v1/calls, the relay\'s per-leg counters, at the start and end of the window): packets in minus packets out over all legs (every packet in on one leg must leave on the other), ' +
          'the sequence-number gaps of what arrived, and the kernel\'s receive-buffer drops at the gateway\'s SIP and RTP sockets (/proc/net/udp in the namespace). ' +
          'A level also fails if the load generator did not deliver >= 95 % of the expected packets (then the level was not really offered). ' +
          'With the kernel fast path (device.media.kernelForwarding auto, the default; column "legs in the kernel"), a steady call\'s packets are forwarded by nftables and its counters come from the kernel\'s per-flow counts, so "in - out" is zero by construction for those legs: ' +
          'the proof of no loss is then the phones\' own count of missing sequence numbers (the RTP farm) and the probe\'s lost packets. Those counters move once a second, so the backlog rule allows a window one second more of packets when legs are in the kernel.',
        `Delay, measured directly: one extra call whose two media ends are sockets of a probe process (tests/bench/sip/rtp-probe.ts, in the namespace) sends a timestamped PCMU packet every 20 ms into leg A and leg B; ` +
          'the gateway relays them out of the other leg to the probe, which takes the time from send to receive on CLOCK_MONOTONIC (a packet not back within 2 s counts as lost). The same packets also go over a direct loopback path (no gateway) at the same instants. ' +
          'Added delay, per packet: its time through the gateway minus the time of the direct packet the probe sent in the same tick (what both paths pay alike, the probe\'s own wait for a CPU to send and to read, cancels out; the gateway is charged with everything it adds, its wait for a CPU included). ' +
          'The column "gateway p99 - direct median" is the older, cruder estimate (it also charges the gateway with the probe\'s tail). The calls figure is the highest level up to which every level passed. A level passes when nothing was lost, the gateway kept up (median added delay under one packet interval, 20 ms, ' +
          'and no more packets in than the calls sent, which would mean it was draining a backlog), and the added p99 is under 2 ms. The climb goes on while the gateway keeps up, whatever the p99. ' +
          'For comparison the probe also times a path through tests/bench/sip/udp-relay.ts, the smallest relay Node can be, in a process of its own: what any user-space relay costs on this machine at that moment.',
        (pin
          ? `The gateway runs on CPU${ncpu > 2 ? 's' : ''} ${gatewayCpus} only and everything that stands in for the phones (SIPp, the RTP farm, the probe and the minimal relay) on CPU 0 (taskset): on a box the phones are other devices, so their CPU is not the gateway's to share. `
          : 'The gateway and the load generators share the CPUs (no pinning; the RTP farm runs at nice -15, as phones keep their own time, the gateway\'s media worker at -10). ') +
        `The gateway as built (dist/cli.js and dist/media-worker.js, log level info, device.media.workers ${process.env.PGW_BENCH_MEDIA_WORKERS || 'auto'}: ${mediaWorkers} media worker thread(s) on this machine) alone in a namespace with only lo; RTP pool 20000-29999. CPU (all threads) and memory of the gateway from /proc over each window; "waiting" = its threads (main and media workers) runnable but not running (/proc/PID/task/*/schedstat).`,
      ],
      tables: [
        {
          caption: 'Levels:',
          columns: [
            'calls', 'answered', 'RTP in /s (expected)', 'in - out', 'arrival gaps', 'socket drops', 'legs in the kernel', 'probe lost/sent', 'through the gateway p50 / p99 / max ms',
            'direct p50 / p99 ms', 'minimal relay p50 / p99 ms', 'added per packet p50 / p99 ms', 'gateway p99 - direct median ms', 'gateway p99 - minimal relay p99 ms', 'gateway CPU %', 'waiting for a CPU %', 'load generators CPU %', 'RSS MB', 'load avg', 'phones: missing / farm late', 'pass',
          ],
          rows: levels.map((l) => [
            l.level, l.answeredCalls - 1, `${fmt(l.rtpInPerSecond, 0)} (${l.rtpExpectedPerSecond})`, l.forwardingLoss, l.arrivalGaps, l.gatewaySocketDrops,
            `${l.kernelLegs}/${l.legs}`,
            `${l.probe.throughGateway.lost}/${l.probe.throughGateway.sent}`,
            `${ms(l.probe.throughGateway.delayUs.p50)} / ${ms(l.probe.throughGateway.delayUs.p99)} / ${ms(l.probe.throughGateway.delayUs.max)}`,
            `${ms(l.probe.direct.delayUs.p50)} / ${ms(l.probe.direct.delayUs.p99)}`,
            `${ms(l.probe.reference.delayUs.p50)} / ${ms(l.probe.reference.delayUs.p99)}`,
            `${fmt(l.addedP50Ms, 3)} / ${fmt(l.addedP99Ms, 3)}`,
            fmt(l.vsDirectMedianP99Ms, 3),
            fmt((l.probe.throughGateway.delayUs.p99 - l.probe.reference.delayUs.p99) / 1000, 3),
            fmt(l.cpuPercent, 0), fmt(l.waitingPercent, 0), fmt(l.loadGeneratorCpuPercent, 0), fmt(l.rssMb, 0), fmt(l.loadAverage),
            LOAD === 'sipp' ? '-' : `${l.farmGaps} / ${l.farmLate}`, l.pass ? 'yes' : `no: ${l.why.join('; ')}`,
          ]),
        },
      ],
      notes,
      data: { idleRssMb, baseline, levels },
    };
  },
};

export default bench;
