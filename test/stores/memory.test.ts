/** The store-conformance suite on the in-memory store. */
import { memoryStore } from '../../server/stores/memory.js';
import { runStoreConformance } from '../conformance/index.js';

runStoreConformance({ name: 'memory', newStore: async () => memoryStore() });
