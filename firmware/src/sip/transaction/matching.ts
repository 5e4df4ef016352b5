/**
 * Transaction matching keys.
 *
 * Client (RFC 3261 §17.1.3): the top Via branch and the CSeq method of the
 * response (so a CANCEL's 200 does not match the INVITE it shares a branch with).
 *
 * Server (§17.2.3), for requests whose branch carries the magic cookie: the
 * branch, the top Via sent-by and the method, with ACK mapped to INVITE. For
 * RFC 2543 requests (no cookie), the fallback key is Request-URI, From tag,
 * Call-ID, CSeq number and the whole top Via, plus the To tag and method for
 * anything but ACK; an ACK then also needs the To tag of the response the
 * transaction sent. `target` keys drop the method: they find the transaction
 * a CANCEL (§9.2) or an ACK refers to.
 *
 * Merged requests (§8.2.2.2): a request without a To tag is checked against
 * live transactions by From tag, Call-ID and CSeq.
 *
 * Keys are built with Array.join, not template literals: a completed
 * transaction keeps its keys for Timer J (32 s), and V8 keeps the whole
 * request text alive behind a string that is a slice of it (the branch, the
 * Call-ID) or a concatenation of such slices; join copies the characters.
 */
import { isRfc3261Branch, nameAddrTag, parseCSeq } from '../message/index.js';
import type { SipRequest, SipResponse, Via } from '../message/types.js';
import { defaultPort } from '../transport/api.js';
import { canonicalAddress } from '../transport/local-address.js';
import { viaProtocol } from '../transport/response-route.js';
import { readTopVia } from '../transport/via-stamp.js';

export interface RequestIdentity {
  method: string;
  via: Via;
  branch: string | undefined;
  /** The branch has the RFC 3261 magic cookie (§8.1.1.7). */
  rfc3261: boolean;
  callId: string;
  cseq: number;
  fromTag: string | undefined;
  toTag: string | undefined;
  /** Server key: identifies the transaction this request creates or retransmits. */
  key: string;
  /** The transaction an ACK or CANCEL refers to, method aside. */
  target: string;
}

/** The identity of an inbound request, or undefined when it lacks what matching needs. */
export function requestIdentity(request: SipRequest): RequestIdentity | undefined {
  const via = readTopVia(request);
  const callId = request.headers.get('Call-ID');
  const cseqValue = request.headers.get('CSeq');
  if (!via || callId === undefined || cseqValue === undefined) return undefined;
  let cseq: number;
  try {
    cseq = parseCSeq(cseqValue).seq;
  } catch {
    return undefined;
  }
  const branch = via.params.get('branch') ?? undefined;
  const fromTag = nameAddrTag(request.headers.get('From') ?? '');
  const toTag = nameAddrTag(request.headers.get('To') ?? '');
  const method = request.method;
  const txMethod = method === 'ACK' ? 'INVITE' : method;
  const rfc3261 = isRfc3261Branch(branch);
  let target: string;
  let key: string;
  if (rfc3261) {
    target = [branch, sentBy(via)].join('|');
    key = [target, txMethod].join('|');
  } else {
    // RFC 2543 peers: no usable branch (§17.2.3, last paragraphs).
    target = ['2543', request.uri, fromTag ?? '', callId.trim(), cseq, viaText(via)].join('|');
    key = [target, method === 'ACK' ? '' : (toTag ?? ''), txMethod].join('|');
  }
  return { method, via, branch, rfc3261, callId: callId.trim(), cseq, fromTag, toTag, key, target };
}

/** §8.2.2.2: the merge key of a request without a To tag, else undefined. */
export function mergeKey(id: RequestIdentity): string | undefined {
  if (id.toTag !== undefined || id.method === 'ACK' || id.method === 'CANCEL') return undefined;
  // The parser has checked that the CSeq method is the request method.
  return [id.fromTag ?? '', id.callId, id.cseq, id.method].join('|');
}

/** §17.1.3: the client transaction a response belongs to. */
export function responseKey(response: SipResponse): string | undefined {
  const via = readTopVia(response);
  const branch = via?.params.get('branch');
  const cseq = response.headers.get('CSeq');
  if (!branch || cseq === undefined) return undefined;
  try {
    return clientKey(branch, parseCSeq(cseq).method);
  } catch {
    return undefined;
  }
}

export function clientKey(branch: string, method: string): string {
  return [branch, method].join('|');
}

/** sent-by with the default port made explicit and the host normalised. */
function sentBy(via: Via): string {
  const port = via.port ?? defaultPort(viaProtocol(via) ?? 'udp');
  return `${canonicalAddress(via.host)}:${port}`;
}

function viaText(via: Via): string {
  const params = [...via.params].map(([k, v]) => `${k.toLowerCase()}=${v ?? ''}`);
  // received/rport were stamped by our transport: not part of what the peer sent.
  return `${via.transport}|${sentBy(via)}|${params.filter((p) => !/^(received|rport)=/.test(p)).join(';')}`;
}
