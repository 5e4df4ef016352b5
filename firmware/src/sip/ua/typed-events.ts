/**
 * A small typed event emitter for the UA layer's upward notifications
 * (ARCHITECTURE.md, convention 1: callbacks upward are delegates or typed
 * events). A listener that throws is logged and does not break the protocol
 * state machine that emitted the event.
 */
import type { Logger } from '../../util/logger.js';

type Listener<T> = (event: T) => void;

export class TypedEvents<E extends object> {
  private readonly listeners = new Map<keyof E, Set<Listener<never>>>();

  constructor(private readonly logger?: Logger) {}

  /** Subscribe; returns the unsubscribe function. */
  on<K extends keyof E>(name: K, fn: Listener<E[K]>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(fn as Listener<never>);
    return () => {
      set.delete(fn as Listener<never>);
    };
  }

  once<K extends keyof E>(name: K, fn: Listener<E[K]>): () => void {
    const off = this.on(name, (e) => {
      off();
      fn(e);
    });
    return off;
  }

  listenerCount(name: keyof E): number {
    return this.listeners.get(name)?.size ?? 0;
  }

  emit<K extends keyof E>(name: K, event: E[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<E[K]>)(event);
      } catch (err) {
        this.logger?.error({ err, event: String(name) }, 'event listener threw');
      }
    }
  }
}
