/**
 * SDP parser (RFC 4566). Strict about the structure the gateway depends on
 * (v= first, a valid o=, well-formed c= and m= lines, numeric ports) and
 * tolerant about the rest: LF or CRLF line ends, blank lines, unknown line
 * types and attributes, which are kept in order for a lossless round trip.
 */
import { PgwError } from '../../util/errors.js';
import type { Sdp, SdpAttribute, SdpConnection, SdpMedia, SdpOrigin } from './sdp-types.js';

/** A body larger than this is not an SDP a phone sends; refuse before splitting it. */
export const MAX_SDP_BYTES = 65_535;

function fail(message: string, line?: number): never {
  throw new PgwError('PGW_E_SDP_PARSE', message, line === undefined ? {} : { context: { line } });
}

export function parseAttribute(value: string): SdpAttribute {
  const colon = value.indexOf(':');
  if (colon < 0) return { name: value, value: null };
  return { name: value.slice(0, colon), value: value.slice(colon + 1) };
}

function parseOrigin(value: string, line: number): SdpOrigin {
  const f = value.trim().split(/ +/);
  if (f.length !== 6) fail(`o= needs 6 fields, got ${f.length}`, line);
  const [username, sessionId, sessionVersion, netType, addrType, address] = f as [string, string, string, string, string, string];
  // RFC 4566 §5.2: sess-id and sess-version are numeric strings.
  if (!/^\d+$/.test(sessionId) || !/^\d+$/.test(sessionVersion)) fail('o= session id and version must be numeric', line);
  return { username, sessionId, sessionVersion, netType, addrType, address };
}

function parseConnection(value: string, line: number): SdpConnection {
  const f = value.trim().split(/ +/);
  if (f.length !== 3) fail(`c= needs 3 fields, got ${f.length}`, line);
  const [netType, addrType, address] = f as [string, string, string];
  if (addrType !== 'IP4' && addrType !== 'IP6') fail(`c= address type ${addrType} is not IP4 or IP6`, line);
  return { netType, addrType, address };
}

function parseMedia(value: string, line: number): SdpMedia {
  const f = value.trim().split(/ +/);
  // RFC 4566 §5.14: at least one format; tolerate none (seen from broken UAs on rejected streams).
  if (f.length < 3) fail('m= needs media, port and proto', line);
  const [type, portField, proto] = f as [string, string, string];
  const m = /^(\d{1,5})(?:\/(\d+))?$/.exec(portField);
  if (!m) fail(`m= port "${portField}" is not a number`, line);
  const port = Number(m[1]);
  if (port > 65_535) fail(`m= port ${port} out of range`, line);
  return {
    type,
    port,
    portCount: m[2] === undefined ? null : Number(m[2]),
    proto,
    formats: f.slice(3),
    connection: null,
    lines: [],
    attributes: [],
  };
}

export function parseSdp(text: string): Sdp {
  if (text.length > MAX_SDP_BYTES) fail(`SDP body of ${text.length} bytes is too large`);
  const rawLines = text.split(/\r?\n/);
  let sdp: Sdp | null = null;
  let version: number | null = null;
  let origin: SdpOrigin | null = null;
  let sessionName: string | null = null;
  let media: SdpMedia | null = null;

  for (let i = 0; i < rawLines.length; i++) {
    const raw = rawLines[i]!;
    const lineNo = i + 1;
    if (raw.trim() === '') continue;
    if (raw.length < 2 || raw[1] !== '=' || !/^[a-zA-Z]$/.test(raw[0]!)) fail(`not an SDP line: "${raw.slice(0, 40)}"`, lineNo);
    const type = raw[0]!;
    const value = raw.slice(2);

    if (version === null) {
      if (type !== 'v') fail('SDP must start with v=', lineNo);
      if (!/^\d+$/.test(value.trim())) fail('v= must be a number', lineNo);
      version = Number(value.trim());
      continue;
    }
    if (sdp === null) {
      // Between v= and the first line after s=: o= then s= (RFC 4566 §5 order).
      if (type === 'o' && origin === null) {
        origin = parseOrigin(value, lineNo);
        continue;
      }
      if (type === 's' && sessionName === null) {
        if (origin === null) fail('o= must come before s=', lineNo);
        sessionName = value;
        continue;
      }
      if (origin === null) fail('o= must follow v=', lineNo);
      // Tolerate a missing s= (some UAs omit it): the session starts here.
      sdp = { version, origin, sessionName: sessionName ?? '-', connection: null, lines: [], attributes: [], media: [] };
    }

    if (type === 'm') {
      media = parseMedia(value, lineNo);
      sdp.media.push(media);
      continue;
    }
    if (type === 'a') {
      (media ? media.attributes : sdp.attributes).push(parseAttribute(value));
      continue;
    }
    if (type === 'c') {
      const c = parseConnection(value, lineNo);
      const holder = media ?? sdp;
      // A second c= (layered multicast) is kept as a raw line.
      if (holder.connection === null) holder.connection = c;
      else holder.lines.push({ type, value });
      continue;
    }
    if (type === 'v' || type === 'o' || type === 's') {
      if (media === null) fail(`duplicate ${type}= line`, lineNo);
    }
    (media ? media.lines : sdp.lines).push({ type, value });
  }

  if (version === null) fail('empty SDP');
  if (origin === null) fail('SDP has no o= line');
  if (sdp === null) sdp = { version, origin, sessionName: sessionName ?? '-', connection: null, lines: [], attributes: [], media: [] };
  return sdp;
}
