/**
 * Valid practice documents of any size for the sync tests and the
 * benchmark, plus an in-memory applier that records what it was asked to
 * do and can be told to fail. Test code: not a copy of any fixture in
 * tests/unit/config, so config's fixtures can change freely.
 */
import type { Practice, PracticeInput } from '../../../../firmware/src/config/practice-schema.js';
import { validatePractice } from '../../../../firmware/src/config/validate.js';
import type {
  AppliedPractice,
  ApplyOptions,
  ApplyResult,
  ApplyStep,
  LastKnownGoodStore,
  PracticeApplier,
} from '../../../../firmware/src/sync/ports.js';

export interface BuildOptions {
  version: number;
  /** Number of extensions, numbered from 2000. Default 3. */
  extensions?: number;
  siteName?: string;
  withTrunk?: boolean;
  /** Prefix of every extension password (so a test can look for it in what was published). */
  passwordPrefix?: string;
}

export function buildPractice(o: BuildOptions): PracticeInput {
  const n = o.extensions ?? 3;
  const extensions = Array.from({ length: n }, (_, i) => ({
    number: String(2000 + i),
    name: `Extension ${2000 + i}`,
    password: `${o.passwordPrefix ?? 'sekrit-pw'}-${2000 + i}`,
  }));
  const p: PracticeInput = {
    version: o.version,
    site: { name: o.siteName ?? 'Riverside Surgery' },
    sip: {},
    extensions,
    huntGroups: n >= 2 ? [{ number: '600', name: 'Reception', members: extensions.slice(0, Math.min(3, n)).map((e) => e.number) }] : [],
    inbound: n >= 2 ? [{ did: '+441632960000', destination: '600' }] : [],
  };
  if (o.withTrunk)
    p.uplinks = {
      trunks: [{ name: 'backup', registrar: 'sip:sip.trunk.example', username: 'riverside', password: 'trunk-secret-9Jd' }],
    };
  return p;
}

/** The same practice validated (defaults filled), as the applier sees it. */
export function validated(input: PracticeInput): Practice {
  const r = validatePractice(input);
  if (!r.ok) throw new Error(`test practice invalid: ${JSON.stringify(r.errors)}`);
  return r.value;
}

export function desired(input: PracticeInput): { version: number; practice: PracticeInput } {
  return { version: input.version, practice: input };
}

export interface RecordedApply {
  version: number;
  reason: ApplyOptions['reason'];
  diff: ApplyOptions['diff'];
  previous: ApplyOptions['previous'];
  practice: Practice;
}

/**
 * Records every apply; `failNext` makes the next apply (not rollbacks unless
 * said) fail at a step after doing the steps before it.
 */
export class FakeApplier implements PracticeApplier {
  running: AppliedPractice | undefined;
  readonly calls: RecordedApply[] = [];
  failNext: { step: ApplyStep; message: string; rollbackToo?: boolean; throws?: boolean } | undefined;
  /** When set, apply waits on it (to test coalescing and timeouts). */
  gate: Promise<void> | undefined;

  current(): AppliedPractice | undefined {
    return this.running;
  }

  async apply(practice: Practice, options: ApplyOptions): Promise<ApplyResult> {
    this.calls.push({ version: options.version, reason: options.reason, diff: options.diff, previous: options.previous, practice });
    if (this.gate) await this.gate;
    const f = this.failNext;
    if (f && (options.reason !== 'rollback' || f.rollbackToo)) {
      // Consumed by this apply, except that `rollbackToo` keeps it for the rollback that follows.
      if (options.reason === 'rollback' || !f.rollbackToo) this.failNext = undefined;
      if (f.throws) throw new Error(f.message);
      return { ok: false, step: f.step, errors: [{ path: `practice.${f.step}`, message: f.message }] };
    }
    this.running = { version: options.version, practice };
    return { ok: true };
  }
}

export class MemoryLkg implements LastKnownGoodStore {
  saved: AppliedPractice | undefined;
  saves = 0;
  failSave = false;
  async load(): Promise<AppliedPractice | undefined> {
    return this.saved;
  }
  async save(a: AppliedPractice): Promise<void> {
    if (this.failSave) throw new Error('disk on fire');
    this.saves++;
    this.saved = a;
  }
}
