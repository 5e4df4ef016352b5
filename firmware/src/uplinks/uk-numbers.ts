/**
 * Telephone numbers as they cross the uplinks (DOMAIN.md, UK dialling).
 *
 * Outbound, a desk phone dials the way people in the UK do: `0` and the
 * national number, `00` and an international number, or `+` and E.164 when
 * it comes from a directory; optionally after an outside-line digit (`9`).
 * Carriers want E.164 (ITU-T E.164, `+44…`), some without the `+`, some the
 * national form: `formatForUplink()` gives each what it wants. Emergency
 * numbers are never rewritten: 999 and 112 go out as dialled (Ofcom General
 * Condition A3), so they are not handled here at all.
 *
 * Inbound, carriers deliver the called number (DID) in any of those forms
 * too; `canonicalDid()` brings them to E.164 so `practice.inbound[].did`
 * matches however the number arrived.
 */

/** How a trunk wants numbers written in the Request-URI and To. */
export type NumberFormat = 'e164' | 'e164-no-plus' | 'national';

export interface DialPlanRules {
  /** Country calling code without `+`, e.g. `44`. */
  countryCode: string;
  /** A digit dialled before external numbers (e.g. `9`), stripped before the number goes out. */
  outsideLinePrefix?: string;
}

/** The number with a leading outside-line digit removed, when it is there and something diallable follows. */
export function stripOutsideLinePrefix(dialled: string, prefix: string | undefined): string {
  if (!prefix || !dialled.startsWith(prefix)) return dialled;
  const rest = dialled.slice(prefix.length);
  // "9" alone, or "9" + a single digit, is not an outside-line call: keep it as dialled.
  return rest.length >= 2 ? rest : dialled;
}

/**
 * E.164 (`+…`) for national (`0…`), international (`00…`) and E.164 input;
 * anything else (short codes such as 101, 111, 118 xxx) is returned as
 * dialled, since it has no E.164 form.
 */
export function toE164(dialled: string, rules: DialPlanRules): string {
  const n = stripOutsideLinePrefix(dialled.replace(/[\s().-]/g, ''), rules.outsideLinePrefix);
  if (/^\+[1-9][0-9]{3,14}$/.test(n)) return n;
  if (/^00[1-9][0-9]{3,14}$/.test(n)) return `+${n.slice(2)}`;
  if (/^0[1-9][0-9]{5,12}$/.test(n)) return `+${rules.countryCode}${n.slice(1)}`;
  return n;
}

/** An E.164 number (or a short code) written the way a trunk wants it. */
export function formatForUplink(e164OrShort: string, format: NumberFormat, rules: DialPlanRules): string {
  if (!e164OrShort.startsWith('+')) return e164OrShort;
  switch (format) {
    case 'e164':
      return e164OrShort;
    case 'e164-no-plus':
      return e164OrShort.slice(1);
    case 'national': {
      const cc = `+${rules.countryCode}`;
      return e164OrShort.startsWith(cc) ? `0${e164OrShort.slice(cc.length)}` : `00${e164OrShort.slice(1)}`;
    }
    default: {
      const never: never = format;
      throw new Error(`unknown number format ${String(never)}`);
    }
  }
}

/**
 * A called number as an uplink delivered it, in E.164 when it can be read
 * as one: `+44…`, `0044…`, `01632…` (national), and `441632…` (E.164
 * without the `+`, which some carriers send). Undefined when it is not a
 * public number (an extension number, a name).
 */
export function canonicalDid(delivered: string, countryCode: string): string | undefined {
  let n: string;
  try {
    n = decodeURIComponent(delivered).replace(/[\s().-]/g, '');
  } catch {
    return undefined;
  }
  // tel-style visual separators and the user=phone parameter's context are not part of the number.
  n = n.split(';')[0] ?? '';
  if (/^\+[1-9][0-9]{6,14}$/.test(n)) return n;
  if (/^00[1-9][0-9]{6,14}$/.test(n)) return `+${n.slice(2)}`;
  if (/^0[1-9][0-9]{6,12}$/.test(n)) return `+${countryCode}${n.slice(1)}`;
  if (n.startsWith(countryCode) && /^[1-9][0-9]{9,14}$/.test(n)) return `+${n}`;
  return undefined;
}
