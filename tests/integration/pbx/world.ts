/**
 * The world most PBX integration tests share: a gateway in namespace `gw`,
 * desk phones (baresip) in namespace `lan`, linked by one veth pair. Each
 * phone plays its own tone and records what it hears.
 *
 * With `secondLan`, a namespace `lan2` is linked to the gateway too, on its
 * own subnet: a phone there is reached through another of the gateway's
 * addresses (`gwAddr2`), as a multi-homed box sees it.
 *
 * SIPp peers live in `lan` too. A SIPp UAS stands in for an extension: it
 * first REGISTERs (register-auth.xml) from the very port it will then listen
 * on, because the gateway sends calls where a REGISTER came from (contact
 * latching, location-service.ts), not to the Contact it names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTone } from '../../support/audio.js';
import { BaresipPhone, type AnswerMode } from '../../support/baresip.js';
import { startGateway, testPractice, type GatewayUnderTest, type TestExtension } from '../../support/gateway.js';
import { createTopology, type Topology } from '../../support/netns.js';
import { forwardTcpFromNamespace, getJsonOverSocket, type NsForward } from '../../support/ns-forward.js';
import { runSipp, sippScenario, startSipp, type SippProcess, type SippResult } from '../../support/sipp.js';
import { writeInjectionFile } from '../../support/users.js';

export const EXTENSIONS: TestExtension[] = [
  { number: '201', name: 'Reception 1', password: 'pw-201-secret' },
  { number: '202', name: 'Reception 2', password: 'pw-202-secret' },
  { number: '203', name: 'Reception 3', password: 'pw-203-secret' },
  { number: '301', name: 'Dr Okafor', password: 'pw-301-secret' },
  { number: '204', name: 'Reception 4', password: 'pw-204-secret' },
  { number: '205', name: 'Reception 5', password: 'pw-205-secret' },
];

export interface SippPeerOptions {
  /** A scenario file name in tests/sipp/. */
  scenario: string;
  /** The extension SIPp acts as (its credentials come from EXTENSIONS). */
  ext: string;
  /** SIPp's SIP port in `lan`. */
  port: number;
  extraArgs?: string[];
  traceMessages?: boolean;
  timeoutMs?: number;
  /** -mp: SIPp's RTP port (default port + 1000). */
  mediaPort?: number;
}

export interface PbxWorld {
  dir: string;
  topo: Topology;
  gw: GatewayUnderTest;
  /** The gateway's address on the LAN. */
  gwAddr: string;
  lanAddr: string;
  /** With `secondLan`: the gateway's address facing `lan2`, and `lan2`'s own. */
  gwAddr2: string | null;
  lan2Addr: string | null;
  phones: BaresipPhone[];
  /** A baresip desk phone in `lan` (or, `on: 'lan2'`, in the second LAN, registered to the gateway's address there). */
  phone(opts: {
    name: string;
    ext: string;
    freqHz: number;
    answerMode?: AnswerMode;
    password?: string;
    sipPort: number;
    transport?: 'udp' | 'tcp';
    on?: 'lan' | 'lan2';
  }): Promise<BaresipPhone>;
  /** A SIPp injection file for `ext` (credentials from EXTENSIONS) calling `target`. */
  injection(ext: string, target?: string, password?: string): string;
  /** Registers `ext` from SIPp at lan:`port` (register-auth.xml); resolves with the run's result. */
  sippRegister(opts: { ext: string; port: number; password?: string }): Promise<SippResult>;
  /** Registers `ext` from `port`, then runs a SIPp UAS scenario there (stopped by close()). */
  sippUas(opts: SippPeerOptions): Promise<SippProcess>;
  /** Runs a SIPp UAC scenario as `ext` calling `target` to completion. */
  sippUac(opts: SippPeerOptions & { target: string }): Promise<SippResult>;
  /** GET on the gateway's admin API (127.0.0.1:8080 in its namespace), parsed JSON. */
  api<T>(path: string): Promise<T>;
  /** Resolves with the gateway's `call ended` log line that matches. */
  callEnded(match?: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function createPbxWorld(opts: {
  subnet: string;
  /** A second LAN (namespace `lan2`) on this subnet, linked to the gateway. */
  secondLan?: string;
  practice?: Record<string, unknown>;
  logLevel?: 'debug' | 'info';
}): Promise<PbxWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-pbx-'));
  const topo = await createTopology({
    nodes: ['gw', 'lan', ...(opts.secondLan ? ['lan2'] : [])],
    links: [{ a: 'gw', b: 'lan', subnet: opts.subnet }, ...(opts.secondLan ? [{ a: 'gw', b: 'lan2', subnet: opts.secondLan }] : [])],
  });
  const phones: BaresipPhone[] = [];
  const sipps: SippProcess[] = [];
  let gw: GatewayUnderTest | undefined;
  let fwd: NsForward | null = null;
  const close = async (): Promise<void> => {
    await fwd?.close().catch(() => undefined);
    for (const p of phones) await p.stop().catch(() => undefined);
    for (const s of sipps) await s.stop(1_000).catch(() => undefined);
    await gw?.stop().catch(() => undefined);
    await topo.destroy();
    if (!process.env.PGW_KEEP_TEST_FILES) rmSync(dir, { recursive: true, force: true });
  };
  try {
    gw = await startGateway({
      topo,
      node: 'gw',
      dir: join(dir, 'gw'),
      practice: opts.practice ?? testPractice({ extensions: EXTENSIONS }),
      logLevel: opts.logLevel ?? 'info',
    });
  } catch (e) {
    await close();
    throw e;
  }
  const gwAddr = topo.addr('gw', 'lan');
  const lanAddr = topo.addr('lan', 'gw');
  const gwAddr2 = opts.secondLan ? topo.addr('gw', 'lan2') : null;
  const lan2Addr = opts.secondLan ? topo.addr('lan2', 'gw') : null;
  const started = gw;
  let files = 0;
  const injection = (ext: string, target?: string, password?: string): string => {
    const e = EXTENSIONS.find((x) => x.number === ext);
    return writeInjectionFile(join(dir, `inf-${++files}.csv`), [
      { user: ext, password: password ?? e?.password ?? 'none', domain: gwAddr, ...(target !== undefined ? { target } : {}) },
    ]);
  };
  const sippRegister = (o: { ext: string; port: number; password?: string }): Promise<SippResult> =>
    runSipp({
      scenario: sippScenario('register-auth.xml'),
      remote: `${gwAddr}:5060`,
      netns: topo.ns('lan'),
      localIp: lanAddr,
      localPort: o.port,
      injectionFile: injection(o.ext, undefined, o.password),
      calls: 1,
      timeoutMs: 10_000,
    });
  const api = async <T,>(path: string): Promise<T> => {
    fwd ??= await forwardTcpFromNamespace({ netns: topo.ns('gw'), host: '127.0.0.1', port: 8080 });
    return getJsonOverSocket<T>(fwd.socketPath, path);
  };
  return {
    api,
    dir,
    topo,
    gw,
    gwAddr,
    lanAddr,
    gwAddr2,
    lan2Addr,
    phones,
    close,
    injection,
    sippRegister,
    sippUas: async (o) => {
      const reg = await sippRegister({ ext: o.ext, port: o.port });
      if (!reg.ok) throw new Error(`SIPp could not register ${o.ext}:\n${reg.report}`);
      const uas = startSipp({
        scenario: sippScenario(o.scenario),
        netns: topo.ns('lan'),
        localIp: lanAddr,
        localPort: o.port,
        mediaIp: lanAddr,
        mediaPort: o.mediaPort ?? o.port + 1000,
        service: o.ext,
        calls: 1,
        timeoutMs: o.timeoutMs ?? 30_000,
        ...(o.traceMessages ? { traceMessages: true } : {}),
        ...(o.extraArgs ? { extraArgs: o.extraArgs } : {}),
      });
      sipps.push(uas);
      await uas.ready;
      return uas;
    },
    sippUac: (o) =>
      runSipp({
        // SIPp's digest uri is sip:<remote ip>:<port> unless told; the gateway
        // (digest-server.ts) wants the Request-URI's user and host there.
        extraArgs: ['-auth_uri', `${o.target}@${gwAddr}`, ...(o.extraArgs ?? [])],
        scenario: sippScenario(o.scenario),
        remote: `${gwAddr}:5060`,
        netns: topo.ns('lan'),
        localIp: lanAddr,
        localPort: o.port,
        mediaIp: lanAddr,
        mediaPort: o.mediaPort ?? o.port + 1000,
        injectionFile: injection(o.ext, o.target),
        calls: 1,
        timeoutMs: o.timeoutMs ?? 30_000,
        ...(o.traceMessages ? { traceMessages: true } : {}),
      }),
    callEnded: (match = () => true, timeoutMs = 10_000) => started.waitForLog((l) => l.msg === 'call ended' && match(l), timeoutMs),
    phone: async (p) => {
      const ext = EXTENSIONS.find((e) => e.number === p.ext);
      const on = p.on ?? 'lan';
      if (on === 'lan2' && !lan2Addr) throw new Error('this world has no second LAN (createPbxWorld secondLan)');
      const phone = await BaresipPhone.start({
        name: p.name,
        netns: topo.ns(on),
        listenIp: on === 'lan2' ? lan2Addr! : lanAddr,
        sipPort: p.sipPort,
        user: p.ext,
        registrar: { host: on === 'lan2' ? gwAddr2! : gwAddr, port: 5060, password: p.password ?? ext?.password ?? 'none', regintSec: 300, transport: p.transport ?? 'udp' },
        toneWav: await makeTone({ path: join(dir, `${p.name}.wav`), freqHz: p.freqHz, seconds: 60 }),
        workDir: join(dir, p.name),
        answerMode: p.answerMode ?? 'auto',
        sipTrace: true,
      });
      phones.push(phone);
      return phone;
    },
  };
}

/**
 * The usual two-phone call: alice (201, 1 kHz tone, port 5060) and bob (202,
 * 1.5 kHz, port 5070) register, alice dials 202, both see the call up.
 */
export async function aliceCallsBob(w: PbxWorld): Promise<{ alice: BaresipPhone; bob: BaresipPhone }> {
  const alice = await w.phone({ name: 'alice', ext: '201', freqHz: 1000, sipPort: 5060 });
  const bob = await w.phone({ name: 'bob', ext: '202', freqHz: 1500, sipPort: 5070 });
  await alice.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
  await bob.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
  await alice.dial(`sip:202@${w.gwAddr}`);
  await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
  await bob.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
  return { alice, bob };
}
