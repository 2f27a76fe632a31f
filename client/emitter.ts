/** A minimal typed event emitter (no Node `events`, so it runs in browsers and React Native). */

/** Listener sets keyed by event name; a throwing listener never breaks sync. */
export class Emitter<E extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof E, Set<(payload: never) => void>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: (payload: E[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => void set.delete(listener as (payload: never) => void);
  }

  emit<K extends keyof E>(event: K, payload: E[K]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as (payload: E[K]) => void)(payload);
      } catch {
        // a listener's bug must not stop sync or other listeners
      }
    }
  }
}
