/**
 * Health checks for the trial boot that test the gateway from the outside,
 * through its contracts, rather than trusting its own opinion of itself:
 *
 * - sipOptionsProbe: sends SIP OPTIONS to the gateway's own UDP listener
 *   and wants a 200 (CONTRACT.md: OPTIONS to the gateway are answered 200
 *   without authentication). Proves the SIP stack is up and answering.
 * - adminStatusProbe: GET /api/v1/status from the local admin API and
 *   checks the practice config is applied (configVersion set) and an
 *   uplink is `up` or `standby` (cloud or a backup trunk reachable).
 *
 * combineHealth() runs them together; each check's timeout is the caller's
 * AbortSignal. The composition root may add its own checks.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { HealthCheck, HealthCheckItem, HealthReport } from './ports.js';

export interface HealthProbe {
  name: string;
  run(signal: AbortSignal): Promise<{ ok: boolean; detail?: string }>;
}

export function combineHealth(probes: readonly HealthProbe[]): HealthCheck {
  return {
    async check(signal) {
      const checks: HealthCheckItem[] = await Promise.all(
        probes.map(async (p) => {
          try {
            const r = await p.run(signal);
            return { name: p.name, ok: r.ok, ...(r.detail !== undefined ? { detail: r.detail } : {}) };
          } catch (e) {
            return { name: p.name, ok: false, detail: (e as Error).message };
          }
        }),
      );
      const report: HealthReport = { healthy: checks.length > 0 && checks.every((c) => c.ok), checks };
      return report;
    },
  };
}

/** OPTIONS over UDP to host:port; ok on a 200 with our Call-ID. */
export function sipOptionsProbe(options: { host: string; port: number; name?: string }): HealthProbe {
  return {
    name: options.name ?? 'sip',
    run: (signal) =>
      new Promise((resolve, reject) => {
        const sock = dgram.createSocket(options.host.includes(':') ? 'udp6' : 'udp4');
        const callId = `${randomBytes(8).toString('hex')}@pgw-ota-health`;
        const branch = `z9hG4bK${randomBytes(8).toString('hex')}`;
        const finish = (fn: () => void): void => {
          signal.removeEventListener('abort', onAbort);
          sock.close();
          fn();
        };
        const onAbort = (): void => finish(() => resolve({ ok: false, detail: 'no answer to OPTIONS' }));
        signal.addEventListener('abort', onAbort, { once: true });
        sock.on('error', (e) => finish(() => reject(e)));
        sock.on('message', (buf) => {
          const text = buf.toString('utf8');
          if (!text.includes(callId)) return;
          const status = /^SIP\/2\.0 (\d{3})/.exec(text)?.[1];
          finish(() => resolve({ ok: status === '200', detail: `OPTIONS answered ${status ?? 'garbage'}` }));
        });
        sock.bind(0, () => {
          const local = sock.address();
          const host = options.host.includes(':') ? `[${options.host}]` : options.host;
          // RFC 3261 §11.1: a minimal OPTIONS; Max-Forwards 0 keeps it from being proxied anywhere.
          const msg = [
            `OPTIONS sip:${host}:${options.port} SIP/2.0`,
            `Via: SIP/2.0/UDP ${local.address}:${local.port};branch=${branch};rport`,
            'Max-Forwards: 0',
            `From: <sip:ota-health@${host}>;tag=${randomBytes(4).toString('hex')}`,
            `To: <sip:${host}:${options.port}>`,
            `Call-ID: ${callId}`,
            'CSeq: 1 OPTIONS',
            'Accept: application/sdp',
            'Content-Length: 0',
            '',
            '',
          ].join('\r\n');
          sock.send(msg, options.port, options.host);
        });
      }),
  };
}

interface StatusBody {
  configVersion?: unknown;
  uplinks?: Array<{ name?: unknown; state?: unknown }>;
}

/** GET {api}/api/v1/status: config applied, and an uplink up or standby (when the practice has uplinks). */
export function adminStatusProbe(options: { api: string; requireUplink?: boolean }): HealthProbe[] {
  let last: Promise<StatusBody> | undefined;
  const fetchStatus = (signal: AbortSignal): Promise<StatusBody> =>
    new Promise((resolve, reject) => {
      const req = http.get(new URL('/api/v1/status', options.api), { signal, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`status API answered ${res.statusCode}`));
          try {
            resolve(JSON.parse(body) as StatusBody);
          } catch {
            reject(new Error('status API answered non-JSON'));
          }
        });
      });
      req.on('error', reject);
    });
  // Both probes share one request per check round.
  const get = (signal: AbortSignal): Promise<StatusBody> => {
    last ??= fetchStatus(signal).finally(() => {
      setImmediate(() => (last = undefined));
    });
    return last;
  };
  return [
    {
      name: 'config',
      run: async (signal) => {
        const s = await get(signal);
        const ok = typeof s.configVersion === 'number';
        return { ok, detail: ok ? `practice config ${s.configVersion} applied` : 'no practice config applied' };
      },
    },
    {
      name: 'uplink',
      run: async (signal) => {
        const s = await get(signal);
        const uplinks = Array.isArray(s.uplinks) ? s.uplinks : [];
        if (uplinks.length === 0) return { ok: options.requireUplink !== true, detail: 'no uplinks configured' };
        const good = uplinks.filter((u) => u.state === 'up' || u.state === 'standby');
        return {
          ok: good.length > 0,
          detail: good.length > 0 ? `reachable: ${good.map((u) => String(u.name)).join(', ')}` : 'no uplink up or standby',
        };
      },
    },
  ];
}
