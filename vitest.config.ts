/** Test runner settings: real databases and servers take longer than vitest's defaults. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `trpc-offline-sync/<entry>` (how the examples import the package) resolved to the entry's source,
// as tsconfig.json's `paths` do for the typecheck: package.json's exports, dist/X.js → X.ts.
const manifest = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  name: string;
  exports: Record<string, string | { import: string }>;
};
const alias = Object.entries(manifest.exports).flatMap(([subpath, target]) =>
  typeof target === 'string'
    ? []
    : [
        {
          find: new RegExp(`^${manifest.name}${subpath.slice(1)}$`),
          replacement: fileURLToPath(
            new URL(
              target.import.replace(/^\.\/dist\//, './').replace(/\.js$/, '.ts'),
              import.meta.url,
            ),
          ),
        },
      ],
);

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', '.tmp/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: keep heavy suites (PGlite, PostgreSQL, child servers) from starving each other.
    maxWorkers: 2,
    typecheck: { enabled: false },
    // Conditions, not budgets: a slow or busy CI machine may take a while to get there (default 1 s).
    expect: { poll: { timeout: 15_000 } },
  },
});
