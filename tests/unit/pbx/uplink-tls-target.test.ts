/**
 * A call toward a TLS uplink (issue 6): the target's server name reaches the
 * UA's INVITE options, so the transport checks the uplink's certificate
 * against it (RFC 5922) for the INVITE and the dialog's later requests.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { B2buaCall, type CallTarget } from '../../../firmware/src/pbx/b2bua-call.js';
import type { InviteSession } from '../../../firmware/src/sip/ua/invite-session.js';
import type { UserAgentCore } from '../../../firmware/src/sip/ua/user-agent-core.js';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { fakeRelay, FakeSession, phoneSdpText } from './fakes.js';

async function invitesFor(targets: CallTarget[]): Promise<Array<Record<string, unknown>>> {
  const invites: Array<Record<string, unknown>> = [];
  const ua = {
    invite: (opts: Record<string, unknown>) => {
      invites.push(opts);
      return new FakeSession({ state: 'calling' });
    },
  };
  const a = new FakeSession({ state: 'incoming', body: phoneSdpText({ addr: '10.0.0.2', port: 4000, version: 1 }) });
  const call = new B2buaCall(
    {
      ua: ua as unknown as UserAgentCore,
      transport: { localFor: () => ({ protocol: 'tls', address: '10.0.2.1', port: 5061 }) },
      relay: fakeRelay({ opened: 0, closed: 0 }),
      clock: new FakeClock(),
      logger: silentLogger(),
      codecs: ['PCMA'],
    },
    {
      id: 'c1',
      a: a as unknown as InviteSession,
      localToCaller: '10.0.0.1',
      caller: { number: '201', name: 'Reception 1' },
      callee: { number: '01632960123', name: null },
      plan: [{ members: ['trunk'], seconds: 60 }],
      targetsOf: () => targets,
      onEnd: () => undefined,
    },
  );
  await call.start();
  await new Promise((r) => setTimeout(r, 20));
  return invites;
}

const base: CallTarget = {
  member: 'backup',
  uri: 'sip:+441632960123@carrier.example',
  destination: { protocol: 'tls', address: '10.0.2.2', port: 5061 },
  from: '<sip:+441632960000@carrier.example>',
  to: '<sip:+441632960123@carrier.example>',
};

test("the uplink's TLS server name goes with the INVITE; none when the target has none", async () => {
  const [tls] = await invitesFor([{ ...base, tlsServerName: 'carrier.example' }]);
  assert.is(tls?.tlsServerName, 'carrier.example');
  const [plain] = await invitesFor([base]);
  assert.ok(plain);
  assert.not.ok('tlsServerName' in plain!);
});

test.run();
