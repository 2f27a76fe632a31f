// Runs the store conformance suite against the embedded store (PGlite in a temporary directory).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runStoreConformance } from '../conformance/index.js';
import { pgliteStore } from '../../server/stores/postgres/index.js';
import type { Store } from '../../server/stores/store.js';

// On disk rather than in memory, so the suite can also check that data survives a reopen.
const dirs = new WeakMap<Store, string>();
const made: string[] = [];

async function open(dir: string): Promise<Store> {
  const store = await pgliteStore(dir);
  await store.init();
  dirs.set(store, dir);
  return store;
}

runStoreConformance({
  name: 'pglite',
  newStore: () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-pglite-conformance-'));
    made.push(dir);
    return open(dir);
  },
  reopen: async (store) => {
    await store.close();
    return open(dirs.get(store)!);
  },
});

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
