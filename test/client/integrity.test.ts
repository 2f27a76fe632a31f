/**
 * Integrity checksums with targeted repair (issue 16): rows of a client's SQLite and IndexedDB
 * store edited and deleted behind its back, a change a client missed through a simulated bug, and a
 * document changed in the server's database behind the engine — each found and repaired (only the
 * drifted collection, the outbox untouched). Real server on 127.0.0.1 over PGlite and PostgreSQL.
 */
import 'fake-indexeddb/auto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import pg from 'pg';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSyncClient,
  memoryLocalStore,
  type LocalStore,
  type SyncClient,
} from '../../client/index.js';
import { betterSqlite3Driver, sqliteLocalStore } from '../../client/sqlite/index.js';
import { indexedDbLocalStore } from '../../client/indexeddb/index.js';
import { keyValueLocalStore } from '../../client/key-value/index.js';
import type { IntegrityEvent } from '../../client/integrity.js';
import type { SyncApi } from '../../client/api.js';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { createAppRouter, type AppRouter } from '../../server/demo/app-router.js';
import { demoSchema } from '../../server/demo/schema.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import { createSyncHttpServer } from '../../server/http/server.js';
import { pgliteStore, postgresStore } from '../../server/stores/postgres/index.js';
import type { Store } from '../../server/stores/store.js';

const SECRET = 'integrity-test-secret-integrity-test-secret';

/** A server store plus a way to run SQL on its documents table behind the engine. */
interface ServerCase {
  name: string;
  create: () => Promise<{
    store: Store;
    sql: (text: string, params: unknown[]) => Promise<unknown>;
    docs: string;
    drop?: () => Promise<void>;
  }>;
}
const cases: ServerCase[] = [
  {
    name: 'pglite',
    create: async () => {
      const store = await pgliteStore();
      return { store, sql: (text, params) => store.raw.query(text, params), docs: 'sync_docs' };
    },
  },
];
if (process.env.TEST_DATABASE_URL) {
  cases.push({
    name: 'postgres',
    create: async () => {
      const pool = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 5 });
      const schema = `integ_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
      const store = postgresStore(pool, { schema, closeClient: false });
      return {
        store,
        sql: (text, params) => pool.query(text, params),
        docs: `"${schema}"."sync_docs"`,
        drop: async () => {
          await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
          await pool.end();
        },
      };
    },
  });
}

describe.each(cases)('integrity checksums on $name', ({ create }) => {
  const dir = mkdtempSync(join(tmpdir(), 'sync-integrity-'));
  const idb = new IDBFactory();
  let server: Awaited<ReturnType<ServerCase['create']>>;
  let engine: ReturnType<typeof createSyncEngine<typeof demoSchema>>;
  let http: ReturnType<typeof createSyncHttpServer>;
  let url = '';
  const open: SyncClient<typeof demoSchema>[] = [];
  let tenantNo = 0;

  beforeAll(async () => {
    server = await create();
    await server.store.init();
    engine = createSyncEngine({
      store: server.store,
      schema: demoSchema,
      retention: { pruneIntervalMs: 0 },
    });
    http = createSyncHttpServer({
      engine,
      authenticate: jwtAuthenticator({ secret: SECRET }),
      router: createAppRouter(engine),
    });
    ({ url } = await http.listen(0, '127.0.0.1'));
  });
  afterAll(async () => {
    for (const client of open) await client.close().catch(() => undefined);
    await http?.close();
    await engine?.close();
    await server?.store.close();
    await server?.drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh tenant per test, so each starts from an empty scope. */
  const tenant = () => `integrity-${++tenantNo}-${Math.random().toString(36).slice(2, 6)}`;
  const trpcFor = async (scope: string) => {
    const token = await signDevToken(SECRET, { sub: 'nurse', tenant: scope, expiresIn: '1h' });
    return createTRPCClient<AppRouter>({
      links: [
        httpBatchLink({
          url: `${url}/trpc`,
          transformer: superjson,
          headers: { authorization: `Bearer ${token}` },
        }),
      ],
    });
  };
  const device = async (
    scope: string,
    store: LocalStore,
    wrap: (api: SyncApi) => SyncApi = (a) => a,
    auditIntervalMs = 0,
  ) => {
    const client = createSyncClient({
      api: wrap((await trpcFor(scope)).sync as unknown as SyncApi),
      schema: demoSchema,
      store,
      retry: { retries: 2, baseMs: 10, maxMs: 50 },
      ping: false,
      integrity: { auditIntervalMs, minRepairIntervalMs: 0 },
    });
    open.push(client);
    return client;
  };
  const events = (client: SyncClient<typeof demoSchema>) => {
    const seen: IntegrityEvent[] = [];
    client.on('integrity', (e) => seen.push(e));
    return seen;
  };
  /** The server's live documents of a collection, by id. */
  const serverDocs = async (scope: string, collection: 'tasks' | 'notes') => {
    const page = await (
      await trpcFor(scope)
    ).sync.full.query({ collections: [collection], limit: 1000 });
    return new Map(page.docs.filter((d) => !d.deleted).map((d) => [d.id, d.data]));
  };
  /** The client's documents of a collection as the app sees them, by id. */
  const localDocs = async (store: LocalStore, collection: string) =>
    new Map(
      (await store.listDocs(collection, { limit: 1000 }))
        .filter((d) => d.data !== null)
        .map((d) => [d.id, d.data]),
    );
  /** Three tasks and two notes on the server, synced to `client`. */
  const seed = async (client: SyncClient<typeof demoSchema>) => {
    const tasks = client.collection('tasks');
    await tasks.put('t1', { title: 'Buy milk', done: false });
    await tasks.put('t2', { title: 'Call the lab', done: true });
    await tasks.put('t3', { title: 'Order gloves', done: false, tags: ['ward-3'] });
    await client.collection('notes').put('n1', { body: 'Night shift notes' });
    await client.collection('notes').put('n2', { body: 'Fridge is broken' });
    await client.sync();
    expect(await client.pending()).toBe(0);
  };

  it('SQLite: a row edited and a row deleted behind the client are found on the next sync() and only that collection is repaired', async () => {
    const scope = tenant();
    const db = new Database(join(dir, `${scope}.db`));
    const client = await device(scope, sqliteLocalStore(betterSqlite3Driver(db)));
    const seen = events(client);
    await seed(client);
    expect(seen).toEqual([]);
    const before = await client.diagnostics();
    expect(before.integrity).toMatchObject({ mismatches: 0, repairs: 0 });
    expect(before.integrity!.checks).toBeGreaterThan(0);

    // Behind its back: content changed with the version untouched, and a row gone.
    db.prepare(
      `UPDATE sync_docs SET server = json_set(server, '$.title', 'tampered'), data = json_set(data, '$.title', 'tampered') WHERE collection = 'tasks' AND id = 't1'`,
    ).run();
    db.prepare(`DELETE FROM sync_docs WHERE collection = 'tasks' AND id = 't2'`).run();
    const notesVersions = db
      .prepare(`SELECT id, version, mark FROM sync_docs WHERE collection = 'notes' ORDER BY id`)
      .all();

    const result = await client.sync();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ collection: 'tasks', repaired: 2 });
    expect(seen[0]!.expected).not.toBe(seen[0]!.actual);
    expect(result.pulled).toBe(2);
    expect(await localDocs(client.store, 'tasks')).toEqual(await serverDocs(scope, 'tasks'));
    // Only the drifted collection was rebuilt: the other's rows were not rewritten.
    expect(
      db
        .prepare(`SELECT id, version, mark FROM sync_docs WHERE collection = 'notes' ORDER BY id`)
        .all(),
    ).toEqual(notesVersions);
    expect((await client.diagnostics()).integrity).toMatchObject({ mismatches: 1, repairs: 1 });

    // The next sync agrees: nothing more to repair; nor after a full resync (sums kept page by page).
    await client.sync();
    await client.resync();
    await client.sync();
    expect(seen).toHaveLength(1);
    expect((await client.diagnostics()).integrity).toMatchObject({ mismatches: 1, repairs: 1 });
  });

  it('SQLite: a pending local change survives a repair (outbox untouched, still pushed once)', async () => {
    const scope = tenant();
    const db = new Database(join(dir, `${scope}.db`));
    const client = await device(scope, sqliteLocalStore(betterSqlite3Driver(db)));
    const seen = events(client);
    await seed(client);
    await client.collection('notes').patch('n1', { body: 'written offline' });
    const outbox = await client.store.listOutbox();
    db.prepare(`DELETE FROM sync_docs WHERE collection = 'tasks' AND id = 't3'`).run();

    // pull(): checks and repairs without pushing; the notes change stays in the outbox as it was.
    await client.pull();
    expect(seen).toMatchObject([{ collection: 'tasks', repaired: 1 }]);
    expect(await client.store.listOutbox()).toEqual(outbox);
    expect((await client.collection('notes').get('n1'))?.body).toBe('written offline');
    expect(await localDocs(client.store, 'tasks')).toEqual(await serverDocs(scope, 'tasks'));

    await client.sync();
    expect(await client.pending()).toBe(0);
    expect((await serverDocs(scope, 'notes')).get('n1')).toEqual({ body: 'written offline' });
    expect(seen).toHaveLength(1);
  });

  it('IndexedDB: a record edited and a record deleted behind the client are found on the next sync() and repaired', async () => {
    const scope = tenant();
    const name = `integrity-${scope}`;
    const client = await device(scope, indexedDbLocalStore(name, { indexedDB: idb, IDBKeyRange }));
    const seen = events(client);
    await seed(client);

    // Behind its back, through the raw IndexedDB API (a second connection to the same database).
    const raw = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = idb.open(name);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = raw.transaction('docs', 'readwrite');
      const docs = tx.objectStore('docs');
      const get = docs.get(['tasks', 't2']);
      get.onsuccess = () => {
        const record = get.result as {
          doc: { server: Record<string, unknown>; data: Record<string, unknown> };
        };
        record.doc.server = { ...record.doc.server, done: false, title: 'edited in devtools' };
        record.doc.data = { ...record.doc.server };
        docs.put(record, ['tasks', 't2']);
        docs.delete(['notes', 'n2']);
      };
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    raw.close();

    await client.sync();
    expect(seen.map((e) => [e.collection, e.repaired]).sort()).toEqual([
      ['notes', 1],
      ['tasks', 1],
    ]);
    expect(await localDocs(client.store, 'tasks')).toEqual(await serverDocs(scope, 'tasks'));
    expect(await localDocs(client.store, 'notes')).toEqual(await serverDocs(scope, 'notes'));
    expect((await client.diagnostics()).integrity).toMatchObject({ mismatches: 2, repairs: 2 });
  });

  it('key-value store (AsyncStorage-like): the stored content of a document edited behind the client is found on the next sync() and repaired', async () => {
    const scope = tenant();
    const map = new Map<string, string>();
    const kv = {
      getItem: async (k: string) => map.get(k) ?? null,
      setItem: async (k: string, v: string) => void map.set(k, v),
      removeItem: async (k: string) => void map.delete(k),
    };
    const client = await device(scope, keyValueLocalStore(kv));
    const seen = events(client);
    await seed(client);
    const key = [...map.keys()].find((k) => k.endsWith(':tasks:t3'))!;
    const stored = JSON.parse(map.get(key)!) as {
      server: Record<string, unknown>;
      data: Record<string, unknown>;
    };
    map.set(
      key,
      JSON.stringify({
        ...stored,
        server: { ...stored.server, title: 'edited in storage' },
        data: { ...stored.data, title: 'edited in storage' },
      }),
    );
    expect((await client.collection('tasks').get('t3'))?.title).toBe('edited in storage');

    await client.sync();
    expect(seen).toMatchObject([{ collection: 'tasks', repaired: 1 }]);
    expect((await client.collection('tasks').get('t3'))?.title).toBe('Order gloves');
    expect(await localDocs(client.store, 'tasks')).toEqual(await serverDocs(scope, 'tasks'));
  });

  it.each([
    {
      kind: 'SQLite',
      open: (name: string): LocalStore =>
        sqliteLocalStore(betterSqlite3Driver(new Database(join(dir, `${name}-reader.db`)))),
    },
    { kind: 'memory', open: (): LocalStore => memoryLocalStore() },
  ])(
    '$kind: a change the client missed (a pull page that dropped it) is found by the O(1) check and repaired',
    async ({ open: openReader }) => {
      const scope = tenant();
      const writer = await device(
        scope,
        sqliteLocalStore(betterSqlite3Driver(new Database(join(dir, `${scope}-writer.db`)))),
      );
      await seed(writer);
      let drop = false;
      let dropped = 0;
      // A simulated bug: the api loses one change of a pull page while `drop` is set.
      const buggy = (api: SyncApi): SyncApi => ({
        push: api.push,
        full: api.full,
        stream: api.stream,
        pull: {
          async query(input, opts) {
            const page = await api.pull.query(input, opts);
            if (!drop || page.changes.length === 0) return page;
            drop = false;
            dropped++;
            return { ...page, changes: page.changes.filter((c) => c.id !== 't2') };
          },
        },
      });
      // Audits only at the first sync: after it, the kept sum alone must find the drift.
      const reader = await device(scope, openReader(scope), buggy, 3_600_000);
      const seen = events(reader);
      await reader.sync();
      expect(seen).toEqual([]);
      const audits = (await reader.diagnostics()).integrity!.audits;
      await writer.collection('tasks').patch('t2', { title: 'Call the lab again' });
      await writer.collection('tasks').put('t4', { title: 'New task' });
      await writer.sync();

      drop = true;
      await reader.sync();
      expect(dropped).toBe(1);
      expect(seen).toMatchObject([{ collection: 'tasks', repaired: 1 }]);
      expect(await localDocs(reader.store, 'tasks')).toEqual(await serverDocs(scope, 'tasks'));
      expect((await reader.collection('tasks').get('t2'))?.title).toBe('Call the lab again');
      expect((await reader.diagnostics()).integrity).toMatchObject({
        audits,
        mismatches: 1,
        repairs: 1,
      });
    },
  );

  it('live mode: a change a stream event lost is found at the next heartbeat and repaired as a network step', async () => {
    const scope = tenant();
    const writer = await device(
      scope,
      sqliteLocalStore(betterSqlite3Driver(new Database(join(dir, `${scope}-writer.db`)))),
    );
    await seed(writer);
    // A second engine on the same store whose streams beat every 50 ms, reached in process.
    const live = createSyncEngine({
      store: server.store,
      schema: demoSchema,
      retention: { pruneIntervalMs: 0 },
      stream: { heartbeatMs: 50 },
    });
    const actor = { userId: 'nurse', scopeId: scope };
    let dropped = 0;
    const buggyStream = (api: SyncApi): SyncApi => ({
      push: api.push,
      pull: api.pull,
      full: api.full,
      stream: {
        subscribe(input, observer) {
          const abort = new AbortController();
          void (async () => {
            try {
              for await (const event of live.stream(actor, input, abort.signal)) {
                // The simulated bug: one live event loses its change of t2.
                if (
                  event.type === 'changes' &&
                  dropped === 0 &&
                  event.changes.some((c) => c.id === 't2')
                ) {
                  dropped++;
                  const changes = event.changes.filter((c) => c.id !== 't2');
                  if (changes.length === 0) continue;
                  observer.onData?.({ id: event.checkpoint, data: { ...event, changes } });
                  continue;
                }
                observer.onData?.({
                  id: 'checkpoint' in event && event.checkpoint ? event.checkpoint : '',
                  data: event,
                });
              }
              observer.onComplete?.();
            } catch (error) {
              if (!abort.signal.aborted) observer.onError?.(error);
            }
          })();
          return { unsubscribe: () => abort.abort() };
        },
      },
    });
    const reader = await device(
      scope,
      sqliteLocalStore(betterSqlite3Driver(new Database(join(dir, `${scope}-reader.db`)))),
      buggyStream,
      3_600_000,
    );
    const repaired = new Promise<IntegrityEvent>((resolve) => reader.on('integrity', resolve));
    try {
      await reader.start();
      await writer.collection('tasks').patch('t2', { title: 'Call the lab at noon' });
      await writer.sync();
      const event = await repaired;
      expect(dropped).toBe(1);
      expect(event).toMatchObject({ collection: 'tasks', repaired: 1 });
      expect((await reader.collection('tasks').get('t2'))?.title).toBe('Call the lab at noon');
      // Heartbeats that came before the repair began may each have found it: one repair all the same.
      const counters = (await reader.diagnostics()).integrity!;
      expect(counters).toMatchObject({ audits: 0, repairs: 1 });
      expect(counters.mismatches).toBeGreaterThanOrEqual(1);
    } finally {
      await reader.stop();
      await live.close();
    }
  });

  it('a document changed in the server database behind the engine is found by verifyChecksums; after a reset clients repair to it', async () => {
    const scope = tenant();
    const client = await device(
      scope,
      sqliteLocalStore(betterSqlite3Driver(new Database(join(dir, `${scope}.db`)))),
    );
    const seen = events(client);
    await seed(client);
    const clean = await engine.verifyChecksums(scope);
    expect(clean).toMatchObject({ scope, mismatches: 0, reset: false });
    expect(clean.collections.map((c) => [c.collection, c.docs, c.ok])).toEqual([
      ['notes', 2, true],
      ['tasks', 3, true],
    ]);

    await server.sql(
      `UPDATE ${server.docs} SET data = jsonb_set(data, '{title}', '"fixed by a DBA"') WHERE scope = $1 AND collection = 'tasks' AND id = 't1'`,
      [scope],
    );
    const found = await engine.verifyChecksums(scope);
    expect(found.mismatches).toBe(1);
    expect(found.collections.find((c) => !c.ok)).toMatchObject({ collection: 'tasks', docs: 3 });
    // Found, not yet reset: clients still agree with the kept sums.
    await client.sync();
    expect(seen).toEqual([]);

    const reset = await engine.verifyChecksums(scope, { reset: true });
    expect(reset).toMatchObject({ mismatches: 1, reset: true });
    expect(await engine.verifyChecksums(scope)).toMatchObject({ mismatches: 0 });
    await client.sync();
    expect(seen).toMatchObject([{ collection: 'tasks', repaired: 1 }]);
    expect((await client.collection('tasks').get('t1'))?.title).toBe('fixed by a DBA');
  });
});
