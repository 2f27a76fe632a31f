/** Vitest settings for `npm run mutation`, part "client" (client/{replica,transfer,retry}.ts): the client suites against a real server (not the SQLite ones: better-sqlite3 is built for Node 20, Stryker runs on 22). */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/client/sync.test.ts',
      'test/client/refusal.test.ts',
      'test/client/local.test.ts',
      'test/client/replica.test.ts',
      'test/client/retry.test.ts',
      'test/client/views.test.ts',
      // transfer.ts: progress, resync and batch splitting (identity, integrity and first-sync
      // need better-sqlite3, built for Node 20: test/client/transfer.test.ts covers their part here).
      'test/client/status.test.ts',
      'test/client/truth.test.ts',
      'test/client/transfer.test.ts',
    ],
    exclude: ['node_modules/**', 'dist/**', '.tmp/**'],
    // better-sqlite3 is built for Node 20; Stryker runs on 22: the SQLite cases are left out.
    testNamePattern: /^(?!.*SQLite)/,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    typecheck: { enabled: false },
  },
});
