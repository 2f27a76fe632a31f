/** Vitest settings for `npm run mutation`, part "client" (client/{replica,transfer,retry}.ts): the client suites against a real server on the memory store (not first-sync: better-sqlite3 is built for Node 20, Stryker runs on 22; not batch and rate-limit: they run on PGlite/PostgreSQL only, which the memory-only run leaves empty). */
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
      'test/client/integrity.test.ts',
    ],
    exclude: ['node_modules/**', 'dist/**', '.tmp/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    typecheck: { enabled: false },
  },
});
