/**
 * RFC 4733 §2.3 telephone-event payload (DTMF and other named events):
 *
 *    0                   1                   2                   3
 *   |     event     |E|R| volume    |          duration             |
 *
 * Several events may share a packet (RFC 4733 §2.5.1.5); parse returns the
 * first. The relay forwards these packets untouched except for the payload
 * type, so it only needs to recognise them; the parser and writer serve
 * tests, logging of digits, and the tone/prompt ports.
 */

export interface TelephoneEvent {
  /** 0–9 digits, 10 '*', 11 '#', 12–15 A–D, 16 flash (RFC 4733 §3.2). */
  event: number;
  end: boolean;
  /** Power level in −dBm0, 0–63. */
  volume: number;
  /** Duration in timestamp units. */
  duration: number;
}

export const TELEPHONE_EVENT_LENGTH = 4;

const DIGITS = '0123456789*#ABCD';

export function eventToDigit(event: number): string | null {
  if (event === 16) return 'flash';
  return DIGITS[event] ?? null;
}

export function digitToEvent(digit: string): number | null {
  if (digit.toLowerCase() === 'flash') return 16;
  const i = DIGITS.indexOf(digit.toUpperCase());
  return i < 0 || digit.length !== 1 ? null : i;
}

export function parseTelephoneEvent(payload: Uint8Array, offset = 0, length = payload.length - offset): TelephoneEvent | null {
  if (length < TELEPHONE_EVENT_LENGTH) return null;
  const b1 = payload[offset + 1]!;
  return {
    event: payload[offset]!,
    end: (b1 & 0x80) !== 0,
    volume: b1 & 0x3f,
    duration: (payload[offset + 2]! << 8) | payload[offset + 3]!,
  };
}

export function writeTelephoneEvent(e: TelephoneEvent, out: Uint8Array = new Uint8Array(TELEPHONE_EVENT_LENGTH), offset = 0): Uint8Array {
  if (e.event < 0 || e.event > 255) throw new RangeError('event must be 0–255');
  if (e.volume < 0 || e.volume > 63) throw new RangeError('volume must be 0–63');
  if (e.duration < 0 || e.duration > 0xffff) throw new RangeError('duration must be 0–65535');
  out[offset] = e.event;
  // R bit reserved: sent as 0 (RFC 4733 §2.3).
  out[offset + 1] = (e.end ? 0x80 : 0) | e.volume;
  out[offset + 2] = e.duration >> 8;
  out[offset + 3] = e.duration & 0xff;
  return out;
}
