/** A connectivity signal client tests flip by hand (the platform's online/offline events). */
import type { Connectivity } from '../../client/index.js';

/** Starts `online`; `set(v)` changes it and tells every subscriber. */
export function fakeConnectivity(online = true): Connectivity & { set(v: boolean): void } {
  const listeners = new Set<(online: boolean) => void>();
  return {
    online: () => online,
    subscribe: (l) => (listeners.add(l), () => void listeners.delete(l)),
    set(v) {
      online = v;
      for (const l of listeners) l(v);
    },
  };
}
