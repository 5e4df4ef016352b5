/**
 * Proves the SIPp helper with real peers on loopback: uac-options.xml against
 * SIPp running uas-options.xml, against Kamailio, and against nothing (the
 * helper must report failure, not success).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startKamailio } from '../../support/kamailio.js';
import { freeUdpPort } from '../../support/ports.js';
import { withTimeout } from '../../support/proc.js';
import { runSipp, sippScenario, startSipp } from '../../support/sipp.js';
import { makeUsers } from '../../support/users.js';

test('uac-options against SIPp uas-options: 5 of 5 answered, counted on both sides', async () => {
  const port = await freeUdpPort();
  const uas = startSipp({ scenario: sippScenario('uas-options.xml'), localIp: '127.0.0.1', localPort: port, timeoutMs: 20_000 });
  try {
    await withTimeout(uas.ready, 10_000, 'sipp uas ready');
    const r = await runSipp({
      scenario: sippScenario('uac-options.xml'), remote: `127.0.0.1:${port}`, localIp: '127.0.0.1',
      calls: 5, rate: 20, timeoutMs: 10_000,
    });
    assert.ok(r.ok, r.report);
    assert.is(r.exitCode, 0);
    assert.is(r.stats?.successful, 5, r.report);
    assert.is(r.stats?.failed, 0, r.report);
    assert.ok((r.stats?.responseTimeMs['1'] ?? NaN) >= 0, `response time parsed: ${JSON.stringify(r.stats?.responseTimeMs)}`);
    assert.match(r.screen, /OPTIONS/);
  } finally {
    const res = await uas.stop();
    assert.is(res.stats?.incoming, 5, res.report);
    assert.is(res.stats?.successful, 5, res.report);
  }
});

test('uac-options against Kamailio on loopback', async () => {
  const port = await freeUdpPort();
  const k = await startKamailio({ listenIp: '127.0.0.1', port, users: makeUsers(1) });
  try {
    const r = await runSipp({
      scenario: sippScenario('uac-options.xml'), remote: `127.0.0.1:${port}`, localIp: '127.0.0.1',
      calls: 3, rate: 10, timeoutMs: 10_000,
    });
    assert.ok(r.ok, `${r.report}\n--- kamailio ---\n${k.log().slice(-3000)}`);
    assert.is(r.stats?.successful, 3);
  } finally {
    await k.stop();
  }
});

test('a peer that does not answer is reported as a failure', async () => {
  const port = await freeUdpPort(); // nothing listens here
  const r = await runSipp({
    scenario: sippScenario('uac-options.xml'), remote: `127.0.0.1:${port}`, localIp: '127.0.0.1',
    calls: 1, timeoutMs: 8_000, recvTimeoutMs: 1_000,
  });
  assert.is.not(r.exitCode, 0, r.report);
  assert.not.ok(r.ok);
  assert.is(r.stats?.successful ?? 0, 0, r.report);
});

test.run();
