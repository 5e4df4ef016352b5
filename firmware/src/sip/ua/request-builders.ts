/**
 * Requests an INVITE session builds outside its dialog: the initial INVITE
 * (RFC 3261 §8.1.1, §13.2.1) and its CANCEL (§9.1).
 */
import { cseqOf } from '../dialog/header-utils.js';
import { Headers } from '../message/headers.js';
import type { SipRequest } from '../message/types.js';
import type { SessionBody } from './session-body.js';

export interface InitialInviteParts {
  target: string;
  via: string;
  /** From with our tag. */
  from: string;
  to: string;
  callId: string;
  cseq: number;
  contact: string;
  allow: string[];
  supported: string[];
  require: string[];
  /** Session-Expires / Min-SE and the caller's extra lines, in order. */
  headers: Array<[string, string]>;
  userAgent?: string;
  body?: SessionBody;
}

export function buildInitialInvite(p: InitialInviteParts): SipRequest {
  const h = new Headers();
  h.append('Via', p.via);
  h.append('Max-Forwards', '70');
  h.append('From', p.from);
  h.append('To', p.to);
  h.append('Call-ID', p.callId);
  h.append('CSeq', `${p.cseq} INVITE`);
  h.append('Contact', p.contact);
  h.append('Allow', p.allow.join(', '));
  if (p.supported.length > 0) h.append('Supported', p.supported.join(', '));
  if (p.require.length > 0) h.append('Require', p.require.join(', '));
  if (p.userAgent) h.append('User-Agent', p.userAgent);
  for (const [n, v] of p.headers) h.append(n, v);
  const body = p.body?.body ?? Buffer.alloc(0);
  if (p.body && body.length > 0) h.set('Content-Type', p.body.contentType);
  h.set('Content-Length', String(body.length));
  return { kind: 'request', method: 'INVITE', uri: p.target, headers: h, body };
}

/**
 * §9.1: the same Request-URI, Call-ID, To, From and CSeq number as the
 * INVITE, and only its top Via (so the same branch); Route copied.
 */
export function buildCancel(invite: SipRequest, userAgent?: string): SipRequest {
  const h = new Headers();
  h.append('Via', invite.headers.get('Via')!);
  h.append('Max-Forwards', '70');
  for (const r of invite.headers.getAll('Route')) h.append('Route', r);
  h.append('From', invite.headers.get('From')!);
  h.append('To', invite.headers.get('To')!);
  h.append('Call-ID', invite.headers.get('Call-ID')!);
  h.append('CSeq', `${cseqOf(invite).seq} CANCEL`);
  if (userAgent) h.append('User-Agent', userAgent);
  h.append('Content-Length', '0');
  return { kind: 'request', method: 'CANCEL', uri: invite.uri, headers: h, body: Buffer.alloc(0) };
}
