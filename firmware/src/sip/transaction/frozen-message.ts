/**
 * A message a completed transaction keeps only to send it again: the final
 * response of a non-INVITE server transaction (retransmitted on every
 * retransmission of the request for Timer J, RFC 3261 §17.2.2) and the ACK of
 * an INVITE client transaction (sent again on every retransmission of the
 * non-2xx final for Timer D, §17.1.1.2).
 *
 * Why not keep the message object: its Headers are an array of field objects
 * whose values are V8 slices of the request's text (createResponse copies Via,
 * From, To, Call-ID and CSeq), so a kept response keeps the parsed request's
 * text alive too. Here the start line's text and every header field are packed
 * into one freshly allocated string, and Headers are rebuilt from it when the
 * transport serializes the message again (rare: only when a retransmission
 * comes). The bytes sent are the same as the first time: the serializer
 * (message/serialize.ts) writes each field as name, ": " and the value with
 * CR and LF turned into spaces, so packing the values already turned, with
 * LF between the parts, loses nothing it writes.
 */
import { Headers } from '../message/headers.js';
import type { SipRequest, SipResponse } from '../message/types.js';

const SEP = '\n';
const EMPTY: Buffer = Buffer.alloc(0);

/** What the serializer does to a value: a CR or LF inside it is written as SP. */
function clean(v: string): string {
  if (v.indexOf('\r') < 0 && v.indexOf('\n') < 0) return v;
  return v.replace(/\r\n|\r|\n/g, ' ');
}

/**
 * The start-line parts and every header field, LF-separated, in one new
 * string. Array.join copies the characters, so the result keeps no slice of
 * the request alive; the trailing empty part makes sure join always has two
 * parts or more (V8 may hand back a lone element itself).
 */
function pack(start: string[], headers: Headers): string {
  const parts = start.map(clean);
  for (const f of headers.entries()) parts.push(clean(f.name), clean(f.value));
  parts.push('');
  return parts.join(SEP);
}

/** Headers from the fields of a packed string, from part `first` on. */
function unpack(packed: string, first: number): Headers {
  const parts = packed.split(SEP);
  const headers = new Headers();
  // The last part is the empty one pack() appends.
  for (let i = first; i + 1 < parts.length; i += 2) headers.append(parts[i]!, parts[i + 1]!);
  return headers;
}

/** A body that keeps no other buffer alive (a small Buffer is usually a view of a shared 8 KiB pool slab). */
function ownBody(body: Buffer): Buffer {
  if (body.length === 0) return EMPTY;
  const copy = Buffer.allocUnsafeSlow(body.length);
  body.copy(copy);
  return copy;
}

class FrozenResponse implements SipResponse {
  constructor(
    readonly status: number,
    private readonly packed: string,
    readonly body: Buffer,
  ) {}

  get kind(): 'response' {
    return 'response';
  }

  get reason(): string {
    return this.packed.slice(0, this.packed.indexOf(SEP));
  }

  /** Rebuilt on every read: the message is only read to be serialized. */
  get headers(): Headers {
    return unpack(this.packed, 1);
  }
}

class FrozenRequest implements SipRequest {
  constructor(
    private readonly packed: string,
    readonly body: Buffer,
  ) {}

  get kind(): 'request' {
    return 'request';
  }

  get method(): string {
    return this.packed.slice(0, this.packed.indexOf(SEP));
  }

  get uri(): string {
    const a = this.packed.indexOf(SEP);
    return this.packed.slice(a + 1, this.packed.indexOf(SEP, a + 1));
  }

  get headers(): Headers {
    return unpack(this.packed, 2);
  }
}

/** A read-only response that serializes to the same bytes as `response` and keeps nothing else alive. */
export function freezeResponse(response: SipResponse): SipResponse {
  return new FrozenResponse(response.status, pack([response.reason], response.headers), ownBody(response.body));
}

/** A read-only request that serializes to the same bytes as `request` and keeps nothing else alive. */
export function freezeRequest(request: SipRequest): SipRequest {
  return new FrozenRequest(pack([request.method, request.uri], request.headers), ownBody(request.body));
}

/**
 * A copy of a short string that is not a V8 slice of (or a concatenation
 * holding) a longer one, such as a tag or an address parsed out of a request.
 * Concatenating makes a new string, and slicing that flattens it into fresh
 * storage (engine behaviour, measured by tests/bench/sip/transaction-memory.ts).
 */
export function detach(s: string): string {
  return (' ' + s).slice(1);
}
