/**
 * A baresip soft phone (Debian `baresip-core` 1.0) as a desk phone in tests:
 * it plays a WAV file as its microphone, records what it hears, and is driven
 * over ctrl_tcp (netstring-framed JSON) with typed events to wait for.
 *
 *   const phone = await BaresipPhone.start({
 *     name: 'alice', netns: topo.ns('lan'), listenIp: topo.addr('lan', 'gw'), sipPort: 5060,
 *     user: '201', registrar: { host: topo.addr('gw', 'lan'), port: 5060, password: 's3cret' },
 *     toneWav: await makeTone({ path: join(dir, '1000.wav'), freqHz: 1000, seconds: 30 }),
 *   });
 *   try {
 *     await phone.waitFor('REGISTER_OK', { timeoutMs: 5000 });
 *     await phone.dial('sip:202@10.90.1.1');
 *     await phone.waitFor('CALL_ESTABLISHED', { timeoutMs: 5000 });
 *     ...
 *     await phone.hangup();
 *     await phone.waitFor('CALL_CLOSED', { timeoutMs: 5000 });
 *     analyzeWav(phone.recordedWav());
 *   } finally {
 *     const log = await phone.stop();   // the phone's stdout, for a failure message
 *   }
 *
 * What baresip 1.0 needs, found by experiment (see tests/support/README.md):
 * - Audio: `audio_source aufile,<wav>` (source only: aufile has no player in
 *   1.0), `audio_player aubridge,nil` as a null sink (no sound card), and the
 *   `sndfile` filter writing `dump-<YYYY-MM-DD-HH-MM-SS>-{enc,dec}.wav` to
 *   `snd_path` (dec = what it heard, enc = what it sent).
 * - aufile ends the call when the WAV ends; it refuses a WAV whose rate is not
 *   the codec's (8 kHz for PCMU/PCMA, 16 kHz for G.722).
 * - `audio_codecs` entries need the full name for G.722 (`G722/16000/1`; a bare
 *   `G722` looks for G722/8000 and is dropped).
 * - ctrl_tcp keeps ONE client: a second connection silently takes over the
 *   event stream and the responses. This class holds the one connection.
 * - Events: REGISTER_OK / REGISTER_FAIL, CALL_INCOMING (only with
 *   answermode=manual), CALL_RINGING (caller), CALL_ESTABLISHED, CALL_CLOSED,
 *   CALL_RTPESTAB, CALL_RTCP, AUDIO_ERROR (e.g. end of file), CALL_LOCAL_SDP,
 *   CALL_REMOTE_SDP.
 * - Events only go to a connected ctrl_tcp client, and registration starts
 *   as soon as an account exists: the account is therefore added with
 *   `uanew` after connecting, so REGISTER_OK is never missed.
 * - stdout is block-buffered when not a tty: run under `stdbuf -oL -eL` so the
 *   log is live; `statmode_default off` stops the per-call bitrate ticker.
 * - It binds TLS on the SIP port + 1 (and TCP on the SIP port): space phones'
 *   SIP ports by 10. ctrl_tcp listens on 127.0.0.1:<sipPort + 5> by default.
 * - In a namespace, ctrl_tcp is reached through a socat Unix-socket relay
 *   (ns-forward.ts), because the test process cannot enter the namespace.
 */
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forwardTcpFromNamespace } from './ns-forward.js';
import type { NsForward } from './ns-forward.js';
import { nsSpawn } from './netns.js';
import { HarnessError, keepTestFiles, sleep, withTimeout } from './proc.js';
import type { ManagedProcess } from './proc.js';
import { encodeNetstring, NetstringDecoder } from './netstring.js';

/** Event types baresip 1.0's ctrl_tcp emits that tests care about (others arrive too). */
export type BaresipEventType =
  | 'REGISTERING'
  | 'REGISTER_OK'
  | 'REGISTER_FAIL'
  | 'UNREGISTERING'
  | 'CALL_INCOMING'
  | 'CALL_RINGING'
  | 'CALL_PROGRESS'
  | 'CALL_ESTABLISHED'
  | 'CALL_CLOSED'
  | 'CALL_TRANSFER'
  | 'CALL_DTMF_START'
  | 'CALL_DTMF_END'
  | 'CALL_RTPESTAB'
  | 'CALL_RTCP'
  | 'CALL_LOCAL_SDP'
  | 'CALL_REMOTE_SDP'
  | 'AUDIO_ERROR'
  | (string & {});

export interface BaresipEvent {
  type: BaresipEventType;
  /** 'call', 'register', 'other', ... */
  class?: string;
  accountaor?: string;
  direction?: 'incoming' | 'outgoing';
  peeruri?: string;
  /** Call id (the SIP Call-ID's local part) for call events. */
  id?: string;
  /** Event detail: the peer URI, 'offer'/'answer', a close reason such as 'Connection reset by user'. */
  param?: string;
  /** Milliseconds since the phone started, when the event arrived. */
  atMs: number;
  /** The whole JSON object as baresip sent it. */
  raw: Record<string, unknown>;
}

export interface BaresipResponse {
  ok: boolean;
  data: string;
}

export type AnswerMode = 'auto' | 'manual' | 'early';

export interface BaresipOptions {
  /** A label for logs and the work directory. */
  name: string;
  /** Namespace to run in; undefined = the root namespace (then use 127.0.0.1 and distinct ports). */
  netns?: string;
  /** Address to bind SIP and RTP to; also what its SDP will carry. */
  listenIp: string;
  /** SIP UDP/TCP port; TLS takes sipPort + 1. Default 5060. */
  sipPort?: number;
  /** ctrl_tcp port on 127.0.0.1 (inside the namespace). Default sipPort + 5. */
  ctrlPort?: number;
  /** `net_interface`: interface name or address (default listenIp), so SDP carries the right address. */
  netInterface?: string;
  /** The account user (extension), e.g. '201'. */
  user: string;
  displayName?: string;
  /**
   * Register to this registrar with digest auth. Without it the phone does not
   * register and its AOR is `sip:user@listenIp:sipPort` (peer-to-peer calls).
   */
  registrar?: { host: string; port?: number; password: string; authUser?: string; regintSec?: number; transport?: 'udp' | 'tcp' };
  /** 'auto' answers at once, 'manual' waits for accept(). Default 'auto'. */
  answerMode?: AnswerMode;
  /** 16-bit mono WAV played as the microphone, at the codec's rate; see makeTone. */
  toneWav: string;
  /** Codecs in preference order, e.g. ['PCMA'] or ['G722']; default all of PCMU, PCMA, G722. */
  codecs?: Array<'PCMU' | 'PCMA' | 'G722'>;
  /** RTP port range, e.g. [20000, 20099]; default baresip's own. */
  rtpPorts?: [number, number];
  /** Extra `key value` lines for the config file (override nothing; appended). */
  extraConfig?: Record<string, string>;
  /** Extra `;key=value` account parameters. */
  extraAccountParams?: Record<string, string>;
  /** Start with `-s`: SIP messages in the log. */
  sipTrace?: boolean;
  /**
   * Where config and recordings go. Default: a fresh temp dir, removed by
   * stop() (read recordings before stopping, or set PGW_KEEP_TEST_FILES=1).
   */
  workDir?: string;
  /** Startup bound (default 10 s). */
  startTimeoutMs?: number;
}

const CODEC_NAMES: Record<'PCMU' | 'PCMA' | 'G722', string> = {
  PCMU: 'PCMU/8000/1',
  PCMA: 'PCMA/8000/1',
  // A bare 'G722' makes baresip look for G722/8000/1 (RTP clock rate) and drop it.
  G722: 'G722/16000/1',
};

/** The `accounts` file line for these options. */
export function baresipAccountLine(o: BaresipOptions): string {
  const params: Record<string, string> = {};
  let aor: string;
  if (o.registrar) {
    const r = o.registrar;
    const hostPort = r.port ? `${r.host}:${r.port}` : r.host;
    aor = `sip:${o.user}@${hostPort}${r.transport === 'tcp' ? ';transport=tcp' : ''}`;
    params.auth_pass = r.password;
    if (r.authUser) params.auth_user = r.authUser;
    params.regint = String(r.regintSec ?? 300);
  } else {
    aor = `sip:${o.user}@${o.listenIp}:${o.sipPort ?? 5060}`;
    params.regint = '0';
  }
  params.answermode = o.answerMode ?? 'auto';
  if (o.codecs?.length) params.audio_codecs = o.codecs.map((c) => CODEC_NAMES[c]).join(',');
  Object.assign(params, o.extraAccountParams);
  const display = o.displayName ? `"${o.displayName.replace(/"/g, '')}" ` : '';
  return `${display}<${aor}>${Object.entries(params)
    .map(([k, v]) => `;${k}=${v}`)
    .join('')}`;
}

/** The `config` file for these options (recordings go to `recDir`). */
export function baresipConfig(o: BaresipOptions, recDir: string): string {
  const sipPort = o.sipPort ?? 5060;
  const lines: Array<[string, string]> = [
    ['poll_method', 'epoll'],
    ['sip_listen', `${o.listenIp}:${sipPort}`],
    ['call_local_timeout', '120'],
    ['call_max_calls', '4'],
    // aufile is a source only in 1.0; aubridge with an unused device name is a null sink.
    ['audio_source', `aufile,${o.toneWav}`],
    ['audio_player', 'aubridge,pgwt-null'],
    ['audio_alert', 'aubridge,pgwt-null'],
    ['audio_level', 'no'],
    ['ausrc_format', 's16'],
    ['auplay_format', 's16'],
    ['auenc_format', 's16'],
    ['audec_format', 's16'],
    ['audio_buffer', '20-160'],
    ['rtcp_mux', 'no'],
    ['jitter_buffer_delay', '5-10'],
    ['rtp_stats', 'no'],
    ['net_interface', o.netInterface ?? o.listenIp],
    ['module_path', '/usr/lib/baresip/modules'],
    ['module', 'g711.so'],
    ['module', 'g722.so'],
    ['module', 'aufile.so'],
    ['module', 'aubridge.so'],
    ['module', 'sndfile.so'],
    ['module_tmp', 'account.so'],
    ['module_app', 'contact.so'],
    // menu provides the commands (dial, hangup, accept, ...) that ctrl_tcp runs.
    ['module_app', 'menu.so'],
    ['module_app', 'ctrl_tcp.so'],
    ['ctrl_tcp_listen', `127.0.0.1:${o.ctrlPort ?? sipPort + 5}`],
    ['statmode_default', 'off'],
    ['snd_path', recDir],
  ];
  if (o.rtpPorts) lines.push(['rtp_ports', `${o.rtpPorts[0]}-${o.rtpPorts[1]}`]);
  for (const [k, v] of Object.entries(o.extraConfig ?? {})) lines.push([k, v]);
  return `# generated by tests/support/baresip.ts for ${o.name}\n${lines.map(([k, v]) => `${k}\t\t${v}`).join('\n')}\n`;
}

interface Waiter {
  types: Set<string>;
  match: (e: BaresipEvent) => boolean;
  resolve: (e: BaresipEvent) => void;
}

/** A running baresip phone. Create with BaresipPhone.start(); always stop() it (try/finally). */
export class BaresipPhone {
  /** Every event received, in order. */
  readonly events: BaresipEvent[] = [];
  private readonly cursor = new Map<string, number>();
  private waiters: Waiter[] = [];
  private readonly pending = new Map<string, (r: BaresipResponse) => void>();
  private nextToken = 1;
  private socket: net.Socket | undefined;
  private forward: NsForward | undefined;
  private readonly startedAt = Date.now();
  private stopped = false;

  private constructor(
    readonly opts: BaresipOptions,
    readonly workDir: string,
    readonly recDir: string,
    readonly proc: ManagedProcess,
  ) {}

  /** Writes the config, starts baresip and connects to ctrl_tcp; throws (with its log) if it does not come up. */
  static async start(opts: BaresipOptions): Promise<BaresipPhone> {
    const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), `pgwt-baresip-${opts.name}-`));
    const recDir = join(workDir, 'rec');
    mkdirSync(recDir, { recursive: true });
    writeFileSync(join(workDir, 'config'), baresipConfig(opts, recDir));
    // No account at start: it is added with 'uanew' once ctrl_tcp is connected,
    // else the first REGISTER_OK is emitted before anyone listens and is lost.
    writeFileSync(join(workDir, 'accounts'), '# added over ctrl_tcp (uanew) by tests/support/baresip.ts\n');
    writeFileSync(join(workDir, 'contacts'), '');
    const args = ['-oL', '-eL', 'baresip', '-f', workDir];
    if (opts.sipTrace) args.push('-s');
    const proc = nsSpawn(opts.netns, 'stdbuf', args);
    const phone = new BaresipPhone(opts, workDir, recDir, proc);
    try {
      await withTimeout(phone.connect(), opts.startTimeoutMs ?? 10_000, `baresip ${opts.name} to start`);
      const r = await phone.command('uanew', baresipAccountLine(opts));
      if (!r.ok) throw new HarnessError(`uanew refused the account: ${r.data}`);
    } catch (e) {
      const log = await phone.stop();
      throw new HarnessError(`baresip ${opts.name} did not start: ${(e as Error).message}`, log);
    }
    return phone;
  }

  /** `sip:user@listenIp:sipPort`: where a peer can call this phone directly. */
  get directUri(): string {
    return `sip:${this.opts.user}@${this.opts.listenIp}:${this.opts.sipPort ?? 5060}`;
  }

  /** Everything the phone has printed so far (the tail, bounded). */
  log(): string {
    return this.proc.output.toString();
  }

  private async connect(): Promise<void> {
    const port = this.opts.ctrlPort ?? (this.opts.sipPort ?? 5060) + 5;
    if (this.opts.netns) this.forward = await forwardTcpFromNamespace({ netns: this.opts.netns, host: '127.0.0.1', port });
    // Retry until ctrl_tcp answers a command: before baresip listens, the TCP
    // connect (or socat's) is refused and the socket closes.
    for (;;) {
      if (this.proc.hasExited()) throw new HarnessError('baresip exited during startup');
      const sock = this.forward ? net.connect({ path: this.forward.socketPath }) : net.connect({ host: '127.0.0.1', port });
      const ok = await this.tryHandshake(sock);
      if (ok) return;
      sock.destroy();
      await sleep(100);
    }
  }

  private tryHandshake(sock: net.Socket): Promise<boolean> {
    return new Promise((resolve) => {
      const decoder = new NetstringDecoder();
      let settled = false;
      const done = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (ok) {
          this.socket = sock;
          sock.removeAllListeners('close');
          sock.on('close', () => this.onSocketClose());
        }
        resolve(ok);
      };
      let token = '';
      const timer = setTimeout(() => fail(), 1_500);
      const fail = (): void => {
        this.pending.delete(token);
        done(false);
      };
      sock.on('error', fail);
      sock.on('close', fail);
      sock.on('data', (chunk: Buffer) => {
        let msgs: string[];
        try {
          msgs = decoder.push(chunk);
        } catch {
          fail();
          return;
        }
        for (const m of msgs) this.onMessage(m);
        if (token && !this.pending.has(token)) done(true);
      });
      sock.on('connect', () => {
        token = this.sendRaw(sock, 'reginfo', undefined, () => undefined);
      });
    });
  }

  private onSocketClose(): void {
    for (const resolve of this.pending.values()) resolve({ ok: false, data: 'ctrl_tcp connection closed' });
    this.pending.clear();
  }

  private sendRaw(sock: net.Socket, command: string, params: string | undefined, onResponse: (r: BaresipResponse) => void): string {
    const token = `t${this.nextToken++}`;
    this.pending.set(token, onResponse);
    const msg: Record<string, string> = { command, token };
    if (params !== undefined) msg.params = params;
    sock.write(encodeNetstring(JSON.stringify(msg)));
    return token;
  }

  private onMessage(text: string): void {
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return; // not ours to judge; baresip only sends JSON
    }
    if (obj.response === true) {
      const token = typeof obj.token === 'string' ? obj.token : '';
      const resolve = this.pending.get(token);
      if (resolve) {
        this.pending.delete(token);
        resolve({ ok: obj.ok === true, data: typeof obj.data === 'string' ? obj.data : '' });
      }
      return;
    }
    if (obj.event === true && typeof obj.type === 'string') {
      const str = (k: string): string | undefined => (typeof obj[k] === 'string' ? (obj[k] as string) : undefined);
      const ev: BaresipEvent = {
        type: obj.type,
        class: str('class'),
        accountaor: str('accountaor'),
        direction: str('direction') as BaresipEvent['direction'],
        peeruri: str('peeruri'),
        id: str('id'),
        param: str('param'),
        atMs: Date.now() - this.startedAt,
        raw: obj,
      };
      this.events.push(ev);
      const index = this.events.length - 1;
      for (const w of [...this.waiters]) {
        if (w.types.has(ev.type) && w.match(ev)) {
          this.waiters = this.waiters.filter((x) => x !== w);
          this.cursor.set(ev.type, index);
          w.resolve(ev);
        }
      }
    }
  }

  /**
   * Runs a ctrl_tcp command (a menu command name: 'dial', 'hangup', 'accept',
   * 'reginfo', 'callstat', 'listcalls', 'answermode', 'quit', ...).
   */
  command(command: string, params?: string, timeoutMs = 5_000): Promise<BaresipResponse> {
    const sock = this.socket;
    if (!sock || sock.destroyed) return Promise.reject(new HarnessError(`baresip ${this.opts.name}: ctrl_tcp not connected`));
    return withTimeout(
      new Promise<BaresipResponse>((resolve) => this.sendRaw(sock, command, params, resolve)),
      timeoutMs,
      `baresip ${this.opts.name}: response to '${command}'`,
    );
  }

  /** Dials `uri` (e.g. 'sip:202@10.90.1.1' or a bare number for the registrar's domain). */
  async dial(uri: string): Promise<void> {
    const r = await this.command('dial', uri);
    if (!r.ok) throw new HarnessError(`baresip ${this.opts.name}: dial ${uri} failed: ${r.data}`, this.log());
  }

  /** Answers the ringing call (answerMode 'manual'). */
  async accept(): Promise<void> {
    const r = await this.command('accept');
    if (!r.ok) throw new HarnessError(`baresip ${this.opts.name}: accept failed: ${r.data}`, this.log());
  }

  /** Hangs up the current call (or rejects the ringing one). */
  async hangup(): Promise<void> {
    const r = await this.command('hangup');
    if (!r.ok) throw new HarnessError(`baresip ${this.opts.name}: hangup failed: ${r.data}`, this.log());
  }

  /** Puts the current call on hold (re-INVITE a=sendonly). See the README: baresip stops recording after a re-INVITE. */
  async hold(): Promise<void> {
    const r = await this.command('hold');
    if (!r.ok) throw new HarnessError(`baresip ${this.opts.name}: hold failed: ${r.data}`, this.log());
  }

  /** Takes the current call off hold (re-INVITE a=sendrecv). */
  async resume(): Promise<void> {
    const r = await this.command('resume');
    if (!r.ok) throw new HarnessError(`baresip ${this.opts.name}: resume failed: ${r.data}`, this.log());
  }

  /**
   * Waits for an event of `type` (or any of several types) that arrived after
   * the last one this method returned for that type, so "dial, then wait" never
   * misses an event that came early, and two waits for CALL_ESTABLISHED return
   * two different calls. `since` overrides: an index into `events` to search from.
   */
  waitFor(
    type: BaresipEventType | BaresipEventType[],
    opts: { timeoutMs: number; match?: (e: BaresipEvent) => boolean; since?: number },
  ): Promise<BaresipEvent> {
    const types = new Set<string>(Array.isArray(type) ? type : [type]);
    const match = opts.match ?? (() => true);
    for (let i = 0; i < this.events.length; i++) {
      const ev = this.events[i]!;
      if (!types.has(ev.type)) continue;
      const from = opts.since ?? (this.cursor.get(ev.type) ?? -1) + 1;
      if (i >= from && match(ev)) {
        this.cursor.set(ev.type, i);
        return Promise.resolve(ev);
      }
    }
    const what = [...types].join('|');
    return new Promise<BaresipEvent>((resolve, reject) => {
      const waiter: Waiter = {
        types,
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const fail = (why: string): void => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        // After stop() nobody is waiting any more: leave the promise pending
        // rather than raise an unhandled rejection from a finally block.
        if (this.stopped) return;
        const recent = this.events
          .slice(-15)
          .map((e) => `${e.atMs}ms ${e.type} ${e.param ?? ''}`)
          .join('\n');
        reject(new HarnessError(`baresip ${this.opts.name}: ${why} waiting for ${what}`, `recent events:\n${recent}\n--- log ---\n${this.log().slice(-6000)}`));
      };
      const timer = setTimeout(() => fail(`timed out after ${opts.timeoutMs} ms`), opts.timeoutMs);
      this.waiters.push(waiter);
      void this.proc.exited.then(() => {
        if (this.waiters.includes(waiter)) fail('process exited');
      });
    });
  }

  /** The index the next event will get: pass as `since` to wait only for events after now. */
  mark(): number {
    return this.events.length;
  }

  /** Paths of the `*-dec.wav` recordings (what the phone heard), oldest first. */
  recordings(): string[] {
    // Names are dump-YYYY-MM-DD-HH-MM-SS-dec.wav: lexical order is time order.
    // Two calls starting in the same second on one phone share a name.
    return readdirSync(this.recDir)
      .filter((f) => f.endsWith('-dec.wav'))
      .sort()
      .map((f) => join(this.recDir, f));
  }

  /** Path of the newest `*-dec.wav`; throws if the phone has recorded nothing. */
  recordedWav(): string {
    const all = this.recordings();
    const last = all[all.length - 1];
    if (!last) throw new HarnessError(`baresip ${this.opts.name} recorded nothing in ${this.recDir}`, this.log().slice(-4000));
    return last;
  }

  /**
   * Where RTP came from, as baresip logged it ("incoming rtp for 'audio'
   * established, receiving from IP:PORT"), in order: to check that media came
   * from the gateway's address and port pool.
   */
  rtpSources(): Array<{ ip: string; port: number }> {
    const out: Array<{ ip: string; port: number }> = [];
    for (const m of this.log().matchAll(/incoming rtp for 'audio' established, receiving from ([0-9.]+):(\d+)/g)) {
      out.push({ ip: m[1]!, port: Number(m[2]) });
    }
    return out;
  }

  /**
   * Quits baresip (ctrl 'quit', then SIGTERM, then SIGKILL) and closes the
   * control connection. Returns its output. Safe to call twice. A work dir
   * the phone made itself is removed (recordings too). Recordings
   * of finished calls are complete; one cut off mid-call may have an
   * unfinalised header, which readWav tolerates.
   */
  async stop(): Promise<string> {
    if (!this.stopped) {
      this.stopped = true;
      if (!this.proc.hasExited() && this.socket && !this.socket.destroyed) {
        try {
          await this.command('quit', undefined, 1_000);
        } catch {
          /* it may close the connection before answering */
        }
        await Promise.race([this.proc.exited, sleep(2_000)]);
      }
      await this.proc.stop({ graceMs: 2_000 });
      this.socket?.destroy();
      await this.forward?.close();
      if (this.opts.workDir === undefined && !keepTestFiles()) rmSync(this.workDir, { recursive: true, force: true });
    }
    return this.log();
  }
}
