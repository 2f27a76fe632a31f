/** The sync-client suite on the memory local store. */
import { runSyncClientSuite } from './sync.suite.js';

runSyncClientSuite('memory');
