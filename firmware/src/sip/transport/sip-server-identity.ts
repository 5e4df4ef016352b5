/**
 * The server identity check of a TLS connection we open (RFC 5922 §7).
 *
 * A SIP domain certificate names its domain in a subjectAltName: a `sip:`
 * URI (`URI:sip:example.com`, §7.1, the form RFC 5922 recommends for SIP)
 * or a DNS name. Node's own check (tls.checkServerIdentity) no longer
 * accepts URI SANs, so a `sip:` URI SAN whose host is the server name is
 * accepted here, compared in full and without case (§7.2; a URI with a user
 * part names a user, not a domain, and does not count); everything else
 * (DNS SANs, IP SANs for address literals, CN when there is no SAN at all)
 * is left to Node's check.
 */
import { isIP } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';

/** The hosts of the `sip:` URI SANs of a certificate (lower case). */
export function sipUriDomains(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const out: string[] = [];
  for (const raw of subjectAltName.split(/,\s*/)) {
    // Node quotes a value with special characters: URI:"sip:...".
    const entry = raw.replace(/^URI:"(.*)"$/, 'URI:$1');
    const m = /^URI:sip:([^;?>]+)/i.exec(entry.trim());
    if (!m || m[1] === undefined) continue;
    const hostPort = m[1];
    if (hostPort.includes('@')) continue;
    const host = hostPort.startsWith('[') ? hostPort.slice(1, hostPort.indexOf(']')) : hostPort.split(':')[0];
    if (host) out.push(host.toLowerCase());
  }
  return out;
}

/** tls.connect's checkServerIdentity: undefined when `host` is named by the certificate, else the error. */
export function checkSipServerIdentity(host: string, cert: PeerCertificate): Error | undefined {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (isIP(name) === 0 && sipUriDomains(cert.subjectaltname).includes(name)) return undefined;
  return checkServerIdentity(host, cert);
}
