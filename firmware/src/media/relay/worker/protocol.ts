/**
 * Messages between the main thread (ThreadedMediaRelay) and a media worker
 * (relay-worker.ts). Control only: packets never cross threads. A leg is
 * named by its row in the worker's counter buffer, which is also where the
 * main thread reads its counters.
 *
 *   main                                  worker
 *   open{req,address,label} ─────────────▶ bind a port pair, open a leg
 *        ◀──────────── reply{req,leg:{row,rtpPort,rtcpPort}}
 *   sdp{row,sdp} / bridge{a,b} / unbridge{row}  (no reply: ordered)
 *   close{req,row} ──────────────────────▶ close the leg
 *        ◀──────────────────── reply{req}
 *   snapshot{req} ───────────────────────▶ copy the open legs' rows, between two packets
 *        ◀──────────────────── reply{req}
 *        ◀─ latched{row,…} / dead{row,silentMs} / log{level,obj,msg}
 */
import type { LogLevel } from '../../../util/logger.js';
import type { LegSdp } from '../leg-config.js';

export interface MediaWorkerData {
  /** Which worker this is (for logs). */
  index: number;
  portMin: number;
  portMax: number;
  deadAfterMs: number;
  deadCheckIntervalMs?: number;
  relatchAfterMs: number;
  recvBufferSize?: number;
  /** LEG_COUNTER_COUNT numbers per row, one row per port pair of the range. */
  counters: SharedArrayBuffer;
  /** Same layout: where `snapshot` copies the open legs' rows. */
  snapshot: SharedArrayBuffer;
  /** Nice value for the worker thread (-20..19; lower runs first); see relay-worker.ts. */
  nice: number;
  /** The levels the main logger writes; the worker sends nothing else. */
  logLevels: LogLevel[];
  /** The kernel fast path (its table installed by the main thread), over the gateway's whole RTP range; null: off. */
  kernel: { portMin: number; portMax: number } | null;
}

export type ToWorker =
  | { op: 'open'; req: number; address: string; label: string | null }
  | { op: 'sdp'; row: number; sdp: LegSdp }
  | { op: 'bridge'; a: number; b: number }
  | { op: 'unbridge'; row: number }
  | { op: 'close'; req: number; row: number }
  | { op: 'snapshot'; req: number }
  | { op: 'shutdown'; req: number };

export interface WorkerErrorInfo {
  code: string | null;
  message: string;
  context?: Record<string, unknown>;
}

export type FromWorker =
  | { ev: 'ready' }
  | { ev: 'reply'; req: number; ok: true; leg?: { row: number; rtpPort: number; rtcpPort: number } }
  | { ev: 'reply'; req: number; ok: false; error: WorkerErrorInfo }
  | { ev: 'latched'; row: number; kind: 'rtp' | 'rtcp'; address: string; port: number; relatch: boolean }
  | { ev: 'dead'; row: number; silentMs: number }
  | { ev: 'log'; level: Exclude<LogLevel, 'silent' | 'fatal'>; obj: object | string; msg?: string };
