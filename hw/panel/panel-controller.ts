/**
 * Drives the front panel: pages through the gateway's state on a button
 * press, jumps to the mode page when the mode changes and to the alarms page
 * when a critical alarm is raised, goes home when left alone, and turns a long
 * hold into a factory-reset request that a second hold must confirm.
 *
 *               short press: next page
 *     paging ───────── hold ≥ holdMs ─────────▶ confirm ── hold ≥ holdMs ──▶ resetting
 *       ▲ ▲                                        │                          │      │ erased
 *       │ └─── short press, or confirmWindowMs ────┘                 refused  │      ▼
 *       │      with no hold                                        or failed  │   restarting
 *       └──── short press, or refusedShowMs ───── refused ◀───────────────────┘
 *
 * onFactoryReset() says how it went: `refused` (calls up, an update on the
 * slots: the panel says why, e.g. "CALLS UP / Hang up first", and the
 * installer confirms again later), or `erased` (the board restarts next).
 * One that throws is shown as failed and leaves the panel usable.
 *
 * Time runs on the injected Clock. A hold is recognised while the button is
 * still down, so the installer sees the screen change and can let go.
 */
import type { Clock, TimerHandle } from '../../firmware/src/util/clock.js';
import { PgwError } from '../../firmware/src/util/errors.js';
import type { Logger } from '../../firmware/src/util/logger.js';
import type { ButtonEdge, FrontPanel } from './front-panel.js';
import type { PanelPage, PanelSnapshot } from './panel-pages.js';
import { homePage, ledFor, renderConfirmReset, renderPage, renderResetRefused, renderResetting, renderRestarting, visiblePages } from './panel-pages.js';

export type PanelControlState = 'paging' | 'confirm' | 'resetting' | 'refused' | 'restarting';

const TRANSITIONS: Record<PanelControlState, readonly PanelControlState[]> = {
  paging: ['confirm'],
  confirm: ['paging', 'resetting'],
  resetting: ['refused', 'restarting'],
  refused: ['paging'],
  restarting: [],
};

/** Why a reset did not happen; the panel shows each in its own words (panel-pages.ts renderResetRefused). */
export type ResetRefusal = 'calls-up' | 'update-running' | 'failed';

/** What onFactoryReset() tells the panel. */
export type FactoryResetOutcome = { outcome: 'erased'; claimCode: string | null } | { outcome: 'refused'; reason: ResetRefusal; message: string };

export interface PanelControllerOptions {
  panel: FrontPanel;
  clock: Clock;
  logger: Logger;
  /** The gateway's state now; called on every refresh. */
  snapshot: () => PanelSnapshot | Promise<PanelSnapshot>;
  /** Wipes config and data and has the board restart; called after the second hold. */
  onFactoryReset: () => Promise<FactoryResetOutcome>;
  refreshMs?: number;
  holdMs?: number;
  confirmWindowMs?: number;
  /** Back to the home page after this long without a press. */
  homeAfterMs?: number;
  /** How long a refusal stays on the screen (a press clears it sooner). */
  refusedShowMs?: number;
}

export class PanelController {
  private readonly o: Required<PanelControllerOptions>;
  private state: PanelControlState = 'paging';
  private page: PanelPage = 'mode';
  private last: PanelSnapshot | null = null;
  private refreshTimer: TimerHandle | undefined;
  private holdTimer: TimerHandle | undefined;
  private confirmTimer: TimerHandle | undefined;
  private confirmUntil = 0;
  private refusal: { reason: ResetRefusal; message: string } | null = null;
  private newClaimCode: string | null = null;
  private lastPressAt: number;
  private holdFired = false;
  private buttonDown = false;
  private painting: Promise<void> = Promise.resolve();
  private running = false;
  private readonly offButton: () => void;

  constructor(options: PanelControllerOptions) {
    this.o = { refreshMs: 2000, holdMs: 5000, confirmWindowMs: 15_000, homeAfterMs: 60_000, refusedShowMs: 10_000, ...options };
    this.lastPressAt = this.o.clock.monotonic();
    this.offButton = options.panel.onButton((edge) => this.onButton(edge));
  }

  get currentPage(): PanelPage {
    return this.page;
  }

  get controlState(): PanelControlState {
    return this.state;
  }

  start(): Promise<void> {
    this.running = true;
    return this.refresh();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.offButton();
    this.refreshTimer?.cancel();
    this.holdTimer?.cancel();
    this.confirmTimer?.cancel();
    await this.painting;
  }

  /** Something changed (mode, alarm, OTA): repaint now instead of at the next tick. */
  notify(): Promise<void> {
    return this.refresh();
  }

  /** Resolves when every paint queued so far has reached the panel. */
  idle(): Promise<void> {
    return this.painting;
  }

  // ------------------------------------------------------------ refresh

  private refresh(): Promise<void> {
    this.refreshTimer?.cancel();
    const p = this.painting.then(async () => {
      try {
        const s = await this.o.snapshot();
        this.follow(s);
        await this.paint();
      } catch (err) {
        this.o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'panel refresh failed');
      }
    });
    this.painting = p;
    void p.then(() => {
      if (this.running && this.painting === p) {
        this.refreshTimer = this.o.clock.setTimer(this.o.refreshMs, () => void this.refresh());
      }
    });
    return p;
  }

  /** Decide the page from what changed since the last snapshot. */
  private follow(s: PanelSnapshot): void {
    const prev = this.last;
    this.last = s;
    const pages = visiblePages(s);
    if (!prev) {
      this.page = homePage(s);
      return;
    }
    if (prev.mode !== s.mode) {
      this.page = 'mode';
      this.lastPressAt = this.o.clock.monotonic();
    } else if (s.alarms.some((a) => a.severity === 'critical' && !prev.alarms.some((p) => p.alarm === a.alarm))) {
      this.page = 'alarms';
      this.lastPressAt = this.o.clock.monotonic();
    } else if (this.o.clock.monotonic() - this.lastPressAt >= this.o.homeAfterMs) {
      this.page = homePage(s);
    }
    if (!pages.includes(this.page)) this.page = homePage(s);
  }

  private async paint(): Promise<void> {
    const s = this.last;
    if (!s) return;
    const size = { cols: this.o.panel.cols, rows: this.o.panel.rows };
    switch (this.state) {
      case 'paging':
        await this.o.panel.show(renderPage(this.page, s, size));
        await this.o.panel.setLed(ledFor(s));
        return;
      case 'confirm': {
        const left = Math.max(0, Math.ceil((this.confirmUntil - this.o.clock.monotonic()) / 1000));
        await this.o.panel.show(renderConfirmReset(size, left));
        await this.o.panel.setLed({ colour: 'red', mode: 'solid' });
        return;
      }
      case 'resetting':
        await this.o.panel.show(renderResetting(size));
        await this.o.panel.setLed({ colour: 'red', mode: 'blink' });
        return;
      case 'refused':
        await this.o.panel.show(renderResetRefused(this.refusal?.reason ?? 'failed', size));
        await this.o.panel.setLed({ colour: 'amber', mode: 'blink' });
        return;
      case 'restarting':
        await this.o.panel.show(renderRestarting(size, this.newClaimCode));
        await this.o.panel.setLed({ colour: 'amber', mode: 'solid' });
        return;
      default: {
        const never: never = this.state;
        return never;
      }
    }
  }

  private repaint(): void {
    this.painting = this.painting.then(() => this.paint()).catch(() => undefined);
  }

  // ------------------------------------------------------------ button

  private onButton(edge: ButtonEdge): void {
    if (edge === 'down') {
      if (this.buttonDown) return;
      this.buttonDown = true;
      this.holdFired = false;
      this.holdTimer?.cancel();
      this.holdTimer = this.o.clock.setTimer(this.o.holdMs, () => {
        this.holdFired = true;
        this.onHold();
      });
      return;
    }
    if (!this.buttonDown) return;
    this.buttonDown = false;
    this.holdTimer?.cancel();
    if (!this.holdFired) this.onShortPress();
  }

  private onShortPress(): void {
    this.lastPressAt = this.o.clock.monotonic();
    switch (this.state) {
      case 'paging': {
        if (!this.last) return;
        const pages = visiblePages(this.last);
        const i = pages.indexOf(this.page);
        this.page = pages[(i + 1) % pages.length]!;
        this.repaint();
        return;
      }
      case 'confirm':
        this.confirmTimer?.cancel();
        this.transition('paging', 'cancelled by a press');
        this.repaint();
        return;
      case 'refused':
        this.confirmTimer?.cancel();
        this.transition('paging', 'refusal read');
        this.repaint();
        return;
      case 'resetting':
      case 'restarting':
        return;
      default: {
        const never: never = this.state;
        return never;
      }
    }
  }

  private onHold(): void {
    this.lastPressAt = this.o.clock.monotonic();
    switch (this.state) {
      case 'paging':
        this.transition('confirm', 'button held');
        this.confirmUntil = this.o.clock.monotonic() + this.o.confirmWindowMs;
        this.confirmTimer = this.o.clock.setTimer(this.o.confirmWindowMs, () => {
          if (this.state !== 'confirm') return;
          this.transition('paging', 'not confirmed in time');
          this.repaint();
        });
        this.repaint();
        return;
      case 'confirm':
        this.confirmTimer?.cancel();
        this.transition('resetting', 'confirmed by a second hold');
        this.repaint();
        this.painting = this.painting
          .then(() => this.o.onFactoryReset())
          .catch((err: unknown): FactoryResetOutcome => {
            const message = err instanceof Error ? err.message : String(err);
            this.o.logger.error({ err: message }, 'factory reset failed');
            return { outcome: 'refused', reason: 'failed', message };
          })
          .then((r) => this.afterReset(r));
        return;
      case 'resetting':
      case 'refused':
      case 'restarting':
        return;
      default: {
        const never: never = this.state;
        return never;
      }
    }
  }

  private async afterReset(r: FactoryResetOutcome): Promise<void> {
    if (r.outcome === 'erased') {
      this.newClaimCode = r.claimCode;
      this.transition('restarting', 'data erased');
    } else {
      this.refusal = { reason: r.reason, message: r.message };
      this.transition('refused', r.message);
      this.confirmTimer = this.o.clock.setTimer(this.o.refusedShowMs, () => {
        if (this.state !== 'refused') return;
        this.transition('paging', 'refusal shown');
        this.repaint();
      });
    }
    await this.paint().catch(() => undefined);
  }

  private transition(to: PanelControlState, why: string): void {
    const from = this.state;
    if (!TRANSITIONS[from].includes(to)) {
      throw new PgwError('PGW_E_STATE_TRANSITION', `panel: illegal transition ${from} -> ${to}`, { context: { from, to, why } });
    }
    this.state = to;
    this.o.logger.info({ from, to, why }, 'panel control state');
  }
}
