import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DialogTable } from '../../../../firmware/src/sip/dialog/dialog-table.js';
import { Headers } from '../../../../firmware/src/sip/message/headers.js';
import type { SipRequest, SipResponse } from '../../../../firmware/src/sip/message/types.js';

function req(to: string, from: string, callId = 'c1'): SipRequest {
  return { kind: 'request', method: 'BYE', uri: 'sip:x@y', headers: new Headers([['To', to], ['From', from], ['Call-ID', callId], ['CSeq', '2 BYE']]), body: Buffer.alloc(0) };
}

test('matches inbound requests by Call-ID, To tag (local) and From tag (remote)', () => {
  const t = new DialogTable<string>();
  t.add({ callId: 'c1', localTag: 'L', remoteTag: 'R' }, 'session-1');
  assert.is(t.matchRequest(req('<sip:b@h>;tag=L', '<sip:a@h>;tag=R')), 'session-1');
  assert.is(t.matchRequest(req('<sip:b@h>;tag=R', '<sip:a@h>;tag=L')), undefined);
  assert.is(t.matchRequest(req('<sip:b@h>;tag=L', '<sip:a@h>;tag=R', 'c2')), undefined);
  assert.is(t.matchRequest(req('<sip:b@h>', '<sip:a@h>;tag=R')), undefined);
  assert.is(DialogTable.requestId(req('<sip:b@h>', '<sip:a@h>;tag=R')), undefined);
  assert.is(t.size(), 1);
  assert.ok(t.remove({ callId: 'c1', localTag: 'L', remoteTag: 'R' }));
  assert.is(t.size(), 0);
});

test('matches responses with our tag in From', () => {
  const t = new DialogTable<number>();
  t.add({ callId: 'c1', localTag: 'L', remoteTag: 'R' }, 7);
  const r: SipResponse = { kind: 'response', status: 200, reason: 'OK', headers: new Headers([['From', '<sip:a@h>;tag=L'], ['To', '<sip:b@h>;tag=R'], ['Call-ID', 'c1']]), body: Buffer.alloc(0) };
  assert.is(t.matchResponse(r), 7);
});

test.run();
