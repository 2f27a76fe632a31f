/** A `SyncApi` wrapper that counts every request the client sends (push, pull, full, stream subscribe), to prove none goes out while offline. */
import type { SyncApi } from '../../client/index.js';

export interface CountingApi {
  api: SyncApi;
  counts: { push: number; pull: number; full: number; subscribe: number };
  /** Every request so far. */
  total(): number;
}

export function countingApi(inner: SyncApi): CountingApi {
  const counts = { push: 0, pull: 0, full: 0, subscribe: 0 };
  const api: SyncApi = {
    push: { mutate: (input) => (counts.push++, inner.push.mutate(input)) },
    pull: { query: (input, opts) => (counts.pull++, inner.pull.query(input, opts)) },
    full: { query: (input) => (counts.full++, inner.full.query(input)) },
    stream: {
      subscribe: (input, observer) => (counts.subscribe++, inner.stream.subscribe(input, observer)),
    },
  };
  return { api, counts, total: () => counts.push + counts.pull + counts.full + counts.subscribe };
}
