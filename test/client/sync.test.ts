/** The sync-client suite on the memory local store, against a server on every store (memory, PGlite, PostgreSQL when TEST_DATABASE_URL is set). */
import { serverStoreCases } from './harness.js';
import { runSyncClientSuite } from './sync.suite.js';

for (const store of await serverStoreCases(true)) runSyncClientSuite('memory', undefined, store);
