/**
 * The store's PracticeStore as the reconciler's LastKnownGoodStore: the
 * practice is saved (durably, validated again) only after the applier
 * succeeded, and loaded at start when nothing runs yet.
 */
import type { PracticeStore } from '../store/practice-store.js';
import type { LastKnownGoodStore } from './ports.js';

export function lastKnownGoodFromPracticeStore(store: Pick<PracticeStore, 'load' | 'saveApplied'>): LastKnownGoodStore {
  return {
    async load() {
      const a = await store.load();
      return a ? { version: a.version, practice: a.practice } : undefined;
    },
    async save({ version, practice }) {
      // practice.version already equals version (validateDesired fills it); kept explicit.
      await store.saveApplied({ ...practice, version });
    },
  };
}
