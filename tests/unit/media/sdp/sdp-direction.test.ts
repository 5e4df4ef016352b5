import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseSdp } from '../../../../firmware/src/media/sdp/sdp-parse.js';
import { serializeSdp } from '../../../../firmware/src/media/sdp/sdp-serialize.js';
import {
  answerDirection,
  b2buaAnswerDirection,
  b2buaOfferDirection,
  getDeclaredDirection,
  getDirection,
  isHold,
  reverseDirection,
  setDirection,
} from '../../../../firmware/src/media/sdp/sdp-direction.js';

function sdp(opts: { c?: string; session?: string; media?: string[] }): ReturnType<typeof parseSdp> {
  const lines = ['v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', `c=IN IP4 ${opts.c ?? '10.0.0.1'}`, 't=0 0'];
  if (opts.session) lines.push(`a=${opts.session}`);
  for (const d of opts.media ?? ['']) {
    lines.push('m=audio 4000 RTP/AVP 0');
    if (d) lines.push(`a=${d}`);
  }
  return parseSdp(lines.join('\r\n') + '\r\n');
}

test('default sendrecv; media level overrides session level', () => {
  assert.is(getDirection(sdp({}), 0), 'sendrecv');
  assert.is(getDirection(sdp({ session: 'sendonly' }), 0), 'sendonly');
  assert.is(getDirection(sdp({ session: 'sendonly', media: ['recvonly'] }), 0), 'recvonly');
  assert.is(getDirection(sdp({ media: ['inactive'] }), 0), 'inactive');
});

test('legacy hold c=0.0.0.0 means the holder does not receive (RFC 3264 §8.4)', () => {
  assert.is(getDeclaredDirection(sdp({ c: '0.0.0.0' }), 0), 'sendrecv');
  assert.is(getDirection(sdp({ c: '0.0.0.0' }), 0), 'sendonly');
  assert.is(getDirection(sdp({ c: '0.0.0.0', media: ['sendonly'] }), 0), 'sendonly');
  assert.is(getDirection(sdp({ c: '0.0.0.0', media: ['recvonly'] }), 0), 'inactive');
  assert.is(getDirection(sdp({ c: '0.0.0.0', media: ['inactive'] }), 0), 'inactive');
  assert.ok(isHold(sdp({ c: '0.0.0.0' }), 0));
  assert.ok(isHold(sdp({ media: ['sendonly'] }), 0));
  assert.ok(isHold(sdp({ media: ['inactive'] }), 0));
  assert.not.ok(isHold(sdp({ media: ['recvonly'] }), 0));
  assert.not.ok(isHold(sdp({}), 0));
});

test('answerDirection follows RFC 3264 §6.1', () => {
  assert.is(answerDirection('sendrecv'), 'sendrecv');
  assert.is(answerDirection('sendonly'), 'recvonly');
  assert.is(answerDirection('recvonly'), 'sendonly');
  assert.is(answerDirection('inactive'), 'inactive');
  assert.is(answerDirection('sendrecv', 'sendonly'), 'sendonly');
  assert.is(answerDirection('sendonly', 'sendonly'), 'inactive');
  assert.is(answerDirection('sendonly', 'inactive'), 'inactive');
  assert.is(answerDirection('recvonly', 'recvonly'), 'inactive');
  assert.is(reverseDirection('sendonly'), 'recvonly');
  assert.is(reverseDirection('inactive'), 'inactive');
});

test('B2BUA hold mapping: sendonly relayed as sendonly, recvonly answer maps back, inactive stays', () => {
  const holdA = sdp({ media: ['sendonly'] });
  assert.is(b2buaOfferDirection(holdA, 0), 'sendonly');
  const answerB = sdp({ media: ['recvonly'] });
  assert.is(b2buaAnswerDirection(holdA, 0, answerB, 0), 'recvonly');
  const inactiveA = sdp({ media: ['inactive'] });
  assert.is(b2buaOfferDirection(inactiveA, 0), 'inactive');
  assert.is(b2buaAnswerDirection(inactiveA, 0, sdp({ media: ['inactive'] }), 0), 'inactive');
  // Legacy hold from A becomes an explicit sendonly toward B.
  assert.is(b2buaOfferDirection(sdp({ c: '0.0.0.0' }), 0), 'sendonly');
  // Resume: sendrecv both ways.
  assert.is(b2buaAnswerDirection(sdp({}), 0, sdp({}), 0), 'sendrecv');
  // B may answer a sendrecv offer with recvonly (it is muted): A gets recvonly.
  assert.is(b2buaAnswerDirection(sdp({}), 0, sdp({ media: ['recvonly'] }), 0), 'recvonly');
});

test('setDirection replaces in place and pushes a session-level direction down', () => {
  const s = sdp({ session: 'sendonly', media: ['', 'inactive'] });
  setDirection(s, 'recvonly', 1);
  assert.is(getDirection(s, 0), 'sendonly');
  assert.is(getDirection(s, 1), 'recvonly');
  assert.not.ok(s.attributes.some((a) => a.name === 'sendonly'));
  setDirection(s, 'sendrecv');
  assert.is(getDirection(s, 0), 'sendrecv');
  assert.is(getDirection(s, 1), 'sendrecv');
  assert.is(serializeSdp(s).match(/a=sendrecv/g)!.length, 2);
  assert.not.ok(/a=(sendonly|recvonly|inactive)/.test(serializeSdp(s)));
});

test.run();
