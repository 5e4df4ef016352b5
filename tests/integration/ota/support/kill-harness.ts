/**
 * Kill-and-recover scenarios: the agent runs in child processes; the first
 * one is stopped at a chosen step and killed with SIGKILL (optionally
 * followed by a power cut: the boot loader runs before the next start);
 * then agents are started again, with simulated reboots whenever one asks
 * for a reboot, until the box reports a final state.
 */
import * as assert from 'uvu/assert';
import { readBootEnv, simulateBoot } from '../../../../hw/slots/file-backend.js';
import type { FileBootEnv } from '../../../../hw/slots/file-backend.js';
import type { OtaReported } from '../../../../ota/protocol/reported.js';
import type { TestKeys } from '../../../unit/ota/support/bundles.js';
import { AgentProcess } from './agent-process.js';
import type { EntryConfig } from './agent-entry.js';
import { FAST_TUNING } from './world.js';
import type { World } from './world.js';

export interface Scenario {
  name: string;
  keys: TestKeys;
  /** Publish the target (after the first agent is up). */
  target: () => Promise<void>;
  pauseAt?: string[];
  pauseInstallAt?: number;
  /** Kill the first agent when this report arrives (instead of a pause). */
  killWhen?: (r: OtaReported) => boolean;
  powerCut?: boolean;
  expect: 'committed' | 'rolled-back';
  tuning?: EntryConfig['tuning'];
}

export interface ScenarioResult {
  final: OtaReported;
  pausedAt: string | undefined;
  bootEnv: FileBootEnv;
  spawns: number;
}

async function waitAny<T>(fns: Array<() => T | undefined>, what: string, timeoutMs = 40_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const f of fns) {
      const v = f();
      if (v !== undefined) return v;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function runScenario(world: World, s: Scenario): Promise<ScenarioResult> {
  const box = await world.box(s.name, s.keys);
  const base: EntryConfig = { root: box.root, deviceId: s.name, brokerUrl: world.broker.url, trustedPem: s.keys.publicPem, tuning: s.tuning ?? FAST_TUNING };
  let pausedAt: string | undefined;
  let spawns = 0;
  let targetSent = false;
  const isFinal = (r: OtaReported): boolean => r.state === s.expect || ['committed', 'rolled-back', 'refused', 'failed'].includes(r.state);
  const reportsSeen = (): number => (world.reports.get(s.name) ?? []).length;
  for (;;) {
    if (spawns > 10) throw new Error('too many agent starts');
    const stillToPause = pausedAt === undefined && (s.pauseAt !== undefined || s.pauseInstallAt !== undefined);
    const p = new AgentProcess({ ...base, ...(stillToPause ? { pauseAt: s.pauseAt, pauseInstallAt: s.pauseInstallAt } : {}) });
    spawns++;
    const from = reportsSeen();
    try {
      if (!targetSent) {
        // The first agent's idle report shows it is subscribed.
        await world.waitFor(s.name, (r) => r.state === 'idle', 'idle report');
        await s.target();
        targetSent = true;
      }
      const killWatch = s.killWhen && pausedAt === undefined ? s.killWhen : undefined;
      const outcome = await waitAny<string>(
        [
          () => (p.messages.find((m) => m.t === 'paused') ? 'paused' : undefined),
          () => (p.messages.find((m) => m.t === 'reboot') ? 'reboot' : undefined),
          () => (killWatch && (world.reports.get(s.name) ?? []).slice(from).some(killWatch) ? 'kill-watch' : undefined),
          () => ((world.reports.get(s.name) ?? []).slice(from).some((r) => isFinal(r) && r.seq > 0) ? 'final' : undefined),
          () => (!p.running ? 'exited' : undefined),
        ],
        `progress of agent ${spawns}`,
      );
      if (outcome === 'paused' || outcome === 'kill-watch') {
        const m = p.messages.find((x) => x.t === 'paused');
        pausedAt = m && m.t === 'paused' ? m.at : 'kill-watch';
        await p.kill();
        if (s.powerCut) await simulateBoot(box.slotsRoot);
        continue;
      }
      if (outcome === 'reboot') {
        await p.exited;
        await simulateBoot(box.slotsRoot);
        continue;
      }
      if (outcome === 'exited') throw new Error(`agent ${spawns} exited unexpectedly\n${p.output.slice(-3000)}`);
      const final = (world.reports.get(s.name) ?? []).slice(from).find((r) => isFinal(r) && r.seq > 0)!;
      await p.kill();
      const bootEnv = await readBootEnv(box.slotsRoot);
      assert.is(final.state, s.expect, `final state: ${JSON.stringify(final.reason)}`);
      return { final, pausedAt, bootEnv, spawns };
    } finally {
      await p.kill();
    }
  }
}
