/**
 * The world of the uplink tests and benchmarks (issue 6), all in namespaces:
 *
 *        lan (desk phones)             cloud (SBC peer over HSCN)
 *   alice 201, bob 202,          Kamailio: OPTIONS 200; sends 999/112 and
 *   carol 203, dave 204  ──┐     +44… to its far end; extensions and the
 *                          │     practice DID to the gateway
 *                          │     (but refuses 112 and drops 911: a
 *                          │     broken emergency route, tried elsewhere)
 *                        ┌─┴──┐        │
 *                        │ gw │────────┘  HSCN link (to-cloud)
 *                        └─┬──┘
 *                          │  WAN link (to-trunk)
 *                        trunk (a carrier's registrar and proxy)
 *                          Kamailio: digest on REGISTER and INVITE (407);
 *                          999/112 and +44… to its far end; the practice
 *                          DIDs to the gateway's registered contact
 *
 * Each far end is a baresip phone registered to its Kamailio as `farend`,
 * auto-answering and playing its own tone; every desk phone plays its own
 * tone too, so who heard whom is checked by frequency.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTone } from '../../support/audio.js';
import { BaresipPhone, type AnswerMode } from '../../support/baresip.js';
import { startGateway, testPractice, type GatewayUnderTest, type TestExtension } from '../../support/gateway.js';
import { startKamailio, type KamailioProcess } from '../../support/kamailio.js';
import { createTopology, type Topology } from '../../support/netns.js';
import { forwardTcpFromNamespace, getJsonOverSocket, type NsForward } from '../../support/ns-forward.js';
import { waitUntil } from '../../support/proc.js';

export const EXTENSIONS: TestExtension[] = [
  { number: '201', name: 'Reception 1', password: 'pw-201-secret' },
  { number: '202', name: 'Reception 2', password: 'pw-202-secret' },
  { number: '203', name: 'Reception 3', password: 'pw-203-secret' },
  { number: '204', name: 'Dr Okafor', password: 'pw-204-secret' },
];

export const MAIN_NUMBER = '+441632960000';
/** Owned by the practice: reaches hunt group 600. */
export const PRACTICE_DID = MAIN_NUMBER;
/** A number the far ends answer as (any +44 number does). */
export const FAR_NUMBER_NATIONAL = '01632960123';
export const TRUNK_USER = 'riverside';
export const TRUNK_PASSWORD = 'trunk-secret-9Jd';

/** An extra emergency number of the test practice, which the cloud SBC swallows without a word. */
export const SILENT_EMERGENCY = '911';

export const TONES = { alice: 1000, bob: 1500, carol: 600, dave: 1800, cloudFar: 700, trunkFar: 1200 } as const;

export interface UplinkWorldOptions {
  /** A /16-ish base: links use base.1.0/24 (lan), base.2.0/24 (hscn), base.3.0/24 (wan). */
  net: string;
  probe: { intervalMs: number; failAfter: number; recoverAfterMs: number };
  /** Which desk phones to start (default all four). */
  phones?: Array<'alice' | 'bob' | 'carol' | 'dave'>;
  /** alice's answer mode (default manual: she rings in the hunt group without answering). */
  aliceAnswer?: AnswerMode;
  /**
   * The cloud uplink's mode (default trunk). register: every extension has a
   * cloud account `rs-EXT` the gateway registers upstream, and the cloud
   * challenges INVITEs like a carrier.
   */
  cloudMode?: 'trunk' | 'register';
  logLevel?: 'debug' | 'info';
}

export interface GatewayStatusView {
  mode: string;
  uplinks: Array<{ name: string; state: string }>;
  activeCalls: number;
}

export interface UplinkWorld {
  dir: string;
  topo: Topology;
  gw: GatewayUnderTest;
  addr: { gwLan: string; gwHscn: string; gwWan: string; cloud: string; trunk: string; lan: string };
  phones: Record<string, BaresipPhone>;
  cloudFar: BaresipPhone;
  trunkFar: BaresipPhone;
  cloudSbc: KamailioProcess;
  trunkProvider: KamailioProcess;
  /** GET /api/v1/status from inside the gateway's namespace. */
  status(): Promise<GatewayStatusView>;
  /** Resolves with the wall-clock ms of the gateway's log line for the next change to `mode` after `sinceMs`. */
  waitForMode(mode: 'normal' | 'survivability', sinceMs: number, timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

const LAN_PHONES: Record<'alice' | 'bob' | 'carol' | 'dave', { ext: string; port: number }> = {
  alice: { ext: '201', port: 5060 },
  bob: { ext: '202', port: 5070 },
  carol: { ext: '203', port: 5080 },
  dave: { ext: '204', port: 5090 },
};

export async function createUplinkWorld(o: UplinkWorldOptions): Promise<UplinkWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-uplinks-'));
  const topo = await createTopology({
    nodes: ['gw', 'lan', 'cloud', 'trunk'],
    links: [
      { a: 'gw', b: 'lan', subnet: `${o.net}.1.0/24` },
      { a: 'gw', b: 'cloud', subnet: `${o.net}.2.0/24` },
      { a: 'gw', b: 'trunk', subnet: `${o.net}.3.0/24` },
    ],
  });
  const addr = {
    gwLan: topo.addr('gw', 'lan'),
    gwHscn: topo.addr('gw', 'cloud'),
    gwWan: topo.addr('gw', 'trunk'),
    cloud: topo.addr('cloud', 'gw'),
    trunk: topo.addr('trunk', 'gw'),
    lan: topo.addr('lan', 'gw'),
  };
  const phones: Record<string, BaresipPhone> = {};
  const kams: KamailioProcess[] = [];
  let gw: GatewayUnderTest | undefined;
  let fwd: NsForward | undefined;
  const close = async (): Promise<void> => {
    await Promise.all(Object.values(phones).map((p) => p.stop().catch(() => undefined)));
    await gw?.stop().catch(() => undefined);
    for (const k of kams) await k.stop().catch(() => undefined);
    await fwd?.close().catch(() => undefined);
    await topo.destroy();
    if (!process.env.PGW_KEEP_TEST_FILES) rmSync(dir, { recursive: true, force: true });
  };
  try {
    // The cloud SBC: extensions and the practice DID go to the gateway; public numbers and 999/112 to its far end.
    const register = o.cloudMode === 'register';
    const cloudSbc = await startKamailio({
      netns: topo.ns('cloud'),
      listenIp: addr.cloud,
      proxy: true,
      challengeInvites: register,
      users: [{ user: 'farend', password: 'farend-pw' }, ...(register ? EXTENSIONS.map((e) => ({ user: cloudUser(e.number), password: cloudPassword(e.number) })) : [])],
      workDir: mkdirp(join(dir, 'kam-cloud')),
      extraRequestRoute: `
  if (is_method("INVITE") && !has_totag()) {
    # A broken emergency route on the cloud: 112 refused, ${SILENT_EMERGENCY} never answered.
    if ($rU == "112") { sl_send_reply("503", "Emergency Route Unavailable"); exit; }
    if ($rU == "${SILENT_EMERGENCY}") { drop; }
    if ($rU == "999" || $rU =~ "^[+]44") {
      if ($rU != "${PRACTICE_DID}") { $rU = "farend"; }
    }
    if ($rU =~ "^[0-9][0-9][0-9]$" || $rU == "${PRACTICE_DID}") {
      record_route();
      $du = "sip:${addr.gwHscn}:5060";
      t_relay();
      exit;
    }
  }`,
    });
    kams.push(cloudSbc);
    // The carrier: challenges REGISTER and INVITE; the practice DIDs go to the gateway's registration.
    const trunkProvider = await startKamailio({
      netns: topo.ns('trunk'),
      listenIp: addr.trunk,
      proxy: true,
      challengeInvites: true,
      users: [
        { user: TRUNK_USER, password: TRUNK_PASSWORD },
        { user: 'farend', password: 'farend-pw' },
      ],
      workDir: mkdirp(join(dir, 'kam-trunk')),
      extraRequestRoute: `
  if (is_method("INVITE") && !has_totag()) {
    if ($rU =~ "^[+]4416329600[0-9][0-9]$") {
      $rU = "${TRUNK_USER}";
    } else if ($rU == "999" || $rU == "112" || $rU == "${SILENT_EMERGENCY}" || $rU =~ "^[+]44") {
      $rU = "farend";
    }
  }`,
    });
    kams.push(trunkProvider);

    gw = await startGateway({
      topo,
      node: 'gw',
      dir: join(dir, 'gw'),
      device: { interfaces: { lan: topo.iface('gw', 'lan'), hscn: topo.iface('gw', 'cloud'), wan: topo.iface('gw', 'trunk') } },
      logLevel: o.logLevel ?? 'info',
      practice: testPractice({
        extensions: register
          ? EXTENSIONS.map((e) => ({ ...e, cloudAccount: { username: cloudUser(e.number), password: cloudPassword(e.number) } }))
          : EXTENSIONS,
        huntGroups: [{ number: '600', name: 'Reception', strategy: 'ring-all', members: ['201', '204'], ringSeconds: 30 }],
        extra: {
          site: { name: 'Test Surgery', timezone: 'Europe/London', mainNumber: MAIN_NUMBER },
          uplinks: {
            cloud: { proxy: `sip:${addr.cloud}:5060`, probe: o.probe, ...(register ? { mode: 'register', registerExpires: 120 } : {}) },
            trunks: [
              {
                name: 'backup',
                registrar: `sip:${addr.trunk}:5060`,
                username: TRUNK_USER,
                password: TRUNK_PASSWORD,
                callerId: MAIN_NUMBER,
                probe: o.probe,
              },
            ],
          },
          inbound: [{ did: PRACTICE_DID, destination: '600' }],
          emergency: { numbers: ['999', '112', SILENT_EMERGENCY] },
        },
      }),
    });

    const far = async (name: string, node: 'cloud' | 'trunk', registrar: string, freqHz: number): Promise<BaresipPhone> => {
      const p = await BaresipPhone.start({
        name,
        netns: topo.ns(node),
        listenIp: topo.addr(node, 'gw'),
        sipPort: 5070,
        user: 'farend',
        registrar: { host: registrar, port: 5060, password: 'farend-pw', regintSec: 300 },
        toneWav: await makeTone({ path: join(dir, `${name}.wav`), freqHz, seconds: 120 }),
        workDir: join(dir, name),
        answerMode: 'auto',
        sipTrace: true,
      });
      phones[name] = p;
      return p;
    };
    const cloudFar = await far('cloudFar', 'cloud', addr.cloud, TONES.cloudFar);
    const trunkFar = await far('trunkFar', 'trunk', addr.trunk, TONES.trunkFar);

    for (const name of o.phones ?? (['alice', 'bob', 'carol', 'dave'] as const)) {
      const spec = LAN_PHONES[name];
      const ext = EXTENSIONS.find((e) => e.number === spec.ext)!;
      phones[name] = await BaresipPhone.start({
        name,
        netns: topo.ns('lan'),
        listenIp: addr.lan,
        sipPort: spec.port,
        user: spec.ext,
        registrar: { host: addr.gwLan, port: 5060, password: ext.password, regintSec: 300 },
        toneWav: await makeTone({ path: join(dir, `${name}.wav`), freqHz: TONES[name], seconds: 120 }),
        workDir: join(dir, name),
        answerMode: name === 'alice' ? (o.aliceAnswer ?? 'manual') : 'auto',
        sipTrace: true,
      });
    }
    for (const p of Object.values(phones)) await p.waitFor('REGISTER_OK', { timeoutMs: 10_000 });

    fwd = await forwardTcpFromNamespace({ netns: topo.ns('gw'), host: '127.0.0.1', port: 8080 });
    const socketPath = fwd.socketPath;
    const status = (): Promise<GatewayStatusView> => getJsonOverSocket<GatewayStatusView>(socketPath, '/api/v1/status');
    const g = gw;
    const waitForMode = async (mode: 'normal' | 'survivability', sinceMs: number, timeoutMs = 15_000): Promise<number> => {
      const line = await waitUntil(
        () =>
          g.logs().find((l) => typeof l.msg === 'string' && l.msg.startsWith(`mode ${mode}`) && Date.parse(String(l.time)) >= sinceMs),
        { timeoutMs, what: `mode ${mode}`, intervalMs: 20 },
      );
      return Date.parse(String(line.time));
    };
    return { dir, topo, gw, addr, phones, cloudFar, trunkFar, cloudSbc, trunkProvider, status, waitForMode, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** register mode: the extension's account on the cloud platform. */
export function cloudUser(ext: string): string {
  return `rs-${ext}`;
}

function cloudPassword(ext: string): string {
  return `cloud-${ext}-pw`;
}

function mkdirp(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}
