/**
 * A backup trunk over TLS against a real TLS peer (issue 6): Kamailio with
 * its tls module as the carrier, a CA and certificates made by the test.
 *
 *    lan: alice (201, baresip, UDP)          carrier: Kamailio, TLS on 5061-5064,
 *          │                                  a client certificate from its CA
 *        ┌─┴──┐     WAN, SIP over TLS          required; digest on REGISTER and
 *        │ gw │──────────────────────────────  INVITE; a baresip far end (UDP)
 *        └────┘
 *
 * The gateway finds the carrier by name (`carrier.pgw.test`, from a hosts
 * file of the gateway's namespace), so the server name it checks and sends
 * as SNI is the URI host (RFC 5922). Four trunks, one per TLS port:
 *
 * - `carrier`: the carrier's CA and the client certificate it issued: it
 *   registers (the carrier logs the client certificate's CN and the SNI),
 *   carries an external call and an inbound call to the practice DID, with
 *   audio both ways;
 * - `rogue-ca`: a CA that did not sign the carrier's certificate: refused
 *   by the gateway, never registers;
 * - `wrong-name`: `wrong.pgw.test` resolves to the carrier, whose
 *   certificate does not carry that name: refused by the gateway;
 * - `no-cert`: the right CA but no client certificate of its own, so the
 *   gateway presents its listener certificate (another CA): refused by the
 *   carrier.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeWav, makeTone, withinPercent } from '../../support/audio.js';
import { BaresipPhone } from '../../support/baresip.js';
import { startGateway, testPractice, type GatewayUnderTest } from '../../support/gateway.js';
import { createTopology, type Topology } from '../../support/netns.js';
import { forwardTcpFromNamespace, getJsonOverSocket, type NsForward } from '../../support/ns-forward.js';
import { sleep, waitUntil, withTimeout } from '../../support/proc.js';
import { makeCa, startTlsCarrier, type TlsCarrier } from './tls-peer.js';

const MAIN_NUMBER = '+441632960000';
const TONES = { alice: 1000, far: 1200 };
const PROBE = { intervalMs: 500, failAfter: 2, recoverAfterMs: 2000 };
const PORTS = { carrier: 5061, rogueCa: 5062, wrongName: 5063, noCert: 5064 };

interface Status {
  mode: string;
  uplinks: Array<{ name: string; state: string }>;
}

test('TLS trunk: registration and calls both ways with the carrier\'s CA and client certificate; wrong CA, name or certificate refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-tls-trunk-'));
  let topo: Topology | undefined;
  let hostsDir: string | undefined;
  let carrier: TlsCarrier | undefined;
  let gw: GatewayUnderTest | undefined;
  let fwd: NsForward | undefined;
  const phones: BaresipPhone[] = [];
  try {
    await withTimeout(
      (async () => {
        topo = await createTopology({
          nodes: ['gw', 'lan', 'carrier'],
          links: [
            { a: 'gw', b: 'lan', subnet: '10.97.1.0/24' },
            { a: 'gw', b: 'carrier', subnet: '10.97.3.0/24' },
          ],
        });
        const t = topo;
        const addr = { gwLan: t.addr('gw', 'lan'), gwWan: t.addr('gw', 'carrier'), lan: t.addr('lan', 'gw'), carrier: t.addr('carrier', 'gw') };
        // `ip netns exec` mounts /etc/netns/NS/hosts over /etc/hosts: the gateway resolves the carrier by name.
        hostsDir = join('/etc/netns', t.ns('gw'));
        mkdirSync(hostsDir, { recursive: true });
        writeFileSync(join(hostsDir, 'hosts'), `127.0.0.1 localhost\n${addr.carrier} carrier.pgw.test\n${addr.carrier} wrong.pgw.test\n`);

        const pki = join(dir, 'pki');
        const carrierCa = await makeCa(pki, 'carrier-ca');
        const boxCa = await makeCa(pki, 'box-ca');
        const rogueCa = await makeCa(pki, 'rogue-ca');
        const carrierServer = await carrierCa.issue('carrier.pgw.test', 'subjectAltName=DNS:carrier.pgw.test\nextendedKeyUsage=serverAuth');
        const trunkClient = await carrierCa.issue('riverside-trunk', 'extendedKeyUsage=clientAuth');
        const boxListener = await boxCa.issue('gw.riverside.test', `subjectAltName=DNS:gw.riverside.test,IP:${addr.gwWan}\nextendedKeyUsage=serverAuth,clientAuth`);

        carrier = await startTlsCarrier({
          netns: t.ns('carrier'),
          listenIp: addr.carrier,
          proxy: true,
          challengeInvites: true,
          users: [
            { user: 'riverside', password: 'trunk-secret-9Jd' },
            { user: 'farend', password: 'farend-pw' },
          ],
          workDir: mkdirp(join(dir, 'kam')),
          server: carrierServer,
          clientCa: carrierCa.ca,
          tlsPorts: Object.values(PORTS),
          extraRequestRoute: `
  if (is_method("INVITE") && !has_totag()) {
    if ($rU == "${MAIN_NUMBER}") { $rU = "riverside"; }
    else if ($rU =~ "^[+]44") { $rU = "farend"; }
  }`,
        });
        const kam = carrier;

        const far = await BaresipPhone.start({
          name: 'far',
          netns: t.ns('carrier'),
          listenIp: addr.carrier,
          sipPort: 5070,
          user: 'farend',
          registrar: { host: addr.carrier, port: 5060, password: 'farend-pw', regintSec: 300 },
          toneWav: await makeTone({ path: join(dir, 'far.wav'), freqHz: TONES.far, seconds: 60 }),
          workDir: join(dir, 'far'),
          answerMode: 'auto',
        });
        phones.push(far);

        const trunk = (name: string, host: string, port: number, username: string, tls: Record<string, string>) => ({
          name,
          registrar: `sip:${host}:${port};transport=tls`,
          username,
          password: 'trunk-secret-9Jd',
          callerId: MAIN_NUMBER,
          tls,
          probe: PROBE,
        });
        const client = { cert: trunkClient.cert, key: trunkClient.key };
        const p = testPractice({ extensions: [{ number: '201', name: 'Reception 1', password: 'pw-201-secret' }] });
        gw = await startGateway({
          topo: t,
          node: 'gw',
          dir: join(dir, 'gw'),
          device: { interfaces: { lan: t.iface('gw', 'lan'), wan: t.iface('gw', 'carrier') } },
          practice: {
            ...p,
            site: { name: 'Test Surgery', timezone: 'Europe/London', mainNumber: MAIN_NUMBER },
            sip: {
              ...(p.sip as object),
              listen: [
                { transport: 'udp', host: '0.0.0.0', port: 5060 },
                { transport: 'tls', host: '0.0.0.0', port: 5061, tls: boxListener },
              ],
            },
            uplinks: {
              trunks: [
                trunk('carrier', 'carrier.pgw.test', PORTS.carrier, 'riverside', { ca: carrierCa.ca, ...client }),
                trunk('rogue-ca', 'carrier.pgw.test', PORTS.rogueCa, 'rs-rogue', { ca: rogueCa.ca, ...client }),
                trunk('wrong-name', 'wrong.pgw.test', PORTS.wrongName, 'rs-wrong', { ca: carrierCa.ca, ...client }),
                trunk('no-cert', 'carrier.pgw.test', PORTS.noCert, 'rs-nocert', { ca: carrierCa.ca }),
              ],
            },
            inbound: [{ did: MAIN_NUMBER, destination: '201' }],
          },
        });
        const g = gw;

        const alice = await BaresipPhone.start({
          name: 'alice',
          netns: t.ns('lan'),
          listenIp: addr.lan,
          sipPort: 5060,
          user: '201',
          registrar: { host: addr.gwLan, port: 5060, password: 'pw-201-secret', regintSec: 300 },
          toneWav: await makeTone({ path: join(dir, 'alice.wav'), freqHz: TONES.alice, seconds: 60 }),
          workDir: join(dir, 'alice'),
          answerMode: 'auto',
        });
        phones.push(alice);
        await far.waitFor('REGISTER_OK', { timeoutMs: 10_000 });
        await alice.waitFor('REGISTER_OK', { timeoutMs: 10_000 });

        fwd = await forwardTcpFromNamespace({ netns: t.ns('gw'), host: '127.0.0.1', port: 8080 });
        const status = statusReader(fwd.socketPath);
        const final = await waitUntil(
          async () => {
            const s = await status();
            const st = Object.fromEntries(s.uplinks.map((u) => [u.name, u.state]));
            return st.carrier === 'up' && st['rogue-ca'] === 'down' && st['wrong-name'] === 'down' && st['no-cert'] === 'down' ? s : undefined;
          },
          { timeoutMs: 15_000, intervalMs: 200, what: 'the TLS trunk up and the three others down' },
        );
        assert.is(final.mode, 'normal');

        // The carrier saw the registration over TLS with the client certificate it issued and the URI host as SNI.
        const reg = kam.tlsRequests().find((r) => r.method === 'REGISTER' && r.user === 'riverside');
        assert.ok(reg, 'a REGISTER over TLS reached the carrier');
        assert.equal([reg!.port, reg!.cn, reg!.sni], [PORTS.carrier, 'riverside-trunk', 'carrier.pgw.test']);
        // The three others never got a request through.
        for (const port of [PORTS.rogueCa, PORTS.wrongName, PORTS.noCert]) {
          assert.equal(kam.tlsRequests().filter((r) => r.port === port), [], `nothing reached port ${port}`);
        }
        // The carrier refused the gateway's own certificate (no-cert): a handshake it rejected.
        assert.match(kam.log(), /certificate verify failed|peer did not return a certificate|unknown ca|TLS accept/i);
        // The gateway refused the carrier where the CA or the name was wrong, and says why the uplink is down.
        const why = (name: string): string => String(g.logs().find((l) => l.msg === `uplink ${name} down (probes-lost)` || String(l.msg).startsWith(`uplink ${name} down (probes-lost)`))?.why ?? '');
        if (process.env.PGW_TEST_DEBUG) console.log({ rogue: why('rogue-ca'), wrong: why('wrong-name'), noCert: why('no-cert') });
        assert.match(why('rogue-ca'), /Transport Error: .*(certificate|issuer)/i, 'the rogue CA refused');
        assert.match(why('wrong-name'), /Transport Error: .*wrong\.pgw\.test/i, 'the wrong name refused');

        // An external call over the TLS trunk (the carrier challenges the INVITE), audio both ways.
        let farMark = far.events.length;
        await alice.dial(`sip:01632960123@${addr.gwLan}`);
        await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000 });
        await far.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000, since: farMark });
        await sleep(1500);
        await alice.hangup();
        await far.waitFor('CALL_CLOSED', { timeoutMs: 5_000, since: farMark });
        assert.ok(withinPercent(analyzeWav(far.recordedWav()).dominantHz, TONES.alice), 'the far end heard alice');
        assert.ok(withinPercent(analyzeWav(alice.recordedWav()).dominantHz, TONES.far), 'alice heard the far end');
        const invite = kam.tlsRequests().find((r) => r.method === 'INVITE' && r.port === PORTS.carrier);
        assert.ok(invite, 'the INVITE came over TLS');
        assert.equal([invite!.cn, invite!.sni], ['riverside-trunk', 'carrier.pgw.test']);

        // An inbound call to the practice DID: the carrier sends it over TLS to the gateway's registration.
        farMark = far.events.length;
        const aliceMark = alice.events.length;
        await far.dial(`sip:${MAIN_NUMBER}@${addr.carrier}`);
        await alice.waitFor('CALL_ESTABLISHED', { timeoutMs: 10_000, since: aliceMark });
        await far.waitFor('CALL_ESTABLISHED', { timeoutMs: 5_000, since: farMark });
        await sleep(1500);
        await far.hangup();
        await alice.waitFor('CALL_CLOSED', { timeoutMs: 5_000, since: aliceMark });
        assert.ok(withinPercent(analyzeWav(alice.recordedWav()).dominantHz, TONES.far), 'alice heard the caller');
        assert.ok(withinPercent(analyzeWav(far.recordedWav()).dominantHz, TONES.alice), 'the caller heard alice');
      })(),
      90_000,
      'TLS trunk',
    );
  } catch (e) {
    if (process.env.PGW_TEST_DEBUG) console.log(gw?.proc.output.toString().slice(-20000), carrier?.log().slice(-6000));
    throw e;
  } finally {
    for (const ph of phones) await ph.stop().catch(() => undefined);
    await gw?.stop().catch(() => undefined);
    await carrier?.stop().catch(() => undefined);
    await fwd?.close().catch(() => undefined);
    await topo?.destroy().catch(() => undefined);
    if (hostsDir) rmSync(hostsDir, { recursive: true, force: true });
    if (!process.env.PGW_KEEP_TEST_FILES) rmSync(dir, { recursive: true, force: true });
  }
});

function statusReader(socketPath: string): () => Promise<Status> {
  return () => getJsonOverSocket<Status>(socketPath, '/api/v1/status');
}

function mkdirp(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}

test.run();
