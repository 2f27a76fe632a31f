/**
 * The stores the views tests run on: memory, PGlite (in memory) and PostgreSQL (TEST_DATABASE_URL).
 * `TEST_STORES=memory,pglite` keeps only the named ones, as `storeCases()` does (e.g. `npm run
 * mutation` runs on memory only); unset, all of them.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { memoryStore } from '../../server/stores/memory.js';
import { pgliteStore, postgresStore } from '../../server/stores/postgres/index.js';
import type { Store } from '../../server/stores/store.js';

export interface StoreKind {
  name: string;
  /**
   * A fresh, init()-ed store; `drop` removes what it made (PostgreSQL schemas). `peer` opens a
   * second store on the same data as another process would (PostgreSQL: its own pool and LISTEN);
   * stores that live in one process give the same store.
   */
  open(): Promise<{ store: Store; drop(): Promise<void>; peer(): Promise<Store> }>;
  skip?: string;
}

const url = process.env.TEST_DATABASE_URL;

const allStoreKinds: StoreKind[] = [
  {
    name: 'memory',
    async open() {
      const store = memoryStore();
      await store.init();
      return { store, drop: () => store.close(), peer: async () => store };
    },
  },
  {
    name: 'pglite',
    async open() {
      const store = await pgliteStore();
      await store.init();
      return { store, drop: () => store.close(), peer: async () => store };
    },
  },
  {
    name: 'postgres',
    skip: url ? undefined : 'TEST_DATABASE_URL not set',
    async open() {
      const schema = `v_${randomBytes(6).toString('hex')}`;
      const connect = async () => {
        const pool = new pg.Pool({ connectionString: url, max: 5 });
        const opened = postgresStore(pool, { schema, notifyChannel: schema, closeClient: true });
        await opened.init();
        return opened;
      };
      const store = await connect();
      const peers: Store[] = [];
      return {
        store,
        async peer() {
          const p = await connect();
          peers.push(p);
          return p;
        },
        async drop() {
          for (const p of peers) await p.close();
          await store.close();
          const admin = new pg.Client({ connectionString: url });
          await admin.connect();
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await admin.end();
        },
      };
    },
  },
];

const only = process.env.TEST_STORES?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);

export const storeKinds: StoreKind[] = only?.length
  ? allStoreKinds.filter((k) => only.includes(k.name))
  : allStoreKinds;
