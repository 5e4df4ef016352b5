/**
 * The small check the config needs on uplink URIs (`uplinks.cloud.proxy`,
 * `trunks[].registrar`, `trunks[].proxy`): a sip: or sips: URI
 * (RFC 3261 §19.1.1) naming a host, with an optional port and an optional
 * transport parameter. The full parser lives in sip/message; config sits
 * below every layer, so it keeps this narrow check of its own.
 */
export type UriTransport = 'udp' | 'tcp' | 'tls';

export interface ConfigSipUri {
  scheme: 'sip' | 'sips';
  user?: string;
  host: string;
  port?: number;
  /** From `;transport=`; undefined when the URI does not say (RFC 3263 decides). */
  transport?: UriTransport;
}

// scheme : [user@] host [:port] *(;param) [?headers]
// host: a hostname, an IPv4 address or a bracketed IPv6 reference (§25.1).
const URI =
  /^(sips?):(?:([A-Za-z0-9\-_.!~*'()&=+$,;?/%]+)@)?((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?((?:;[^;?=]+(?:=[^;?]*)?)*)(\?.*)?$/;

/** Returns the parsed URI, or a message saying why it is not one. */
export function parseConfigSipUri(text: string): ConfigSipUri | { error: string } {
  const m = URI.exec(text);
  if (!m) return { error: 'must be a sip: or sips: URI with a host, e.g. sip:sbc.example.net:5060;transport=udp' };
  const scheme = m[1] as 'sip' | 'sips';
  const uri: ConfigSipUri = { scheme, host: m[3]! };
  if (m[2] !== undefined) uri.user = m[2];
  if (m[4] !== undefined) {
    const port = Number(m[4]);
    if (port < 1 || port > 65535) return { error: `port ${m[4]} is out of range 1-65535` };
    uri.port = port;
  }
  for (const param of (m[5] ?? '').split(';').slice(1)) {
    const [name, value] = param.split('=');
    if (name?.toLowerCase() !== 'transport') continue;
    const t = (value ?? '').toLowerCase();
    if (t !== 'udp' && t !== 'tcp' && t !== 'tls') return { error: `transport=${value ?? ''} is not one of udp, tcp, tls` };
    uri.transport = t;
  }
  // RFC 3261 §26.2.2: a sips URI must be reached over TLS all the way.
  if (scheme === 'sips' && uri.transport === 'udp') return { error: 'a sips: URI cannot use transport=udp' };
  return uri;
}
