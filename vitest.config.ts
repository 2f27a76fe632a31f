/** Test runner settings: real databases and servers take longer than vitest's defaults. */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', '.tmp/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: keep heavy suites (PGlite, PostgreSQL, child servers) from starving each other.
    maxWorkers: 2,
    typecheck: { enabled: false },
  },
});
