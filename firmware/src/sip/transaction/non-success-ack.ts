/**
 * The ACK an INVITE client transaction sends for a 300-699 response
 * (RFC 3261 §17.1.1.3): same Request-URI, Call-ID, From and CSeq number as
 * the INVITE, the To of the response (with its tag), one Via equal to the
 * INVITE's top Via (so it matches the server transaction), the INVITE's
 * Route headers, and no body. It goes to the same destination as the INVITE.
 */
import { Headers } from '../message/headers.js';
import { parseCSeq, splitHeaderValues } from '../message/index.js';
import type { SipRequest, SipResponse } from '../message/types.js';

export function nonSuccessAck(invite: SipRequest, response: SipResponse): SipRequest {
  const headers = new Headers();
  const topVia = invite.headers.get('Via');
  if (topVia !== undefined) headers.append('Via', splitHeaderValues(topVia)[0]!);
  for (const route of invite.headers.getAll('Route')) headers.append('Route', route);
  headers.append('Max-Forwards', '70');
  const from = invite.headers.get('From');
  if (from !== undefined) headers.append('From', from);
  const to = response.headers.get('To') ?? invite.headers.get('To');
  if (to !== undefined) headers.append('To', to);
  const callId = invite.headers.get('Call-ID');
  if (callId !== undefined) headers.append('Call-ID', callId);
  headers.append('CSeq', `${parseCSeq(invite.headers.get('CSeq') ?? '0 INVITE').seq} ACK`);
  headers.append('Content-Length', '0');
  return { kind: 'request', method: 'ACK', uri: invite.uri, headers, body: Buffer.alloc(0) };
}
