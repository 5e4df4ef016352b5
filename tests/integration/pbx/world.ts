/**
 * The world most PBX integration tests share: a gateway in namespace `gw`,
 * desk phones (baresip) in namespace `lan`, linked by one veth pair. Each
 * phone plays its own tone and records what it hears.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTone } from '../../support/audio.js';
import { BaresipPhone, type AnswerMode } from '../../support/baresip.js';
import { startGateway, testPractice, type GatewayUnderTest, type TestExtension } from '../../support/gateway.js';
import { createTopology, type Topology } from '../../support/netns.js';

export const EXTENSIONS: TestExtension[] = [
  { number: '201', name: 'Reception 1', password: 'pw-201-secret' },
  { number: '202', name: 'Reception 2', password: 'pw-202-secret' },
  { number: '203', name: 'Reception 3', password: 'pw-203-secret' },
  { number: '301', name: 'Dr Okafor', password: 'pw-301-secret' },
];

export interface PbxWorld {
  dir: string;
  topo: Topology;
  gw: GatewayUnderTest;
  /** The gateway's address on the LAN. */
  gwAddr: string;
  lanAddr: string;
  phones: BaresipPhone[];
  phone(opts: { name: string; ext: string; freqHz: number; answerMode?: AnswerMode; password?: string; sipPort: number; transport?: 'udp' | 'tcp' }): Promise<BaresipPhone>;
  close(): Promise<void>;
}

export async function createPbxWorld(opts: { subnet: string; practice?: Record<string, unknown>; logLevel?: 'debug' | 'info' } ): Promise<PbxWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-pbx-'));
  const topo = await createTopology({ nodes: ['gw', 'lan'], links: [{ a: 'gw', b: 'lan', subnet: opts.subnet }] });
  const phones: BaresipPhone[] = [];
  let gw: GatewayUnderTest | undefined;
  const close = async (): Promise<void> => {
    for (const p of phones) await p.stop().catch(() => undefined);
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
  return {
    dir,
    topo,
    gw,
    gwAddr,
    lanAddr,
    phones,
    close,
    phone: async (p) => {
      const ext = EXTENSIONS.find((e) => e.number === p.ext);
      const phone = await BaresipPhone.start({
        name: p.name,
        netns: topo.ns('lan'),
        listenIp: lanAddr,
        sipPort: p.sipPort,
        user: p.ext,
        registrar: { host: gwAddr, port: 5060, password: p.password ?? ext?.password ?? 'none', regintSec: 300, transport: p.transport ?? 'udp' },
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
