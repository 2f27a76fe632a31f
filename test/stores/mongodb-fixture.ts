// Shared by the MONGODB_URI-gated MongoDB test files: one client per file, a fresh database per store, dropped at the end.
import { randomBytes } from 'node:crypto';
import { MongoClient, type MongoClientOptions } from 'mongodb';
import { afterAll } from 'vitest';
import { mongoStore, type MongoStore } from '../../server/stores/mongodb/index.js';
import type { MongoStoreOptions } from '../../server/stores/mongodb/options.js';
import type { StoredDoc } from '../../server/stores/store.js';

/** The replica set (or sharded cluster) the gated suites run against. */
export const uri = process.env.MONGODB_URI;

/** Why a gated suite is skipped, or `undefined` when it runs; printed once per file. */
export function skipReason(what: string): string | undefined {
  if (uri) return undefined;
  console.log(`skipped: MONGODB_URI not set (${what}: every test listed as skipped)`);
  return 'MONGODB_URI not set';
}

const clients: MongoClient[] = [];
const databases: Array<{ client: MongoClient; name: string }> = [];

/** A connected client of its own (closed after the file). */
export async function newClient(
  options?: MongoClientOptions,
  at: string = uri!,
): Promise<MongoClient> {
  const client = new MongoClient(at, options);
  await client.connect();
  clients.push(client);
  return client;
}

let shared: Promise<MongoClient> | null = null;

/** A fresh database name on `client` (dropped after the file). */
export function freshDb(client: MongoClient): string {
  const name = `tos_test_${randomBytes(6).toString('hex')}`;
  databases.push({ client, name });
  return name;
}

/** An init()-ed store on a fresh database of the shared client (or of `client`). */
export async function newStore(
  options?: MongoStoreOptions,
  client?: MongoClient,
): Promise<MongoStore> {
  const c = client ?? (await (shared ??= newClient()));
  const store = mongoStore(c.db(freshDb(c)), options);
  await store.init();
  return store;
}

afterAll(async () => {
  for (const { client, name } of databases)
    await client
      .db(name)
      .dropDatabase()
      .catch(() => undefined);
  for (const c of clients) await c.close();
}, 60_000);

const VERSION = '20260502T120000.000Z-0000-test';

/** A stored document as the engine would write it. */
export function doc(
  scope: string,
  id: string,
  seq: number,
  data: Record<string, unknown>,
  version = VERSION,
): StoredDoc {
  return {
    scope,
    collection: 'tasks',
    id,
    data,
    fields: Object.fromEntries(Object.keys(data).map((k) => [k, version])),
    version,
    seq,
    deleted: false,
    actor: 'user-1',
  };
}

/** Commits one document the way the engine does: read, doc, oplog entry, head. */
export async function commitOne(
  store: MongoStore,
  scope: string,
  id: string,
  data: Record<string, unknown>,
  at = new Date(),
): Promise<number> {
  return store.transaction(scope, async (tx) => {
    await tx.getDocs([{ collection: 'tasks', id }]);
    const seq = tx.head.seq + 1;
    const d = doc(scope, id, seq, data);
    await tx.putDocs([d]);
    await tx.appendOplog([
      {
        scope,
        seq,
        idx: 0,
        collection: 'tasks',
        id,
        op: 'upsert',
        data,
        version: d.version,
        actor: d.actor,
        clientId: null,
        mutationId: null,
        at,
      },
    ]);
    await tx.setHead(seq);
    return seq;
  });
}
