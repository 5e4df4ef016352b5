/**
 * Typed events without EventEmitter's string-keyed `any`: one listener set
 * per event name. A listener that throws is reported to `onError` and does
 * not stop the others.
 */
export type ListenerMap = Record<string, (...args: never[]) => void>;

export class Listeners<M extends ListenerMap> {
  private readonly sets = new Map<keyof M, Set<M[keyof M]>>();

  constructor(private readonly onError: (event: string, err: unknown) => void = () => undefined) {}

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof M>(event: K, fn: M[K]): () => void {
    let set = this.sets.get(event);
    if (!set) this.sets.set(event, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  emit<K extends keyof M>(event: K, ...args: Parameters<M[K]>): void {
    const set = this.sets.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as (...a: Parameters<M[K]>) => void)(...args);
      } catch (e) {
        this.onError(String(event), e);
      }
    }
  }
}
