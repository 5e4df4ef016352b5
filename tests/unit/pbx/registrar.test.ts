import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { parseMessage, type SipRequest, type SipResponse } from '../../../firmware/src/sip/message/index.js';
import { createDigestServer, answerChallenge } from '../../../firmware/src/sip/auth/index.js';
import type { ServerTransaction } from '../../../firmware/src/sip/transaction/api.js';
import type { InboundMessage } from '../../../firmware/src/sip/transport/api.js';
import { LocationService } from '../../../firmware/src/pbx/location-service.js';
import { FailureThrottle } from '../../../firmware/src/pbx/failure-throttle.js';
import { createDirectory } from '../../../firmware/src/pbx/directory.js';
import { Registrar } from '../../../firmware/src/pbx/registrar.js';

const directory = createDirectory({
  domain: 'riverside.pgw.local',
  extensions: [
    { number: '201', name: 'Reception 1', password: 'secret-201' },
    { number: '202', name: 'Reception 2', password: 'secret-202' },
  ],
});

function world() {
  const clock = new FakeClock();
  const location = new LocationService(clock);
  const throttle = new FailureThrottle({ clock, maxFailures: 3 });
  const auth = createDigestServer({ realm: directory.domain, clock });
  const registrar = new Registrar({ clock, logger: silentLogger(), location, directory: () => directory, auth, throttle });
  const sent: SipResponse[] = [];
  let cseq = 1;
  function register(opts: { user: string; contact?: string; expires?: number; auth?: [string, string]; from?: string; callId?: string }): SipResponse | undefined {
    const lines = [
      `REGISTER sip:riverside.pgw.local SIP/2.0`,
      `Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-${cseq};rport`,
      `Max-Forwards: 70`,
      `From: <sip:${opts.user}@riverside.pgw.local>;tag=t${opts.user}`,
      `To: <sip:${opts.user}@riverside.pgw.local>`,
      `Call-ID: ${opts.callId ?? 'reg-' + opts.user}`,
      `CSeq: ${cseq++} REGISTER`,
    ];
    if (opts.contact !== undefined) lines.push(`Contact: ${opts.contact}`);
    if (opts.expires !== undefined) lines.push(`Expires: ${opts.expires}`);
    if (opts.auth) lines.push(`${opts.auth[0]}: ${opts.auth[1]}`);
    const parsed = parseMessage(Buffer.from(lines.join('\r\n') + '\r\n\r\n'));
    if (!parsed.ok) throw new Error(parsed.error);
    const request = parsed.message as SipRequest;
    const before = sent.length;
    const tx = { respond: (r: SipResponse) => sent.push(r) } as unknown as ServerTransaction;
    const inbound: InboundMessage = {
      message: request,
      source: { protocol: 'udp', address: opts.from ?? '198.51.100.7', port: 40000 },
      local: { protocol: 'udp', address: '192.0.2.1', port: 5060 },
    };
    registrar.handle(request, tx, inbound);
    return sent.length > before ? sent[sent.length - 1] : undefined;
  }
  /** The full exchange a phone does: unauthenticated REGISTER, 401, REGISTER with credentials. */
  function registerWithAuth(opts: { user: string; password: string; contact?: string; expires?: number; from?: string }): SipResponse | undefined {
    const challenge = register({ ...opts })!;
    assert.is(challenge.status, 401);
    const lines = `REGISTER sip:riverside.pgw.local SIP/2.0\r\nVia: SIP/2.0/UDP x;branch=z9hG4bKq\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: q\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n\r\n`;
    const req = (parseMessage(Buffer.from(lines)) as { message: SipRequest }).message;
    const header = answerChallenge({ response: challenge, request: req, username: opts.user, password: opts.password });
    return register({ ...opts, auth: header });
  }
  return { clock, location, throttle, register, registerWithAuth, sent };
}

test('REGISTER without credentials is challenged; with the right ones it binds the contact', () => {
  const w = world();
  const ok = w.registerWithAuth({ user: '201', password: 'secret-201', contact: '<sip:201@192.0.2.10:5062>', expires: 300 })!;
  assert.is(ok.status, 200);
  assert.match(ok.headers.get('Contact') ?? '', /<sip:201@192\.0\.2\.10:5062>;expires=300/);
  assert.ok(ok.headers.get('To')?.includes('tag='), 'responses carry a To tag');
  const b = w.location.lookup('201');
  assert.is(b.length, 1);
  assert.is(b[0]!.source.address, '198.51.100.7', 'calls go where the REGISTER came from (NAT latching)');
});

test('a wrong password and an unknown user get the same answer', () => {
  const w = world();
  const wrong = w.registerWithAuth({ user: '201', password: 'nope', contact: '<sip:201@h>' })!;
  const unknown = w.registerWithAuth({ user: '299', password: 'nope', contact: '<sip:299@h>' })!;
  assert.is(wrong.status, 401);
  assert.is(unknown.status, 401);
  assert.is(wrong.reason, unknown.reason);
  assert.is(w.location.count(), 0);
});

test('repeated failures from one source are throttled, then ignored', () => {
  const w = world();
  for (let i = 0; i < 3; i++) w.registerWithAuth({ user: '201', password: 'guess' + i, contact: '<sip:201@h>', from: '203.0.113.66' });
  assert.ok(w.throttle.isBlocked('203.0.113.66', '201'));
  assert.is(w.register({ user: '201', contact: '<sip:201@h>', from: '203.0.113.66' }), undefined, 'no answer while blocked');
  const other = w.registerWithAuth({ user: '202', password: 'secret-202', contact: '<sip:202@h>', from: '198.51.100.8' })!;
  assert.is(other.status, 200, 'other phones are unaffected');
  const neighbour = w.registerWithAuth({ user: '202', password: 'secret-202', contact: '<sip:202@n>', from: '203.0.113.66' })!;
  assert.is(neighbour.status, 200, 'another extension behind the same address is unaffected');
});

test('credentials of one extension cannot register another', () => {
  const w = world();
  const challenge = w.register({ user: '202', contact: '<sip:202@h>' })!;
  const req = { kind: 'request', method: 'REGISTER', uri: 'sip:riverside.pgw.local', headers: challenge.headers, body: Buffer.alloc(0) } as SipRequest;
  const header = answerChallenge({ response: challenge, request: req, username: '201', password: 'secret-201' });
  const res = w.register({ user: '202', contact: '<sip:202@h>', auth: header })!;
  assert.is(res.status, 403);
  assert.is(w.location.count(), 0);
});

test('too short an expiry gets 423 with Min-Expires; too long is cut down', () => {
  const w = world();
  const short = w.registerWithAuth({ user: '201', password: 'secret-201', contact: '<sip:201@h>', expires: 10 })!;
  assert.is(short.status, 423);
  assert.is(short.headers.get('Min-Expires'), '60');
  const long = w.registerWithAuth({ user: '201', password: 'secret-201', contact: '<sip:201@h>', expires: 999_999 })!;
  assert.is(long.status, 200);
  assert.match(long.headers.get('Contact') ?? '', /expires=3600/);
});

test('several contacts, unregister one, then all with *', () => {
  const w = world();
  w.registerWithAuth({ user: '201', password: 'secret-201', contact: '<sip:201@desk>', expires: 300 });
  const two = w.registerWithAuth({ user: '201', password: 'secret-201', contact: '<sip:201@softphone>;expires=600' })!;
  assert.is(two.headers.getAll('Contact').length, 2);
  w.registerWithAuth({ user: '201', password: 'secret-201', contact: '<sip:201@desk>', expires: 0 });
  assert.equal(w.location.lookup('201').map((b) => b.contact), ['sip:201@softphone']);
  const badStar = w.registerWithAuth({ user: '201', password: 'secret-201', contact: '*', expires: 60 })!;
  assert.is(badStar.status, 400);
  const star = w.registerWithAuth({ user: '201', password: 'secret-201', contact: '*', expires: 0 })!;
  assert.is(star.status, 200);
  assert.is(w.location.count(), 0);
});

test('a REGISTER without Contact is a query: lists current bindings', () => {
  const w = world();
  w.registerWithAuth({ user: '201', password: 'secret-201', contact: '<sip:201@desk>', expires: 300 });
  w.clock.advance(100_000);
  const q = w.registerWithAuth({ user: '201', password: 'secret-201' })!;
  assert.is(q.status, 200);
  assert.match(q.headers.get('Contact') ?? '', /expires=200/);
});

test.run();
