/**
 * A tiny scripted SIP client over UDP for bad-input tests, run inside a test
 * namespace (the test process cannot enter one):
 *
 *   node --import tsx sip-probe.ts <spec.json>     → one JSON line on stdout
 *
 * The spec lists steps, done in order on one socket bound to `bind`:
 * - `send`: a raw datagram (utf8 text, or base64 bytes), then every datagram
 *   that comes back within waitMs; `fromNewPort` sends it from a socket of
 *   its own instead;
 * - `register`: REGISTER, and when challenged (401) REGISTER again with a
 *   digest (RFC 2617 MD5, qop=auth) for user/password; the status of each
 *   answer, or null when none came within waitMs (a throttled source is
 *   dropped silently).
 * Not a SIP stack: no retransmissions, one request in flight at a time.
 */
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';

export type ProbeStep =
  | { kind: 'send'; payload: string; base64?: boolean; waitMs: number; fromNewPort?: boolean }
  | { kind: 'register'; user: string; password: string; waitMs: number };

export interface ProbeSpec {
  bind: string;
  host: string;
  port: number;
  /** The registrar's domain for the Request-URI, To and From. */
  domain: string;
  steps: ProbeStep[];
}

export type ProbeResult =
  | { kind: 'send'; responses: string[] }
  | { kind: 'register'; statuses: Array<number | null>; challenge: string | null; final: string | null };

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const token = (): string => randomBytes(6).toString('hex');

async function main(): Promise<void> {
  const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ProbeSpec;
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, spec.bind, resolve));
  const localPort = sock.address().port;
  const inbox: string[] = [];
  let wake: (() => void) | null = null;
  sock.on('message', (m) => {
    inbox.push(m.toString('utf8'));
    wake?.();
  });

  const send = (data: Buffer): Promise<void> => new Promise((resolve, reject) => sock.send(data, spec.port, spec.host, (e) => (e ? reject(e) : resolve())));
  /** The next datagram within ms, or null. */
  const next = (ms: number): Promise<string | null> => {
    if (inbox.length > 0) return Promise.resolve(inbox.shift()!);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        wake = null;
        resolve(null);
      }, ms);
      wake = () => {
        clearTimeout(t);
        wake = null;
        resolve(inbox.shift() ?? null);
      };
    });
  };
  /** The next final response (provisional ones skipped) within ms. */
  const nextFinal = async (ms: number): Promise<string | null> => {
    const until = Date.now() + ms;
    for (;;) {
      const m = await next(Math.max(0, until - Date.now()));
      if (m === null || !/^SIP\/2\.0 1\d\d /.test(m)) return m;
    }
  };
  const statusOf = (m: string | null): number | null => (m === null ? null : Number(/^SIP\/2\.0 (\d{3})/.exec(m)?.[1] ?? NaN));

  const callId = `${token()}@${spec.bind}`;
  let cseq = 1;
  const register = (user: string, authorization?: string): Buffer =>
    Buffer.from(
      [
        `REGISTER sip:${spec.domain} SIP/2.0`,
        `Via: SIP/2.0/UDP ${spec.bind}:${localPort};branch=z9hG4bK${token()};rport`,
        `From: <sip:${user}@${spec.domain}>;tag=${token()}`,
        `To: <sip:${user}@${spec.domain}>`,
        `Call-ID: ${callId}`,
        `CSeq: ${cseq++} REGISTER`,
        `Contact: <sip:${user}@${spec.bind}:${localPort}>`,
        'Max-Forwards: 70',
        'Expires: 300',
        ...(authorization ? [`Authorization: ${authorization}`] : []),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );

  const results: ProbeResult[] = [];
  for (const step of spec.steps) {
    inbox.length = 0;
    if (step.kind === 'send') {
      const data = step.base64 ? Buffer.from(step.payload, 'base64') : Buffer.from(step.payload, 'utf8');
      if (step.fromNewPort) {
        // A scanner that changes source port for every datagram (answers to it are not collected).
        const other = dgram.createSocket('udp4');
        await new Promise<void>((resolve) => other.bind(0, spec.bind, resolve));
        await new Promise<void>((resolve, reject) => other.send(data, spec.port, spec.host, (e) => (e ? reject(e) : resolve())));
        other.close();
      } else {
        await send(data);
      }
      const responses: string[] = [];
      const until = Date.now() + step.waitMs;
      for (;;) {
        const m = await next(Math.max(0, until - Date.now()));
        if (m === null) break;
        responses.push(m);
      }
      results.push({ kind: 'send', responses });
      continue;
    }
    await send(register(step.user));
    const challenge = await nextFinal(step.waitMs);
    const statuses: Array<number | null> = [statusOf(challenge)];
    let final: string | null = null;
    const www = challenge ? /^WWW-Authenticate:\s*Digest\s+(.*)$/im.exec(challenge)?.[1] : undefined;
    if (statusOf(challenge) === 401 && www) {
      const param = (k: string): string => new RegExp(`${k}="?([^",]*)"?`, 'i').exec(www)?.[1] ?? '';
      const realm = param('realm');
      const nonce = param('nonce');
      const uri = `sip:${spec.domain}`;
      const cnonce = token();
      const nc = '00000001';
      const ha1 = md5(`${step.user}:${realm}:${step.password}`);
      const ha2 = md5(`REGISTER:${uri}`);
      const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
      const auth = `Digest username="${step.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
      await send(register(step.user, auth));
      final = await nextFinal(step.waitMs);
      statuses.push(statusOf(final));
    }
    results.push({ kind: 'register', statuses, challenge, final });
  }
  sock.close();
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`sip-probe: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(2);
});
