import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isPgwError } from '../../../../firmware/src/util/errors.js';
import { FINAL_STATES, OTA_EVENTS, OTA_STATES, OTA_TRANSITIONS, acceptsTarget, nextState, transition } from '../../../../ota/agent/states.js';
import type { OtaEvent, OtaState } from '../../../../ota/agent/states.js';

/** The table, written out again by hand: a change to one must be a change to both. */
const EXPECTED: Array<[OtaState, OtaEvent, OtaState]> = [
  ['idle', 'target', 'checking'],
  ['checking', 'target', 'checking'],
  ['checking', 'head-ok', 'downloading'],
  ['checking', 'refuse', 'refused'],
  ['checking', 'fail', 'failed'],
  ['downloading', 'target', 'checking'],
  ['downloading', 'downloaded', 'verifying'],
  ['downloading', 'refuse', 'refused'],
  ['downloading', 'fail', 'failed'],
  ['verifying', 'target', 'checking'],
  ['verifying', 'verified', 'waiting-window'],
  ['verifying', 'redownload', 'downloading'],
  ['verifying', 'refuse', 'refused'],
  ['verifying', 'fail', 'failed'],
  ['waiting-window', 'target', 'checking'],
  ['waiting-window', 'window-open', 'waiting-idle'],
  ['waiting-window', 'fail', 'failed'],
  ['waiting-idle', 'target', 'checking'],
  ['waiting-idle', 'window-closed', 'waiting-window'],
  ['waiting-idle', 'no-calls', 'installing'],
  ['waiting-idle', 'fail', 'failed'],
  ['installing', 'target', 'checking'],
  ['installing', 'window-closed', 'waiting-window'],
  ['installing', 'call-active', 'waiting-idle'],
  ['installing', 'installed', 'rebooting'],
  ['installing', 'refuse', 'refused'],
  ['installing', 'fail', 'failed'],
  ['rebooting', 'booted-new', 'trial'],
  ['rebooting', 'booted-old', 'rolled-back'],
  ['rebooting', 'reboot-interrupted', 'waiting-idle'],
  ['rebooting', 'fail', 'failed'],
  ['trial', 'healthy', 'committed'],
  ['trial', 'unhealthy', 'rolling-back'],
  ['trial', 'booted-old', 'rolled-back'],
  ['rolling-back', 'booted-old', 'rolled-back'],
  ['committed', 'target', 'checking'],
  ['rolled-back', 'target', 'checking'],
  ['refused', 'target', 'checking'],
  ['failed', 'target', 'checking'],
];

test('every legal move goes where the table says', () => {
  for (const [from, ev, to] of EXPECTED) assert.is(transition(from, ev), to, `${from} --${ev}-->`);
});

test('every other (state, event) pair is rejected with PGW_E_STATE_TRANSITION', () => {
  const legal = new Set(EXPECTED.map(([f, e]) => `${f}|${e}`));
  let rejected = 0;
  for (const s of OTA_STATES)
    for (const e of OTA_EVENTS) {
      if (legal.has(`${s}|${e}`)) continue;
      assert.is(nextState(s, e), undefined, `${s} --${e}--> should not exist`);
      assert.throws(
        () => transition(s, e),
        (err: unknown) => isPgwError(err, 'PGW_E_STATE_TRANSITION') && err.context.from === s && err.context.event === e,
        `${s} --${e}-->`,
      );
      rejected++;
    }
  assert.is(rejected, OTA_STATES.length * OTA_EVENTS.length - EXPECTED.length);
});

test('the table has no entry the expected list lacks', () => {
  let n = 0;
  for (const s of OTA_STATES) n += Object.keys(OTA_TRANSITIONS[s]).length;
  assert.is(n, EXPECTED.length);
});

test('no target can interrupt a reboot, a trial or a rollback; every final state takes one', () => {
  for (const s of ['rebooting', 'trial', 'rolling-back'] as const) assert.not.ok(acceptsTarget(s), s);
  for (const s of FINAL_STATES) assert.ok(acceptsTarget(s), s);
});

test('every state can be reached from idle, and every non-final state can reach a final one', () => {
  const reach = (from: OtaState): Set<OtaState> => {
    const seen = new Set<OtaState>([from]);
    const todo = [from];
    while (todo.length) {
      const s = todo.pop()!;
      for (const to of Object.values(OTA_TRANSITIONS[s])) {
        if (to && !seen.has(to)) {
          seen.add(to);
          todo.push(to);
        }
      }
    }
    return seen;
  };
  const fromIdle = reach('idle');
  for (const s of OTA_STATES) assert.ok(fromIdle.has(s), `${s} unreachable`);
  for (const s of OTA_STATES) assert.ok([...reach(s)].some((x) => FINAL_STATES.includes(x) && x !== 'idle') || s === 'idle', `${s} cannot finish`);
});

test.run();
