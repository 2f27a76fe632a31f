/** The client-store conformance suite on `memoryLocalStore()`. */
import { memoryLocalStore } from '../../client/index.js';
import { runLocalStoreConformance } from './conformance.js';

runLocalStoreConformance({ name: 'memory', open: async () => memoryLocalStore() });
