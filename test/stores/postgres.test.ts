// Runs the store conformance suite against PostgreSQL through pg (needs TEST_DATABASE_URL).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { runStoreConformance } from '../conformance/index.js';
import { postgresStore } from '../../server/stores/postgres/index.js';
import type { Store } from '../../server/stores/store.js';

const url = process.env.TEST_DATABASE_URL;

if (!url) {
  console.log('skipped: TEST_DATABASE_URL not set');
  describe.skip('postgres store conformance', () => {
    it('needs TEST_DATABASE_URL (scripts/pg-test-cluster.sh start)', () => undefined);
  });
} else {
  const schemas: string[] = [];
  const schemaOf = new WeakMap<Store, string>();

  /** A store on a pool of its own (closed with the store) in `schema`. */
  const open = async (schema: string): Promise<Store> => {
    const pool = new pg.Pool({ connectionString: url, max: 5 });
    const store = postgresStore(pool, { schema, notifyChannel: schema, closeClient: true });
    await store.init();
    schemaOf.set(store, schema);
    return store;
  };

  runStoreConformance({
    name: 'postgres',
    newStore: () => {
      // Each store gets its own schema and NOTIFY channel, so stores share nothing but the server.
      const schema = `t_${randomBytes(6).toString('hex')}`;
      schemas.push(schema);
      return open(schema);
    },
    reopen: async (store) => {
      await store.close();
      return open(schemaOf.get(store)!);
    },
  });

  afterAll(async () => {
    const admin = new pg.Pool({ connectionString: url, max: 1 });
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });
}
