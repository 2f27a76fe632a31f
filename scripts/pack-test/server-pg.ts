/**
 * The server app of the packaging test: the engine on PostgreSQL (a `pg.Pool` on
 * TEST_DATABASE_URL, in a schema of its own) behind the one-port Node server, with JWT tokens.
 * Prints `listening URL TOKEN`; stops on SIGTERM and drops its schema.
 */
import pg from 'pg';
import { createSyncEngine } from 'trpc-offline-sync/engine';
import { createSyncHttpServer, jwtAuthenticator, signDevToken } from 'trpc-offline-sync/node';
import { postgresStore } from 'trpc-offline-sync/postgres';
import { demoSchema } from 'trpc-offline-sync/demo';
import { createSyncAppRouter } from 'trpc-offline-sync/trpc';

const secret = 'pack-test-secret-0123456789abcdef';
const schemaName = `pack_test_${process.pid}`;
const pool = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL });
await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schemaName}`);
const store = postgresStore(pool, { schema: schemaName });
await store.init();
const engine = createSyncEngine({ store, schema: demoSchema });
const server = createSyncHttpServer({
  engine,
  router: createSyncAppRouter(engine),
  authenticate: jwtAuthenticator({ secret }),
});
const { port } = await server.listen(0, '127.0.0.1');
const token = await signDevToken(secret, { sub: 'pack', tenant: 'pack', expiresIn: 600 });
console.log(`listening http://127.0.0.1:${port} ${token}`);
process.once('SIGTERM', () => {
  void (async () => {
    await server.close();
    await store.close();
    await pool.query(`DROP SCHEMA ${schemaName} CASCADE`);
    await pool.end();
  })();
});
