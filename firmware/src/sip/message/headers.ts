/**
 * Ordered, case-insensitive header storage. Names are stored in their
 * canonical long form (`v` → `Via`, RFC 3261 §7.3.3) so lookups never have to
 * care about compact forms; values are kept as received.
 */

/** RFC 3261 §7.3.3 plus the compact forms registered since (RFC 3265, 3515, 3841, 4028, 4474). */
const COMPACT: Record<string, string> = {
  i: 'Call-ID',
  m: 'Contact',
  e: 'Content-Encoding',
  l: 'Content-Length',
  c: 'Content-Type',
  f: 'From',
  s: 'Subject',
  k: 'Supported',
  t: 'To',
  v: 'Via',
  o: 'Event',
  r: 'Refer-To',
  b: 'Referred-By',
  a: 'Accept-Contact',
  j: 'Reject-Contact',
  d: 'Request-Disposition',
  x: 'Session-Expires',
  u: 'Allow-Events',
  y: 'Identity',
  n: 'Identity-Info',
};

/** Spellings that title-casing would get wrong. */
const SPECIAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity',
  'rseq': 'RSeq',
  'rack': 'RAck',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
  'min-se': 'Min-SE',
};

const canonicalCache = new Map<string, string>();

/** `v` → `Via`, `call-id` → `Call-ID`, `x-foo-bar` → `X-Foo-Bar`. */
export function canonicalHeaderName(name: string): string {
  const cached = canonicalCache.get(name);
  if (cached !== undefined) return cached;
  const lower = name.toLowerCase();
  let out: string;
  if (lower.length === 1 && COMPACT[lower]) out = COMPACT[lower];
  else if (SPECIAL[lower]) out = SPECIAL[lower];
  else out = lower.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
  if (canonicalCache.size < 10_000) canonicalCache.set(name, out);
  return out;
}

export interface HeaderField {
  /** Canonical long form. */
  name: string;
  value: string;
}

export class Headers {
  private fields: HeaderField[];

  constructor(fields: Iterable<[string, string]> | HeaderField[] = []) {
    this.fields = [];
    for (const f of fields as Iterable<[string, string] | HeaderField>) {
      if (Array.isArray(f)) this.append(f[0], f[1]);
      else this.append(f.name, f.value);
    }
  }

  /** The first value of a header, or undefined. */
  get(name: string): string | undefined {
    const n = canonicalHeaderName(name);
    for (const f of this.fields) if (f.name === n) return f.value;
    return undefined;
  }

  /** Every header line with this name, in order (not split on commas: see splitHeaderValues). */
  getAll(name: string): string[] {
    const n = canonicalHeaderName(name);
    const out: string[] = [];
    for (const f of this.fields) if (f.name === n) out.push(f.value);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replace every line of this header with one. */
  set(name: string, value: string): this {
    const n = canonicalHeaderName(name);
    const i = this.fields.findIndex((f) => f.name === n);
    if (i < 0) {
      this.fields.push({ name: n, value });
      return this;
    }
    this.fields[i] = { name: n, value };
    this.fields = this.fields.filter((f, j) => j <= i || f.name !== n);
    return this;
  }

  append(name: string, value: string): this {
    this.fields.push({ name: canonicalHeaderName(name), value });
    return this;
  }

  /** Insert before the first line of the same name (a new top Via), else at the top. */
  prepend(name: string, value: string): this {
    const n = canonicalHeaderName(name);
    const i = this.fields.findIndex((f) => f.name === n);
    this.fields.splice(i < 0 ? 0 : i, 0, { name: n, value });
    return this;
  }

  delete(name: string): this {
    const n = canonicalHeaderName(name);
    this.fields = this.fields.filter((f) => f.name !== n);
    return this;
  }

  /** Remove only the first line of this header (the top Via when a response goes upstream). */
  deleteFirst(name: string): this {
    const n = canonicalHeaderName(name);
    const i = this.fields.findIndex((f) => f.name === n);
    if (i >= 0) this.fields.splice(i, 1);
    return this;
  }

  entries(): readonly HeaderField[] {
    return this.fields;
  }

  clone(): Headers {
    const h = new Headers();
    h.fields = this.fields.map((f) => ({ ...f }));
    return h;
  }
}
