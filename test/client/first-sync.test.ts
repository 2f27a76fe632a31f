/**
 * A large first sync from `full` into SQLite (and IndexedDB through fake-indexeddb when that store
 * is built): applied page by page as the pages arrive, never all held in one write; a resync cut
 * short and the app restarted on the same database resumes and completes, outbox intact.
 * (The bench runs the same at 100,000 documents: `client.full.100k`.)
 */
// The globals idb's wrappers check (IDBRequest, …), for the IndexedDB run.
import 'fake-indexeddb/auto';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as clientLib from '../../client/index.js';
import { createSyncClient, type LocalStore, type SyncApi } from '../../client/index.js';
import { betterSqlite3Driver, sqliteLocalStore } from '../../client/sqlite/index.js';
import { demoSchema } from '../../server/demo/schema.js';
import { serverStoreCases, startClientServer, type ClientTestServer } from './harness.js';

const DOCS = 12_000;
const PAGE = 1000;
const dir = mkdtempSync(join(tmpdir(), 'first-sync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Records the size of every `write()` batch the client makes. */
function recording(store: LocalStore): { store: LocalStore; sizes: number[] } {
  const sizes: number[] = [];
  const wrapped = Object.create(store) as LocalStore;
  wrapped.write = (writes) => (sizes.push(writes.length), store.write(writes));
  return { store: wrapped, sizes };
}

type StoreKind = { name: string; open(file: string): LocalStore };
const kinds: StoreKind[] = [
  {
    name: 'sqlite',
    open: (file) => sqliteLocalStore(betterSqlite3Driver(new Database(join(dir, file)))),
  },
];
const lib = clientLib as unknown as Record<string, unknown>;
if (typeof lib.indexedDbLocalStore === 'function') {
  const { IDBFactory, IDBKeyRange } = await import('fake-indexeddb');
  const factory = new IDBFactory();
  const open = lib.indexedDbLocalStore as (name: string, options: object) => LocalStore;
  kinds.push({
    name: 'indexeddb (fake-indexeddb)',
    open: (file) => open(file, { indexedDB: factory, IDBKeyRange }),
  });
}

for (const storeCase of await serverStoreCases()) {
  describe(`server on ${storeCase.name}`, () => {
    let server: ClientTestServer;
    beforeAll(async () => {
      server = await startClientServer({ store: storeCase });
    });
    afterAll(() => server?.close());

    /** Seeds `DOCS` tasks into its own tenant and answers a reader's api there. */
    async function seeded(tenant: string): Promise<SyncApi> {
      const seeder = await server.device(tenant, 'seed');
      for (let first = 0; first < DOCS; first += 1000) {
        await seeder.client.collection('tasks').putMany(
          Array.from({ length: 1000 }, (_, i) => ({
            id: `d${String(first + i).padStart(6, '0')}`,
            doc: { title: `task ${first + i}`, priority: (first + i) % 9 },
          })),
        );
        await seeder.client.push();
      }
      return (await server.device(tenant, 'reader')).trpc.sync as unknown as SyncApi;
    }

    describe.each(kinds)('first sync of $name', (kind) => {
      const tenant = `t-first-${kind.name.split(' ')[0]}`;
      let api: SyncApi;
      beforeAll(async () => {
        api = await seeded(tenant);
      });

      it(`applies ${DOCS} documents page by page, never in one write`, async () => {
        const { store, sizes } = recording(kind.open(`${storeCase.name}-${kind.name}-a.db`));
        const client = createSyncClient({
          api,
          schema: demoSchema,
          store,
          clientId: `${kind.name}-a`,
          fullLimit: PAGE,
        });
        const pages: number[] = [];
        client.on('progress', (p) => p.phase === 'full' && pages.push(p.done));
        expect(await client.resync()).toBe(DOCS);
        expect(pages).toEqual(Array.from({ length: DOCS / PAGE }, (_, i) => (i + 1) * PAGE));
        expect(Math.max(...sizes)).toBeLessThanOrEqual(PAGE + 2);
        expect(await client.collection('tasks').count()).toBe(DOCS);
        expect((await client.collection('tasks').query({ priority: 4 })).length).toBe(
          Array.from({ length: DOCS }, (_, i) => i % 9).filter((p) => p === 4).length,
        );
        await client.close();
      });

      it('cut short, then restarted on the same database: resumes from its last page, keeps the outbox, completes', async () => {
        const file = `${storeCase.name}-${kind.name}-b.db`;
        let pagesServed = 0;
        let cut = true;
        const cutting: SyncApi = {
          push: api.push,
          pull: api.pull,
          stream: api.stream,
          full: {
            query: async (input) => {
              if (cut && pagesServed >= 5) throw new Error('app killed (test)');
              pagesServed++;
              return api.full.query(input);
            },
          },
        };
        const first = createSyncClient({
          api: cutting,
          schema: demoSchema,
          store: kind.open(file),
          clientId: `${kind.name}-b`,
          fullLimit: PAGE,
          retry: { retries: 0, baseMs: 1, maxMs: 1 },
        });
        await first
          .collection('notes')
          .put('n1', { body: 'written offline before the first sync' });
        await expect(first.resync()).rejects.toThrow(/app killed/);
        expect((await first.store.getMeta('resync'))?.done).toBe(5 * PAGE);
        expect(await first.store.getMeta('checkpoint')).toBeNull();
        await first.close();

        cut = false;
        const cursors: (string | null | undefined)[] = [];
        const watching: SyncApi = {
          push: api.push,
          pull: api.pull,
          stream: api.stream,
          full: { query: (input) => (cursors.push(input.cursor), api.full.query(input)) },
        };
        const second = createSyncClient({
          api: watching,
          schema: demoSchema,
          store: kind.open(file),
          fullLimit: PAGE,
        });
        expect(await second.clientId()).toBe(`${kind.name}-b`);
        expect(await second.pending()).toBe(1);
        await second.sync();
        expect(cursors[0]).toBeTruthy(); // resumed, not started over
        expect(cursors.length).toBe(DOCS / PAGE - 5);
        expect(await second.store.getMeta('resync')).toBeNull();
        expect(await second.collection('tasks').count()).toBe(DOCS);
        expect(await second.collection('notes').get('n1')).toEqual({
          body: 'written offline before the first sync',
        });
        expect(await second.pending()).toBe(0);
        expect(await server.oplog(tenant, `${kind.name}-b`)).toHaveLength(1);
        await second.close();
      });
    });
  });
}
