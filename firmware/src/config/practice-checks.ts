/**
 * Rules of a practice that span fields, run once the structure is valid.
 * Each problem carries the path of the field to fix, relative to the
 * practice (the caller adds the `practice` prefix).
 */
import type { ConfigProblem, PathSegment } from './problems.js';
import { formatPath } from './problems.js';
import { parseConfigSipUri } from './sip-uri.js';
import type { Practice } from './practice-schema.js';

/** Ofcom General Condition A3: these must always reach the emergency services. */
export const REQUIRED_EMERGENCY_NUMBERS = ['999', '112'] as const;

/** The uplink name the cloud uplink has in status and events. */
export const CLOUD_UPLINK_NAME = 'cloud';

export function checkPractice(p: Practice, prefix = 'practice'): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (path: PathSegment[], message: string): void => {
    problems.push({ path: formatPath(path, prefix), message });
  };

  // Numbers: extensions, hunt groups and emergency numbers share one space.
  const owner = new Map<string, string>();
  const emergency = new Set(p.emergency.numbers);
  p.extensions.forEach((e, i) => {
    const seen = owner.get(e.number);
    if (seen) at(['extensions', i, 'number'], `${e.number} is already used by ${seen}`);
    else if (emergency.has(e.number)) at(['extensions', i, 'number'], `${e.number} is an emergency number`);
    else owner.set(e.number, `extensions[${i}]`);
  });
  const extensionNumbers = new Set(p.extensions.map((e) => e.number));
  p.huntGroups.forEach((g, i) => {
    const seen = owner.get(g.number);
    if (seen) at(['huntGroups', i, 'number'], `${g.number} is already used by ${seen}`);
    else if (emergency.has(g.number)) at(['huntGroups', i, 'number'], `${g.number} is an emergency number`);
    else owner.set(g.number, `huntGroups[${i}]`);
    const members = new Set<string>();
    g.members.forEach((m, j) => {
      if (!extensionNumbers.has(m)) at(['huntGroups', i, 'members', j], `no extension ${m}`);
      else if (members.has(m)) at(['huntGroups', i, 'members', j], `${m} is listed twice`);
      members.add(m);
    });
  });
  const groupNumbers = new Set(p.huntGroups.map((g) => g.number));
  p.huntGroups.forEach((g, i) => {
    if (g.overflow === undefined) return;
    if (g.overflow === g.number) at(['huntGroups', i, 'overflow'], 'cannot overflow to itself');
    else if (!extensionNumbers.has(g.overflow) && !groupNumbers.has(g.overflow))
      at(['huntGroups', i, 'overflow'], `no extension or hunt group ${g.overflow}`);
  });

  const prefix9 = p.dialPlan.outsideLinePrefix;
  if (prefix9 !== undefined) {
    p.extensions.forEach((e, i) => {
      if (e.number.startsWith(prefix9))
        at(['extensions', i, 'number'], `starts with the outside-line prefix ${prefix9}, so it could never be dialled`);
    });
    p.huntGroups.forEach((g, i) => {
      if (g.number.startsWith(prefix9))
        at(['huntGroups', i, 'number'], `starts with the outside-line prefix ${prefix9}, so it could never be dialled`);
    });
  }

  const emergencySeen = new Set<string>();
  p.emergency.numbers.forEach((n, i) => {
    if (emergencySeen.has(n)) at(['emergency', 'numbers', i], `${n} is listed twice`);
    emergencySeen.add(n);
  });
  for (const required of REQUIRED_EMERGENCY_NUMBERS) {
    if (!emergencySeen.has(required)) at(['emergency', 'numbers'], `must include ${required}`);
  }

  // Inbound routes: each DID once, to something that exists.
  const dids = new Map<string, number>();
  p.inbound.forEach((r, i) => {
    const first = dids.get(r.did);
    if (first !== undefined) at(['inbound', i, 'did'], `${r.did} is already routed by inbound[${first}]`);
    else dids.set(r.did, i);
    if (!extensionNumbers.has(r.destination) && !groupNumbers.has(r.destination))
      at(['inbound', i, 'destination'], `no extension or hunt group ${r.destination}`);
  });

  // SIP: listening points, RTP range.
  const points = new Set<string>();
  p.sip.listen.forEach((l, i) => {
    const key = `${l.transport} ${l.host} ${l.port}`;
    if (points.has(key)) at(['sip', 'listen', i], `${l.transport} ${l.host}:${l.port} is listed twice`);
    points.add(key);
    if (l.transport === 'tls' && l.tls === undefined) at(['sip', 'listen', i, 'tls'], 'required when transport is tls');
    if (l.transport !== 'tls' && l.tls !== undefined) at(['sip', 'listen', i, 'tls'], 'only for transport tls');
  });
  const codecs = new Set<string>();
  p.sip.codecs.forEach((c, i) => {
    if (codecs.has(c)) at(['sip', 'codecs', i], `${c} is listed twice`);
    codecs.add(c);
  });
  const { portMin, portMax } = p.sip.rtp;
  // RFC 3550 §11: RTP takes an even port and RTCP the odd one above it.
  if (portMin % 2 !== 0) at(['sip', 'rtp', 'portMin'], 'must be even (RTP on even ports, RFC 3550 §11)');
  if (portMin >= portMax) at(['sip', 'rtp', 'portMax'], `must be greater than portMin (${portMin})`);
  const reg = p.sip.registration;
  if (reg.minExpires > reg.maxExpires) at(['sip', 'registration', 'minExpires'], `must not exceed maxExpires (${reg.maxExpires})`);
  if (reg.defaultExpires < reg.minExpires || reg.defaultExpires > reg.maxExpires)
    at(['sip', 'registration', 'defaultExpires'], `must be between minExpires and maxExpires`);
  if (p.sip.sessionTimers.expires < p.sip.sessionTimers.minSE)
    at(['sip', 'sessionTimers', 'expires'], `must not be below minSE (${p.sip.sessionTimers.minSE})`);

  // Uplinks. One reached over TLS needs a TLS listening point: the transport
  // opens TLS connections from its TLS listener, whose port goes in our Via and
  // Contact (and where the peer may connect back to send calls).
  const tlsListening = p.sip.listen.some((l) => l.transport === 'tls');
  const needsTlsListener = (uri: string, path: PathSegment[]): void => {
    const parsed = parseConfigSipUri(uri);
    if ('error' in parsed || tlsListening) return;
    if (parsed.scheme === 'sips' || parsed.transport === 'tls')
      at(path, 'reached over TLS, which needs a tls listening point in sip.listen (transport tls, with its certificate)');
  };
  const uplinks = p.uplinks;
  if (uplinks?.cloud) needsTlsListener(uplinks.cloud.proxy, ['uplinks', 'cloud', 'proxy']);
  uplinks?.trunks.forEach((t, i) => {
    needsTlsListener(t.registrar, ['uplinks', 'trunks', i, 'registrar']);
    if (t.proxy !== undefined) needsTlsListener(t.proxy, ['uplinks', 'trunks', i, 'proxy']);
  });
  if (uplinks?.cloud) {
    const c = uplinks.cloud;
    checkUriTls(c.proxy, c.tls, ['uplinks', 'cloud', 'proxy'], at);
    checkTlsPair(c.tls, ['uplinks', 'cloud', 'tls'], at);
    if (c.mode === 'register') {
      p.extensions.forEach((e, i) => {
        if (e.cloudAccount === undefined) at(['extensions', i, 'cloudAccount'], 'required when uplinks.cloud.mode is register');
      });
    }
  }
  const names = new Map<string, number>();
  uplinks?.trunks.forEach((t, i) => {
    if (t.name === CLOUD_UPLINK_NAME) at(['uplinks', 'trunks', i, 'name'], `"${CLOUD_UPLINK_NAME}" is the cloud uplink's name`);
    const first = names.get(t.name);
    if (first !== undefined) at(['uplinks', 'trunks', i, 'name'], `${t.name} is already the name of trunks[${first}]`);
    else names.set(t.name, i);
    checkUriTls(t.registrar, t.tls, ['uplinks', 'trunks', i, 'registrar'], at);
    if (t.proxy !== undefined) checkUriTls(t.proxy, t.tls, ['uplinks', 'trunks', i, 'proxy'], at);
    checkTlsPair(t.tls, ['uplinks', 'trunks', i, 'tls'], at);
  });
  return problems;
}

type At = (path: PathSegment[], message: string) => void;

/** tls settings only mean something when the URI is reached over TLS. */
function checkUriTls(uri: string, tls: object | undefined, path: PathSegment[], at: At): void {
  const parsed = parseConfigSipUri(uri);
  if ('error' in parsed) return; // already reported by the schema
  const overTls = parsed.scheme === 'sips' || parsed.transport === 'tls';
  if (tls !== undefined && !overTls) at(path, 'tls settings are given but this URI does not use TLS (sips: or ;transport=tls)');
}

function checkTlsPair(tls: { cert?: string | undefined; key?: string | undefined } | undefined, path: PathSegment[], at: At): void {
  if (tls === undefined) return;
  if ((tls.cert === undefined) !== (tls.key === undefined)) at(path, 'cert and key go together');
}
