/**
 * Parsers for the answers of the AT commands the modem monitor uses, from
 * 3GPP TS 27.007 and the Quectel EC2x/EG2x AT Commands Manual. Pure
 * functions: each takes one answer line and returns a typed value, or null
 * when the line is not what it parses.
 */

/** Splits an AT parameter list on commas outside double quotes and strips the quotes. */
export function splitAtParams(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/** The parameters after `+NAME:`, or null when the line is not that answer. */
export function atParams(line: string, name: string): string[] | null {
  const prefix = `${name}:`;
  if (!line.startsWith(prefix)) return null;
  return splitAtParams(line.slice(prefix.length));
}

function int(s: string | undefined): number | null {
  if (s === undefined || !/^-?\d+$/.test(s)) return null;
  return Number(s);
}

// ---------------------------------------------------------------- SIM

export type SimState = 'ready' | 'pin-required' | 'puk-required' | 'absent' | 'not-ready' | 'unknown';

/** `+CPIN: READY` etc. (TS 27.007 §8.3). */
export function parseCpin(line: string): SimState | null {
  const p = atParams(line, '+CPIN');
  if (!p) return null;
  switch (p[0]) {
    case 'READY':
      return 'ready';
    case 'SIM PIN':
    case 'PH-SIM PIN':
      return 'pin-required';
    case 'SIM PUK':
      return 'puk-required';
    case 'NOT INSERTED':
      return 'absent';
    case 'NOT READY':
      return 'not-ready';
    default:
      return 'unknown';
  }
}

/**
 * SIM state from a failed AT+CPIN?: +CME ERROR 10 is "SIM not inserted",
 * 13 "SIM failure", 14 "SIM busy" (TS 27.007 §9.2.1). Quectel also sends the
 * verbose forms when AT+CMEE=2.
 */
export function simStateFromCmeError(error: string): SimState {
  const m = /^\+CME ERROR:\s*(.+)$/.exec(error);
  const v = m?.[1]?.trim() ?? '';
  if (v === '10' || /not inserted/i.test(v)) return 'absent';
  if (v === '14' || /busy/i.test(v)) return 'not-ready';
  if (v === '11' || /PIN required/i.test(v)) return 'pin-required';
  if (v === '12' || /PUK required/i.test(v)) return 'puk-required';
  return 'unknown';
}

// ---------------------------------------------------------------- signal

export interface Csq {
  /** 0..31, null for 99 (not known or not detectable). */
  rssi: number | null;
  /** Received signal strength in dBm: -113 + 2 * rssi (TS 27.007 §8.5). */
  rssiDbm: number | null;
  /** Bit error rate 0..7, null for 99. */
  ber: number | null;
}

export function parseCsq(line: string): Csq | null {
  const p = atParams(line, '+CSQ');
  if (!p || p.length < 2) return null;
  const rssi = int(p[0]);
  const ber = int(p[1]);
  if (rssi === null || ber === null) return null;
  const known = rssi >= 0 && rssi <= 31;
  return { rssi: known ? rssi : null, rssiDbm: known ? -113 + 2 * rssi : null, ber: ber >= 0 && ber <= 7 ? ber : null };
}

export type QcsqMode = 'NOSERVICE' | 'GSM' | 'WCDMA' | 'TDSCDMA' | 'LTE' | 'CAT-M1' | 'CAT-NB1' | 'UNKNOWN';

export interface Qcsq {
  mode: QcsqMode;
  rssiDbm: number | null;
  /** LTE reference signal received power, dBm. */
  rsrp: number | null;
  /** LTE reference signal received quality, dB. */
  rsrq: number | null;
  /** LTE SINR in dB. */
  sinrDb: number | null;
}

/**
 * `+QCSQ: "LTE",<rssi>,<rsrp>,<sinr>,<rsrq>` (Quectel EC2x manual, AT+QCSQ).
 * The LTE SINR field is in 1/5 dB steps offset by 20 dB: SINR = value / 5 - 20
 * (the manual's note on the <sinr> range 0..250 mapping to -20..+30 dB).
 */
export function parseQcsq(line: string): Qcsq | null {
  const p = atParams(line, '+QCSQ');
  if (!p || p.length < 1) return null;
  const known: QcsqMode[] = ['NOSERVICE', 'GSM', 'WCDMA', 'TDSCDMA', 'LTE', 'CAT-M1', 'CAT-NB1'];
  const mode = (known as string[]).includes(p[0]!) ? (p[0] as QcsqMode) : 'UNKNOWN';
  const empty: Qcsq = { mode, rssiDbm: null, rsrp: null, rsrq: null, sinrDb: null };
  switch (mode) {
    case 'LTE':
    case 'CAT-M1':
    case 'CAT-NB1': {
      const sinr = int(p[3]);
      return { mode, rssiDbm: int(p[1]), rsrp: int(p[2]), sinrDb: sinr === null ? null : sinr / 5 - 20, rsrq: int(p[4]) };
    }
    case 'GSM':
    case 'WCDMA':
    case 'TDSCDMA':
      return { ...empty, rssiDbm: int(p[1]) };
    case 'NOSERVICE':
    case 'UNKNOWN':
      return empty;
    default: {
      const never: never = mode;
      return never;
    }
  }
}

// ---------------------------------------------------------------- registration

/** TS 27.007 §7.2 <stat>. */
export type RegStatus = 'not-registered' | 'home' | 'searching' | 'denied' | 'unknown' | 'roaming';

const REG_STATUS: Record<number, RegStatus> = {
  0: 'not-registered',
  1: 'home',
  2: 'searching',
  3: 'denied',
  4: 'unknown',
  5: 'roaming',
  // 6..10 are SMS-only / CSFB-not-preferred variants: registered for our purposes.
  6: 'home',
  7: 'roaming',
  9: 'home',
  10: 'roaming',
};

export type AccessTech = 'GSM' | 'UTRAN' | 'EDGE' | 'HSPA' | 'LTE' | 'CAT-M1' | 'NB-IoT' | 'unknown';

/** TS 27.007 §7.3 <AcT>. */
export function accessTech(act: number | null): AccessTech | null {
  if (act === null) return null;
  switch (act) {
    case 0:
    case 1:
      return 'GSM';
    case 2:
      return 'UTRAN';
    case 3:
      return 'EDGE';
    case 4:
    case 5:
    case 6:
      return 'HSPA';
    case 7:
      return 'LTE';
    case 8:
      return 'CAT-M1';
    case 9:
      return 'NB-IoT';
    default:
      return 'unknown';
  }
}

export interface Registration {
  status: RegStatus;
  /** Location area / tracking area code (hex), when the modem gives it (<n>=2). */
  area: string | null;
  cellId: string | null;
  tech: AccessTech | null;
}

export function isRegistered(status: RegStatus): boolean {
  return status === 'home' || status === 'roaming';
}

/**
 * `+CREG:` / `+CEREG:` in either form. An answer to `AT+CREG?` starts with
 * <n> (the URC setting): `+CREG: <n>,<stat>[,<lac>,<ci>[,<AcT>]]`. A URC has
 * no <n>: `+CREG: <stat>[,<lac>,<ci>[,<AcT>]]` (TS 27.007 §7.2, §10.1.22).
 */
export function parseReg(line: string, name: '+CREG' | '+CEREG' | '+CGREG', form: 'answer' | 'urc'): Registration | null {
  const p = atParams(line, name);
  if (!p) return null;
  const fields = form === 'answer' ? p.slice(1) : p;
  const stat = int(fields[0]);
  if (stat === null) return null;
  const status = REG_STATUS[stat] ?? 'unknown';
  const area = fields[1] ? fields[1] : null;
  const cellId = fields[2] ? fields[2] : null;
  return { status, area, cellId, tech: accessTech(int(fields[3])) };
}

export interface Cops {
  /** Operator name as the modem gives it (format 0: long alphanumeric), null when not registered. */
  operator: string | null;
  tech: AccessTech | null;
}

/** `+COPS: <mode>[,<format>,<oper>[,<AcT>]]` (TS 27.007 §7.3). */
export function parseCops(line: string): Cops | null {
  const p = atParams(line, '+COPS');
  if (!p || int(p[0]) === null) return null;
  const operator = p[2] ? p[2] : null;
  return { operator, tech: accessTech(int(p[3])) };
}

/** `+CGATT: <state>` (TS 27.007 §10.1.9). */
export function parseCgatt(line: string): boolean | null {
  const p = atParams(line, '+CGATT');
  if (!p) return null;
  const v = int(p[0]);
  return v === null ? null : v === 1;
}

export interface ServingCell {
  /** SEARCH, LIMSRV, NOCONN, CONNECT. */
  state: string;
  rat: string | null;
  mcc: number | null;
  mnc: number | null;
  cellId: string | null;
  tac: string | null;
  band: number | null;
  rsrp: number | null;
  rsrq: number | null;
  rssi: number | null;
  sinr: number | null;
}

/**
 * `+QENG: "servingcell",<state>,"LTE",<is_tdd>,<MCC>,<MNC>,<cellID>,<PCID>,
 * <earfcn>,<freq_band_ind>,<UL_bandwidth>,<DL_bandwidth>,<TAC>,<RSRP>,<RSRQ>,
 * <RSSI>,<SINR>,...` (Quectel EC2x manual, AT+QENG). Other RATs give the state
 * and RAT only here; this box only needs LTE detail.
 */
export function parseServingCell(line: string): ServingCell | null {
  const p = atParams(line, '+QENG');
  if (!p || p[0] !== 'servingcell' || !p[1]) return null;
  const cell: ServingCell = {
    state: p[1],
    rat: p[2] ?? null,
    mcc: null,
    mnc: null,
    cellId: null,
    tac: null,
    band: null,
    rsrp: null,
    rsrq: null,
    rssi: null,
    sinr: null,
  };
  if (p[2] === 'LTE') {
    cell.mcc = int(p[4]);
    cell.mnc = int(p[5]);
    cell.cellId = p[6] || null;
    cell.band = int(p[9]);
    cell.tac = p[12] || null;
    cell.rsrp = int(p[13]);
    cell.rsrq = int(p[14]);
    cell.rssi = int(p[15]);
    cell.sinr = int(p[16]);
  }
  return cell;
}

/**
 * Signal bars 0..5 for the panel: from LTE RSRP where known (the usual
 * -80/-90/-100/-110/-120 dBm steps), else from RSSI.
 */
export function signalBars(s: { rsrp: number | null; rssiDbm: number | null }): number {
  if (s.rsrp !== null) {
    const steps = [-80, -90, -100, -110, -120];
    const i = steps.findIndex((t) => s.rsrp! >= t);
    return i < 0 ? 0 : 5 - i;
  }
  if (s.rssiDbm !== null) {
    const steps = [-65, -75, -85, -95, -105];
    const i = steps.findIndex((t) => s.rssiDbm! >= t);
    return i < 0 ? 0 : 5 - i;
  }
  return 0;
}
