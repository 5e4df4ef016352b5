import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { LocationService, type Binding, type BindingChange } from '../../../firmware/src/pbx/location-service.js';

function binding(clock: FakeClock, over: Partial<Binding> = {}): Omit<Binding, 'registeredAt'> {
  return {
    aor: '201',
    contact: 'sip:201@192.0.2.10:5062',
    source: { protocol: 'udp', address: '198.51.100.7', port: 40000 },
    local: { protocol: 'udp', address: '192.0.2.1', port: 5060 },
    expiresAt: clock.now() + 60_000,
    callId: 'c1',
    cseq: 1,
    q: 1,
    ...over,
  };
}

test('adds, refreshes in place and looks up by extension', () => {
  const clock = new FakeClock();
  const loc = new LocationService(clock);
  assert.is(loc.upsert(binding(clock)), 'added');
  assert.is(loc.upsert(binding(clock, { cseq: 2, expiresAt: clock.now() + 120_000 })), 'refreshed');
  const list = loc.lookup('201');
  assert.is(list.length, 1);
  assert.is(list[0]!.expiresAt, clock.now() + 120_000);
  assert.is(list[0]!.source.address, '198.51.100.7', 'the latched source is kept for routing calls');
  assert.is(loc.lookup('202').length, 0);
});

test('an out-of-order REGISTER with the same Call-ID and no higher CSeq is stale', () => {
  const clock = new FakeClock();
  const loc = new LocationService(clock);
  loc.upsert(binding(clock, { cseq: 5 }));
  assert.is(loc.upsert(binding(clock, { cseq: 5 })), 'stale');
  assert.is(loc.upsert(binding(clock, { cseq: 4 })), 'stale');
  assert.is(loc.upsert(binding(clock, { cseq: 4, callId: 'other' })), 'refreshed', 'a new Call-ID (phone rebooted) is accepted');
});

test('several contacts per extension, ordered by q then recency', () => {
  const clock = new FakeClock();
  const loc = new LocationService(clock);
  loc.upsert(binding(clock, { contact: 'sip:201@a', q: 0.5 }));
  clock.advance(1000);
  loc.upsert(binding(clock, { contact: 'sip:201@b', q: 1 }));
  clock.advance(1000);
  loc.upsert(binding(clock, { contact: 'sip:201@c', q: 1 }));
  assert.equal(
    loc.lookup('201').map((b) => b.contact),
    ['sip:201@c', 'sip:201@b', 'sip:201@a'],
  );
  assert.is(loc.count(), 3);
});

test('the same instance id replaces the old contact (phone changed address)', () => {
  const clock = new FakeClock();
  const loc = new LocationService(clock);
  loc.upsert(binding(clock, { contact: 'sip:201@10.0.0.5', instanceId: '<urn:uuid:1>' }));
  loc.upsert(binding(clock, { contact: 'sip:201@10.0.0.6', instanceId: '<urn:uuid:1>', callId: 'c2' }));
  assert.equal(loc.lookup('201').map((b) => b.contact), ['sip:201@10.0.0.6']);
});

test('bindings expire on the clock and report it', () => {
  const clock = new FakeClock();
  const loc = new LocationService(clock);
  const changes: BindingChange['kind'][] = [];
  loc.onChange((c) => changes.push(c.kind));
  loc.upsert(binding(clock, { expiresAt: clock.now() + 30_000 }));
  loc.upsert(binding(clock, { contact: 'sip:201@other', expiresAt: clock.now() + 90_000 }));
  clock.advance(30_000);
  assert.equal(loc.lookup('201').map((b) => b.contact), ['sip:201@other']);
  clock.advance(60_000);
  assert.is(loc.count(), 0);
  assert.equal(changes, ['added', 'added', 'expired', 'expired']);
});

test('remove one contact and remove all', () => {
  const clock = new FakeClock();
  const loc = new LocationService(clock);
  loc.upsert(binding(clock, { contact: 'sip:201@a' }));
  loc.upsert(binding(clock, { contact: 'sip:201@b' }));
  assert.ok(loc.remove('201', 'sip:201@a'));
  assert.not.ok(loc.remove('201', 'sip:201@a'));
  assert.is(loc.count(), 1);
  assert.is(loc.removeAll('201'), 1);
  assert.is(loc.count(), 0);
});

test.run();
