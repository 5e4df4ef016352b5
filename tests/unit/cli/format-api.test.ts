import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatCalls, formatRegistrations, formatStatus } from '../../../firmware/src/cli/format-api.js';

test('a status from another firmware with fields missing still prints', () => {
  const text = formatStatus({ mode: 'survivability', uplinks: 'weird' });
  assert.match(text, /^mode {12}survivability$/m);
  assert.match(text, /^config version {2}\?$/m);
  assert.match(text, /^uplinks {9}none$/m);
  assert.match(formatStatus(null), /^mode {12}\?$/m);
  assert.match(formatStatus({ configVersion: null, deviceId: 'pgw-1' }), /^device {10}pgw-1\nmode[^]*config version {2}none applied/m);
});

test('the media line says who forwards: worker threads, and the kernel fast path with its legs', () => {
  assert.match(formatStatus({ media: { workers: 2, kernelForwarding: true, kernelLegs: 4 } }), /^media {11}2 worker\(s\); kernel fast path on \(4 legs\)$/m);
  assert.match(formatStatus({ media: { workers: 0, kernelForwarding: false, kernelLegs: 0 } }), /^media {11}main thread; kernel fast path off$/m);
  assert.not.match(formatStatus({ mode: 'normal' }), /^media/m, 'an older firmware without it: no line');
});

test('empty lists say so', () => {
  assert.is(formatRegistrations({ registrations: [] }), 'no registrations\n');
  assert.is(formatCalls({ calls: [] }), 'no active calls\n');
  assert.is(formatCalls({}), 'no active calls\n');
});

test('a leg with media shows codec, addresses and counters', () => {
  const text = formatCalls({
    calls: [
      {
        id: 'c9',
        from: { number: '201', name: null },
        to: { number: '+441632960123', name: null },
        state: 'answered',
        startTime: 't0',
        answerTime: 't1',
        legs: [
          { role: 'callee', peer: 'backup', state: 'confirmed', media: { codec: 'PCMA', local: '192.0.2.1:16384', remote: null, packetsIn: 0, packetsOut: 10 } },
        ],
      },
    ],
  });
  assert.match(text, /c9 {2}201 → \+441632960123 {2}answered {2}started t0 {2}answered t1/);
  assert.match(text, /callee backup {2}confirmed {2}PCMA 192\.0\.2\.1:16384 ⇄ \(not latched\) {2}in 0 pkts \/ out 10 pkts/);
});

test.run();
