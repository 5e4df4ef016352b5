/**
 * Which phone sits on which PoE port: the controller knows each port's MAC
 * (LLDP-MED, or the first frame it saw); the PBX knows which extension
 * registered from where. A PhoneLocator joins the two; the PBX side provides
 * it (gateway.ts wires one built by `locatorFromRegistrations`).
 */
import { PgwError } from '../../firmware/src/util/errors.js';
import type { PoeController, PoePortStatus } from './poe-controller.js';

export interface PhoneLocator {
  /** The extension registered from the device with this MAC (lower case, colon separated), or null. */
  extensionForMac(mac: string): string | null;
}

export interface PhonePort extends PoePortStatus {
  extension: string | null;
}

/** `/proc/net/arp`: IP address → MAC of complete entries (flags 0x2). */
export function parseProcNetArp(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const [ip, , flags, mac] = f;
    if (!ip || !mac || flags === '0x0' || mac === '00:00:00:00:00:00') continue;
    out.set(ip, mac.toLowerCase());
  }
  return out;
}

/**
 * A locator from the registrar's view (extension → source address) and the
 * neighbour table (address → MAC). Phones on the LAN register from their own
 * address, so its ARP entry is the phone's MAC.
 */
export function locatorFromRegistrations(options: {
  registrations: () => ReadonlyArray<{ extension: string; sourceIp: string }>;
  neighbours: () => Map<string, string>;
}): PhoneLocator {
  return {
    extensionForMac(mac) {
      const arp = options.neighbours();
      const wanted = mac.toLowerCase();
      for (const r of options.registrations()) {
        if (arp.get(r.sourceIp) === wanted) return r.extension;
      }
      return null;
    },
  };
}

export class PhonePortMap {
  constructor(
    private readonly poe: PoeController,
    private readonly locator: PhoneLocator | null = null,
  ) {}

  async phonePorts(): Promise<PhonePort[]> {
    const ports = await this.poe.ports();
    return ports.map((p) => ({ ...p, extension: p.mac && this.locator ? this.locator.extensionForMac(p.mac) : null }));
  }

  async portOfExtension(extension: string): Promise<number | null> {
    const found = (await this.phonePorts()).find((p) => p.extension === extension);
    return found ? found.port : null;
  }

  /** Reboot a stuck phone by cutting its power. */
  async rebootPhone(extension: string, offMs?: number): Promise<number> {
    const port = await this.portOfExtension(extension);
    if (port === null) {
      throw new PgwError('PGW_E_HW_PROTOCOL', `poe: no port carries extension ${extension}`, { context: { extension } });
    }
    await this.poe.powerCycle(port, offMs);
    return port;
  }
}
