/**
 * Vitest settings for `npm run mutation`, part "core" (shared/, server/engine/): the store conformance
 * suite on memory, the engine and shared unit tests, the store-less read-plan tests of test/views,
 * and the live feed's pass-over test (on memory only: test/views/stores.ts keeps the stores
 * TEST_STORES names).
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/shared/**/*.test.ts',
      'test/stores/memory.test.ts',
      'test/engine/*.test.ts',
      'test/views/plan.test.ts',
      'test/views/plan-shows.test.ts',
      'test/views/pass-over.test.ts',
      // Read rules, view checksums and full exports with rules (memory only, as above).
      'test/views/views.test.ts',
      'test/views/own-writes.test.ts',
      'test/views/view-checksums.test.ts',
      'test/views/writer.test.ts',
    ],
    exclude: ['node_modules/**', 'dist/**', '.tmp/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    typecheck: { enabled: false },
  },
});
