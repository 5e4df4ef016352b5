/**
 * The factory reset in the running gateway (issue 5; docs/HARDWARE.md
 * "Factory reset"), asked for by the front panel (two holds) or by
 * `pgw factory-reset --yes` through the control socket (control-socket.ts).
 *
 *   request ── calls up ─────────────▶ refused "calls up: hang up first" (logged, on the LCD)
 *      │ ───── update on the slots ──▶ refused "an update is installing"
 *      ▼ (same tick as the check: no call can slip in)
 *   new calls held (503) ─▶ marker written ─▶ writers stopped (cloud sync, update agent, store)
 *      ─▶ erased (hw/reset/factory-eraser.ts) ─▶ marker removed ─▶ board restart (after a
 *         moment, so the panel and the CLI see the outcome)
 *
 * The writers are stopped before the erase so nothing they hold in memory
 * (a config push, an update record, a call record) is written back after it.
 * If the erase fails after the marker, the board restarts anyway: the next
 * start finishes the erase before it reads anything (gateway.ts).
 */
import type { BoardProfile } from '../../../hw/boards/board-profile.js';
import { boardRestart, type BoardRestart } from '../../../hw/reset/board-restart.js';
import { OTA_STATES_BLOCKING_RESET } from '../../../hw/reset/erase-plan.js';
import { beginFactoryReset, completeFactoryReset, type FactoryResetPaths, type ResetMarker, type ResetSource } from '../../../hw/reset/factory-eraser.js';
import type { FactoryResetOutcome, ResetRefusal } from '../../../hw/panel/panel-controller.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { startControlSocket, type ControlSocket } from './control-socket.js';

// For the composition root, so it reaches the reset through the wiring only.
export { finishPendingFactoryReset } from '../../../hw/reset/factory-eraser.js';
export { identityDirFrom } from '../../../hw/identity/device-identity.js';

export type FactoryResetAnswer =
  | { outcome: 'erased'; deviceId: string; claimCode: string; restart: BoardRestart['kind'] }
  | { outcome: 'refused'; reason: ResetRefusal; message: string };

export interface FactoryResetDeps {
  paths: FactoryResetPaths;
  clock: Clock;
  logger: Logger;
  /** Calls up now, calls being set up included. */
  activeCalls: () => number;
  /** From now on new calls get 503; synchronous, so the check and the hold happen in one tick. */
  holdCalls: () => void;
  resumeCalls: () => void;
  /** The update agent's state, or null without an agent. */
  otaState: () => string | null;
  /** Stops what writes under the data directory: cloud sync, the update agent, the store. */
  quiesce: () => Promise<void>;
  restart: BoardRestart;
  /** From the erase to the restart: the panel shows "done", the CLI gets its answer. Default 1.5 s. */
  restartDelayMs?: number;
}

export class FactoryResetCoordinator {
  private running: Promise<FactoryResetAnswer> | null = null;
  private readonly log: Logger;

  constructor(private readonly d: FactoryResetDeps) {
    this.log = d.logger.child({ component: 'factory-reset' });
  }

  /** Asks for a reset; a second request while one runs gets the same answer. */
  request(source: ResetSource): Promise<FactoryResetAnswer> {
    if (this.running) return this.running;
    const calls = this.d.activeCalls();
    if (calls > 0) {
      const message = `factory reset refused: ${calls} call${calls === 1 ? '' : 's'} up — hang up first, then confirm again`;
      this.log.warn({ source, calls }, message);
      return Promise.resolve({ outcome: 'refused', reason: 'calls-up', message });
    }
    const ota = this.d.otaState();
    if (ota !== null && OTA_STATES_BLOCKING_RESET.includes(ota)) {
      const message = `factory reset refused: an update is in progress (${ota}; a reset must not change what software runs) — try again when it is over`;
      this.log.warn({ source, ota }, message);
      return Promise.resolve({ outcome: 'refused', reason: 'update-running', message });
    }
    this.d.holdCalls();
    this.running = this.run(source).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async run(source: ResetSource): Promise<FactoryResetAnswer> {
    const log = this.log;
    let marker: ResetMarker;
    try {
      marker = await beginFactoryReset(this.d.paths, { source, now: () => this.d.clock.now() });
    } catch (err) {
      this.d.resumeCalls();
      const message = `factory reset failed before anything was erased: ${(err as Error).message}`;
      log.error({ source }, message);
      return { outcome: 'refused', reason: 'failed', message };
    }
    log.warn({ source, ...this.d.paths }, 'factory reset: new calls held, erasing the practice data and the identity');
    await this.d.quiesce().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'a service did not stop cleanly before the erase'));
    try {
      const r = await completeFactoryReset(this.d.paths, marker);
      log.warn(
        { source, deviceId: r.deviceId, claimCode: r.claimCode, erased: r.erased, restart: this.d.restart.kind },
        'factory reset done: the box restarts factory-fresh',
      );
      this.scheduleRestart();
      return { outcome: 'erased', deviceId: r.deviceId, claimCode: r.claimCode, restart: this.d.restart.kind };
    } catch (err) {
      const message = `factory reset did not complete (${(err as Error).message}); the next start finishes it`;
      log.error({ source }, message);
      this.scheduleRestart();
      return { outcome: 'refused', reason: 'failed', message };
    }
  }

  private scheduleRestart(): void {
    this.d.clock.setTimer(this.d.restartDelayMs ?? 1500, () => {
      this.d.restart.restart('factory reset').catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'the board did not restart'));
    });
  }
}

export interface GatewayFactoryResetOptions extends Omit<FactoryResetDeps, 'restart'> {
  board: BoardProfile;
  env: NodeJS.ProcessEnv;
  /** Ends this process as systemd would (tests); default SIGTERM to itself. */
  stopProcess?: () => void;
}

export interface GatewayFactoryReset {
  readonly coordinator: FactoryResetCoordinator;
  /** For the front panel (hw/panel/panel-controller.ts). */
  fromPanel(): Promise<FactoryResetOutcome>;
  close(): Promise<void>;
}

/** The coordinator with the board's restart, and the control socket for the console CLI. */
export async function startGatewayFactoryReset(o: GatewayFactoryResetOptions): Promise<GatewayFactoryReset> {
  const restart = boardRestart({
    board: o.board,
    env: o.env,
    logger: o.logger,
    now: () => o.clock.now(),
    ...(o.stopProcess ? { stopProcess: o.stopProcess } : {}),
  });
  const coordinator = new FactoryResetCoordinator({ ...o, restart });
  let socket: ControlSocket | null = null;
  try {
    socket = await startControlSocket({ dataDir: o.paths.dataDir, logger: o.logger, factoryReset: () => coordinator.request('cli') });
  } catch (err) {
    o.logger.child({ component: 'factory-reset' }).error({ err: (err as Error).message }, 'the control socket cannot listen: `pgw factory-reset` works only offline');
  }
  return {
    coordinator,
    async fromPanel() {
      const a = await coordinator.request('panel');
      return a.outcome === 'erased' ? { outcome: 'erased', claimCode: a.claimCode } : a;
    },
    close: async () => {
      await socket?.close();
    },
  };
}
