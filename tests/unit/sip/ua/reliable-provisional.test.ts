import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Headers } from '../../../../firmware/src/sip/message/headers.js';
import type { SipResponse } from '../../../../firmware/src/sip/message/types.js';
import { ReliableProvisionalReceiver, ReliableProvisionalSender, parseRAck } from '../../../../firmware/src/sip/ua/reliable-provisional.js';
import { FakeClock } from '../../../../firmware/src/util/clock.js';

const r = (status: number): SipResponse => ({ kind: 'response', status, reason: '', headers: new Headers([['CSeq', '5 INVITE']]), body: Buffer.alloc(0) });

function sender(clock: FakeClock, sent: SipResponse[], timeouts: number[]): ReliableProvisionalSender {
  return new ReliableProvisionalSender({ clock, t1: 500, inviteCSeq: 5, random: () => 0.25, send: (x) => sent.push(x), onTimeout: () => timeouts.push(clock.now()) });
}

test('RAck parsing', () => {
  assert.equal(parseRAck('776656 1 INVITE'), { rseq: 776656, cseq: 1, method: 'INVITE' });
  assert.is(parseRAck('1 INVITE'), undefined);
  assert.is(parseRAck('a b INVITE'), undefined);
});

test('sender: random first RSeq, Require/RSeq added, T1 doubling without cap until PRACK', () => {
  const clock = new FakeClock();
  const sent: SipResponse[] = [];
  const timeouts: number[] = [];
  const s = sender(clock, sent, timeouts);
  s.send(r(183));
  const rseq = Number(sent[0]!.headers.get('RSeq'));
  assert.is(rseq, 1 + Math.floor(0.25 * (2 ** 31 - 2)));
  assert.is(sent[0]!.headers.get('Require'), '100rel');
  // retransmissions at 500, 1500, 3500, 7500, 15500 (intervals 500, 1000, 2000, 4000, 8000)
  clock.advance(15_500);
  assert.is(sent.length, 6);
  assert.ok(sent.every((x) => x === sent[0]));
  assert.is(s.prack({ rseq: rseq + 1, cseq: 5, method: 'INVITE' }), undefined);
  assert.is(s.prack({ rseq, cseq: 4, method: 'INVITE' }), undefined);
  assert.is(s.prack({ rseq, cseq: 5, method: 'INVITE' }), sent[0]);
  clock.advance(100_000);
  assert.is(sent.length, 6);
  assert.equal(timeouts, []);
  assert.ok(s.idle);
});

test('sender: one outstanding at a time, queue drains on PRACK with consecutive RSeq; idle waiters', () => {
  const clock = new FakeClock();
  const sent: SipResponse[] = [];
  const s = sender(clock, sent, []);
  let idle = 0;
  s.send(r(180));
  s.send(r(183));
  s.whenIdle(() => idle++);
  assert.is(sent.length, 1);
  const first = Number(sent[0]!.headers.get('RSeq'));
  s.prack({ rseq: first, cseq: 5, method: 'INVITE' });
  assert.is(sent.length, 2);
  assert.is(sent[1]!.status, 183);
  assert.is(Number(sent[1]!.headers.get('RSeq')), first + 1);
  assert.is(idle, 0);
  s.prack({ rseq: first + 1, cseq: 5, method: 'INVITE' });
  assert.is(idle, 1);
});

test('sender: gives up after 64*T1', () => {
  const clock = new FakeClock();
  const sent: SipResponse[] = [];
  const timeouts: number[] = [];
  sender(clock, sent, timeouts).send(r(180));
  clock.advance(31_999);
  assert.equal(timeouts, []);
  clock.advance(1);
  assert.is(timeouts.length, 1);
  assert.is(sent.length, 7);
});

test('receiver: new in order, retransmissions and gaps ignored', () => {
  const rx = new ReliableProvisionalReceiver();
  assert.is(rx.classify(10), 'new');
  rx.accept(10);
  assert.is(rx.classify(10), 'retransmission');
  assert.is(rx.classify(9), 'retransmission');
  assert.is(rx.classify(12), 'out-of-order');
  assert.is(rx.classify(11), 'new');
});

test.run();
