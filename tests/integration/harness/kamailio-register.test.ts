/**
 * Proves the Kamailio and SIPp helpers together, the way the registrar
 * benchmark uses them, and inside namespaces the way the gateway tests run
 * peers: Kamailio in one namespace as the registrar with 20 users, SIPp in
 * another running register-auth.xml for each of them. Then the same with one
 * wrong password, which must show up as exactly one failed call.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKamailio } from '../../support/kamailio.js';
import type { KamailioProcess } from '../../support/kamailio.js';
import { createTopology } from '../../support/netns.js';
import type { Topology } from '../../support/netns.js';
import { withTimeout } from '../../support/proc.js';
import { runSipp, sippScenario } from '../../support/sipp.js';
import { makeUsers, writeInjectionFile } from '../../support/users.js';

test('20 users register with digest auth to Kamailio; a wrong password fails', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgwt-kreg-'));
  let topo: Topology | undefined;
  let k: KamailioProcess | undefined;
  try {
    await withTimeout(
      (async () => {
        topo = await createTopology({ nodes: ['reg', 'ua'], links: [{ a: 'reg', b: 'ua', subnet: '10.90.7.0/24' }] });
        const regIp = topo.addr('reg', 'ua');
        const users = makeUsers(20, { first: 3000 });
        k = await startKamailio({ netns: topo.ns('reg'), listenIp: regIp, port: 5060, users, realm: 'harness.test' });

        const rows = users.map((u) => ({ ...u, domain: regIp }));
        const good = await runSipp({
          scenario: sippScenario('register-auth.xml'), remote: `${regIp}:5060`,
          netns: topo.ns('ua'), localIp: topo.addr('ua', 'reg'), localPort: 5060,
          injectionFile: writeInjectionFile(join(dir, 'users.csv'), rows),
          calls: 20, rate: 50, timeoutMs: 20_000,
        });
        assert.ok(good.ok, `${good.report}\n--- kamailio ---\n${k.log().slice(-3000)}`);
        assert.is(good.stats?.successful, 20);
        assert.is(good.stats?.failed, 0);

        const bad = rows.map((r, i) => (i === 7 ? { ...r, password: 'wrong-password' } : r));
        const mixed = await runSipp({
          scenario: sippScenario('register-auth.xml'), remote: `${regIp}:5060`,
          netns: topo.ns('ua'), localIp: topo.addr('ua', 'reg'), localPort: 5060,
          injectionFile: writeInjectionFile(join(dir, 'bad.csv'), bad),
          calls: 20, rate: 50, timeoutMs: 20_000,
        });
        assert.is(mixed.exitCode, 1, mixed.report);
        assert.is(mixed.stats?.successful, 19, mixed.report);
        assert.is(mixed.stats?.failed, 1, mixed.report);
        assert.match(mixed.errors, /401/, 'the wrong password was answered with another 401');
      })(),
      60_000,
      'kamailio register test',
    );
  } finally {
    await k?.stop();
    await topo?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
