/**
 * Readable summaries of admin API answers. They read defensively: the
 * gateway asked may run another firmware version, so a missing field
 * prints as `?` instead of throwing.
 */
type Json = Record<string, unknown>;

const str = (v: unknown): string => (v === null || v === undefined ? '?' : typeof v === 'object' ? JSON.stringify(v) : String(v));
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function formatStatus(body: unknown): string {
  const s = obj(body);
  const fw = obj(s.firmware);
  const rows: Array<[string, string]> = [
    ['mode', str(s.mode)],
    ['config version', s.configVersion === null ? 'none applied' : str(s.configVersion)],
    ['registrations', str(s.registrations)],
    ['active calls', str(s.activeCalls)],
    ['firmware', `${str(fw.version)} (slot ${str(fw.slot)})`],
  ];
  if (s.deviceId !== undefined) rows.unshift(['device', str(s.deviceId)]);
  if (s.media !== undefined) {
    const m = obj(s.media);
    const threads = m.workers === 0 ? 'main thread' : `${str(m.workers)} worker(s)`;
    rows.push(['media', `${threads}; kernel fast path ${m.kernelForwarding === true ? `on (${str(m.kernelLegs)} legs)` : 'off'}`]);
  }
  const lines = rows.map(([k, v]) => `${k.padEnd(15)} ${v}`);
  const uplinks = arr(s.uplinks).map(obj);
  if (uplinks.length === 0) lines.push(`${'uplinks'.padEnd(15)} none`);
  else {
    lines.push('uplinks');
    const w = Math.max(...uplinks.map((u) => str(u.name).length));
    for (const u of uplinks) lines.push(`  ${str(u.name).padEnd(w)}  ${str(u.state)}`);
  }
  return `${lines.join('\n')}\n`;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

export function formatRegistrations(body: unknown): string {
  const regs = arr(obj(body).registrations).map(obj);
  if (regs.length === 0) return 'no registrations\n';
  return table(
    ['EXT', 'CONTACT', 'SOURCE', 'TRANSPORT', 'EXPIRES', 'USER-AGENT'],
    regs.map((r) => [str(r.extension), str(r.contact), str(r.source), str(r.transport), `${str(r.expiresIn)}s`, r.userAgent === null ? '-' : str(r.userAgent)]),
  );
}

function party(v: unknown): string {
  const p = obj(v);
  return p.name ? `${str(p.number)} (${str(p.name)})` : str(p.number);
}

export function formatCalls(body: unknown): string {
  const calls = arr(obj(body).calls).map(obj);
  if (calls.length === 0) return 'no active calls\n';
  const out: string[] = [];
  for (const c of calls) {
    out.push(`${str(c.id)}  ${party(c.from)} → ${party(c.to)}  ${str(c.state)}  started ${str(c.startTime)}${c.answerTime ? `  answered ${str(c.answerTime)}` : ''}`);
    for (const leg of arr(c.legs).map(obj)) {
      const m = leg.media === null || leg.media === undefined ? null : obj(leg.media);
      const media = m
        ? `${str(m.codec)} ${str(m.local)} ⇄ ${m.remote === null ? '(not latched)' : str(m.remote)}  in ${str(m.packetsIn)} pkts / out ${str(m.packetsOut)} pkts`
        : 'no media';
      out.push(`  ${str(leg.role).padEnd(6)} ${str(leg.peer)}  ${str(leg.state)}  ${media}`);
    }
  }
  return `${out.join('\n')}\n`;
}
