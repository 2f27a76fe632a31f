// Runs the store conformance suite against the embedded store (PGlite, in memory).
import { runStoreConformance } from '../conformance/index.js';
import { pgliteStore } from '../../server/stores/postgres/index.js';

runStoreConformance({
  name: 'pglite',
  newStore: async () => {
    // A fresh in-memory database per store: isolation for free; close() closes it.
    const store = await pgliteStore();
    await store.init();
    return store;
  },
});
