import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Dialog } from '../../../../firmware/src/sip/dialog/dialog.js';
import { Headers } from '../../../../firmware/src/sip/message/headers.js';
import type { SipRequest, SipResponse } from '../../../../firmware/src/sip/message/types.js';

function invite(extra: [string, string][] = []): SipRequest {
  return {
    kind: 'request',
    method: 'INVITE',
    uri: 'sip:bob@biloxi.example',
    headers: new Headers([
      ['Via', 'SIP/2.0/UDP pc33.atlanta.example;branch=z9hG4bK776asdhds'],
      ['Max-Forwards', '70'],
      ['To', 'Bob <sip:bob@biloxi.example>'],
      ['From', 'Alice <sip:alice@atlanta.example>;tag=1928301774'],
      ['Call-ID', 'a84b4c76e66710@pc33.atlanta.example'],
      ['CSeq', '314159 INVITE'],
      ['Contact', '<sip:alice@pc33.atlanta.example>'],
      ...extra,
    ]),
    body: Buffer.alloc(0),
  };
}

function response(req: SipRequest, status: number, extra: [string, string][] = []): SipResponse {
  const h = new Headers();
  for (const v of req.headers.getAll('Via')) h.append('Via', v);
  h.append('From', req.headers.get('From')!);
  h.append('To', req.headers.get('To')! + ';tag=a6c85cf');
  h.append('Call-ID', req.headers.get('Call-ID')!);
  h.append('CSeq', req.headers.get('CSeq')!);
  for (const [n, v] of extra) h.append(n, v);
  return { kind: 'response', status, reason: 'x', headers: h, body: Buffer.alloc(0) };
}

test('UAC dialog from a 180: early, ids, route set reversed, remote target', () => {
  const req = invite();
  const r180 = response(req, 180, [
    ['Record-Route', '<sip:p2.example;lr>, <sip:p1.example;lr>'],
    ['Contact', '<sip:bob@192.0.2.4>'],
  ]);
  const d = Dialog.fromUacResponse(req, r180, { localContact: '<sip:alice@192.0.2.1>' });
  assert.is(d.state, 'early');
  assert.equal(d.id, { callId: 'a84b4c76e66710@pc33.atlanta.example', localTag: '1928301774', remoteTag: 'a6c85cf' });
  assert.equal([...d.routeSet], ['<sip:p1.example;lr>', '<sip:p2.example;lr>']);
  assert.is(d.remoteTarget, 'sip:bob@192.0.2.4');
  assert.is(d.localSeq, 314159);
  assert.is(d.remoteSeq, undefined);
  assert.is(d.secure, false);
});

test('UAC: 2xx confirms and recomputes route set and target (§13.2.2.4)', () => {
  const req = invite();
  const d = Dialog.fromUacResponse(req, response(req, 183, [['Record-Route', '<sip:old.example;lr>'], ['Contact', '<sip:bob@10.0.0.1>']]), {
    localContact: '<sip:a@h>',
  });
  d.confirm(response(req, 200, [['Record-Route', '<sip:p2.example;lr>'], ['Record-Route', '<sip:p1.example;lr>'], ['Contact', '<sip:bob@192.0.2.4:5070>']]));
  assert.is(d.state, 'confirmed');
  assert.equal([...d.routeSet], ['<sip:p1.example;lr>', '<sip:p2.example;lr>']);
  assert.is(d.remoteTarget, 'sip:bob@192.0.2.4:5070');
});

test('in-dialog request: Request-URI = remote target, Route = route set, CSeq increments, ACK keeps the INVITE CSeq', () => {
  const req = invite();
  const d = Dialog.fromUacResponse(req, response(req, 200, [['Record-Route', '<sip:p2.example;lr>, <sip:p1.example;lr>'], ['Contact', '<sip:bob@192.0.2.4>']]), {
    localContact: '<sip:alice@192.0.2.1>',
  });
  const ack = d.createRequest('ACK', { cseq: 314159, via: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKack' });
  assert.is(ack.uri, 'sip:bob@192.0.2.4');
  assert.is(ack.headers.get('CSeq'), '314159 ACK');
  assert.equal(ack.headers.getAll('Route'), ['<sip:p1.example;lr>', '<sip:p2.example;lr>']);
  assert.is(ack.headers.get('Via'), 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKack');
  assert.is(ack.headers.get('Contact'), undefined);
  const bye = d.createRequest('BYE');
  assert.is(bye.headers.get('CSeq'), '314160 BYE');
  assert.is(bye.headers.get('From'), 'Alice <sip:alice@atlanta.example>;tag=1928301774');
  assert.is(bye.headers.get('To'), 'Bob <sip:bob@biloxi.example>;tag=a6c85cf');
  assert.is(bye.headers.get('Call-ID'), 'a84b4c76e66710@pc33.atlanta.example');
  assert.is(bye.headers.get('Max-Forwards'), '70');
  const reinv = d.createRequest('INVITE', { body: Buffer.from('v=0\r\n'), contentType: 'application/sdp', headers: [['Supported', 'timer']] });
  assert.is(reinv.headers.get('CSeq'), '314161 INVITE');
  assert.is(reinv.headers.get('Contact'), '<sip:alice@192.0.2.1>');
  assert.is(reinv.headers.get('Content-Type'), 'application/sdp');
  assert.is(reinv.headers.get('Content-Length'), '5');
  assert.is(reinv.headers.get('Supported'), 'timer');
  assert.is(d.localSeq, 314161);
  assert.throws(() => d.createRequest('ACK'), /CSeq/);
});

test('strict router first in the route set (§12.2.1.1)', () => {
  const req = invite();
  const d = Dialog.fromUacResponse(req, response(req, 200, [['Record-Route', '<sip:p2.example;lr>, <sip:strict.example>'], ['Contact', '<sip:bob@192.0.2.4>']]), {
    localContact: '<sip:a@h>',
  });
  const bye = d.createRequest('BYE');
  assert.is(bye.uri, 'sip:strict.example');
  assert.equal(bye.headers.getAll('Route'), ['<sip:p2.example;lr>', '<sip:bob@192.0.2.4>']);
});

test('UAS dialog from a request: our tag, route set in order, remote CSeq; checks on inbound CSeq', () => {
  const req = invite([['Record-Route', '<sip:p1.example;lr>'], ['Record-Route', '<sip:p2.example;lr>']]);
  const d = Dialog.fromUasRequest(req, { localTag: 'ourtag', localContact: '<sip:bob@192.0.2.4>', state: 'early' });
  assert.equal(d.id, { callId: 'a84b4c76e66710@pc33.atlanta.example', localTag: 'ourtag', remoteTag: '1928301774' });
  assert.is(d.localAddr, 'Bob <sip:bob@biloxi.example>;tag=ourtag');
  assert.is(d.remoteAddr, 'Alice <sip:alice@atlanta.example>;tag=1928301774');
  assert.equal([...d.routeSet], ['<sip:p1.example;lr>', '<sip:p2.example;lr>']);
  assert.is(d.remoteTarget, 'sip:alice@pc33.atlanta.example');
  assert.is(d.remoteSeq, 314159);
  assert.is(d.localSeq, undefined);
  // Our first request in this dialog starts our own CSeq space.
  const bye = d.createRequest('BYE');
  assert.is(bye.headers.get('CSeq'), '1 BYE');
  assert.is(bye.headers.get('To'), 'Alice <sip:alice@atlanta.example>;tag=1928301774');
  assert.is(bye.uri, 'sip:alice@pc33.atlanta.example');

  const inDialog = (method: string, seq: number): SipRequest => {
    const r = invite();
    r.method = method;
    r.headers.set('CSeq', `${seq} ${method}`);
    return r;
  };
  assert.equal(d.receiveRequest(inDialog('INFO', 314160)), { ok: true });
  assert.is(d.remoteSeq, 314160);
  assert.equal(d.receiveRequest(inDialog('INFO', 314150)), { ok: false, status: 500, reason: 'CSeq Out of Order' });
  assert.equal(d.receiveRequest(inDialog('ACK', 1)), { ok: true });
  assert.is(d.remoteSeq, 314160);
  d.terminate();
  assert.is(d.receiveRequest(inDialog('BYE', 314170)).ok, false);
  assert.throws(() => d.createRequest('BYE'));
});

test('target refresh replaces the remote target, never the route set', () => {
  const req = invite([['Record-Route', '<sip:p1.example;lr>']]);
  const d = Dialog.fromUasRequest(req, { localTag: 't', localContact: '<sip:b@h>', state: 'confirmed' });
  const reinv = invite([['Record-Route', '<sip:other.example;lr>']]);
  reinv.headers.set('Contact', '"A" <sip:alice@198.51.100.7:5062;transport=tcp>');
  d.refreshTarget(reinv);
  assert.is(d.remoteTarget, 'sip:alice@198.51.100.7:5062;transport=tcp');
  assert.equal([...d.routeSet], ['<sip:p1.example;lr>']);
});

test('sips Request-URI makes the dialog secure', () => {
  const req = invite();
  req.uri = 'sips:bob@biloxi.example';
  const d = Dialog.fromUacResponse(req, response(req, 200, [['Contact', '<sips:bob@192.0.2.4>']]), { localContact: '<sips:a@h>' });
  assert.is(d.secure, true);
});

test('a response without a To tag cannot make a dialog', () => {
  const req = invite();
  const r = response(req, 180);
  r.headers.set('To', 'Bob <sip:bob@biloxi.example>');
  assert.throws(() => Dialog.fromUacResponse(req, r, { localContact: '<sip:a@h>' }), /tags/);
});

test.run();
