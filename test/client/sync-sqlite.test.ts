/** The sync-client suite on `sqliteLocalStore` (better-sqlite3, a temp file per device), against a server on PGlite. */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { betterSqlite3Driver, sqliteLocalStore } from '../../client/sqlite/index.js';
import { serverStoreCases } from './harness.js';
import { runSyncClientSuite } from './sync.suite.js';

const dir = mkdtempSync(join(tmpdir(), 'sync-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const pglite = (await serverStoreCases()).find((c) => c.name === 'pglite');
runSyncClientSuite(
  'sqlite (better-sqlite3)',
  () => sqliteLocalStore(betterSqlite3Driver(new Database(join(dir, `device-${++n}.db`)))),
  pglite,
);
