/**
 * `host:port` as written in the gateway file (`device.admin.listen`).
 * IPv6 hosts are bracketed, as in URIs (RFC 3986 §3.2.2): `[::1]:8080`.
 * Port 0 is accepted on purpose: it asks the OS for a free port, which tests use.
 */
export interface HostPort {
  host: string;
  port: number;
}

const BRACKETED = /^\[([0-9A-Fa-f:.]+)\]:([0-9]{1,5})$/;
const PLAIN = /^([A-Za-z0-9.-]+):([0-9]{1,5})$/;

/** Parses `host:port`; returns undefined when it is not one. The IPv6 host comes back without brackets. */
export function parseHostPort(text: string): HostPort | undefined {
  const m = BRACKETED.exec(text) ?? PLAIN.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port > 65535) return undefined;
  return { host: m[1]!, port };
}

/** The inverse of parseHostPort: brackets an IPv6 host again. */
export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}
