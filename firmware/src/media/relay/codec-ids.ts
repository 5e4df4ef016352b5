/**
 * Codecs as small integers for the forwarding path: a payload type is looked
 * up in a 128-entry table per leg, and "same codec on both legs" is an
 * integer comparison. Ids are process-wide and never reused.
 */
import { asTranscodable } from '../codec/transcoder.js';
import type { TranscodableCodec } from '../codec/transcoder.js';
import type { SdpCodec } from '../sdp/sdp-codecs.js';

const ids = new Map<string, number>();
const names: string[] = [];
const transcodable: Array<TranscodableCodec | null> = [];

function key(name: string, clockRate: number, channels: number): string {
  return `${name.toUpperCase()}/${clockRate}/${channels}`;
}

export function codecId(c: Pick<SdpCodec, 'name' | 'clockRate' | 'channels'>): number {
  const k = key(c.name, c.clockRate, c.channels);
  let id = ids.get(k);
  if (id === undefined) {
    id = names.length;
    ids.set(k, id);
    names.push(c.name);
    // Only the 8000 Hz RTP clock forms are transcodable (G722 is 8000 by RFC 3551).
    transcodable.push(c.clockRate === 8000 && c.channels === 1 ? asTranscodable(c.name) : null);
  }
  return id;
}

export function codecName(id: number): string {
  return names[id] ?? 'unknown';
}

export function transcodableCodec(id: number): TranscodableCodec | null {
  return transcodable[id] ?? null;
}
