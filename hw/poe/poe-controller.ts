/**
 * The PoE ports the desk phones hang off, behind a small interface. The real
 * driver (serial-poe-controller.ts) talks to the PoE controller's
 * microcontroller over the line protocol in docs/HARDWARE.md ("PoE
 * controller protocol"); the simulator speaks the same protocol.
 */
export type PortPower = 'on' | 'off' | 'fault' | 'cycling';

export interface PoePortStatus {
  port: number;
  /** Administratively enabled (power allowed). */
  enabled: boolean;
  link: 'up' | 'down';
  power: PortPower;
  /** IEEE 802.3af/at/bt power class 0..8 the device signalled; null when nothing is powered. */
  powerClass: number | null;
  drawMw: number;
  /** The attached device's MAC, learned by the controller (LLDP-MED or the first frame seen). */
  mac: string | null;
}

export interface PoeBudget {
  usedMw: number;
  maxMw: number;
}

export interface PoeInfo {
  ports: number;
  budgetMw: number;
  firmware: string;
}

export type PoeEvent = { type: 'port'; status: PoePortStatus } | { type: 'budget'; budget: PoeBudget; over: boolean };

export interface PoeController {
  info(): Promise<PoeInfo>;
  ports(): Promise<PoePortStatus[]>;
  port(port: number): Promise<PoePortStatus>;
  budget(): Promise<PoeBudget>;
  setEnabled(port: number, enabled: boolean): Promise<void>;
  /** Power off, wait offMs, power on: the way to reboot a stuck phone. Done by the controller itself. */
  powerCycle(port: number, offMs?: number): Promise<void>;
  onEvent(listener: (event: PoeEvent) => void): () => void;
  close(): Promise<void>;
}
