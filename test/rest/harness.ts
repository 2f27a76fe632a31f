/** Test fixtures for the REST face: stores to run on, and a real HTTP + WebSocket server on 127.0.0.1. */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { z } from 'zod';
import { defineSyncSchema, type SyncSchema } from '../../shared/schema.js';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import type { SyncEngine, SyncEngineOptions } from '../../server/engine/types.js';
import { pgliteStore, postgresStore } from '../../server/stores/postgres/index.js';
import type { Store } from '../../server/stores/store.js';
import {
  createRestHandler,
  createRestWebSocketServer,
  toNodeHandler,
  type RestHandlerOptions,
} from '../../server/rest/index.js';

/** The collections every REST test syncs. */
export const schema = defineSyncSchema({
  tasks: z.object({ title: z.string(), done: z.boolean().default(false) }),
  notes: z.object({ body: z.string() }),
});

export const SECRET = 'rest-test-secret-0123456789abcdef0123';

/** A store the suites run on; `create` gives a fresh, initialised store. */
export interface StoreCase {
  name: string;
  create: () => Promise<Store>;
}

const MEMORY_MODULE = '../../server/stores/memory.js';

/**
 * memory (when the module exists), PGlite, and PostgreSQL when TEST_DATABASE_URL is set (fresh schema per store).
 * `TEST_STORES=memory,pglite` keeps only the named ones (e.g. `npm run mutation` runs on memory only).
 */
export async function storeCases(): Promise<StoreCase[]> {
  const only = process.env.TEST_STORES?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const all = await allStoreCases();
  return only?.length ? all.filter((c) => only.includes(c.name)) : all;
}

/** Every store this checkout and environment can run. */
async function allStoreCases(): Promise<StoreCase[]> {
  const cases: StoreCase[] = [];
  try {
    const mod = (await import(/* @vite-ignore */ MEMORY_MODULE)) as { memoryStore: () => Store };
    cases.push({ name: 'memory', create: async () => ready(mod.memoryStore()) });
  } catch {
    // memory store not available in this checkout
  }
  cases.push({ name: 'pglite', create: async () => ready(await pgliteStore()) });
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    cases.push({
      name: 'postgres',
      create: async () => {
        const store = throwawayPostgresStore(url, 'rest');
        await store.init();
        return store;
      },
    });
  }
  return cases;
}

async function ready(store: Store): Promise<Store> {
  await store.init();
  return store;
}

/** A running server: its base URL, engine and a token factory; `close()` stops everything. */
export interface TestServer {
  base: string;
  port: number;
  engine: SyncEngine;
  token: (sub: string, tenant?: string) => Promise<string>;
  close: () => Promise<void>;
  [Symbol.asyncDispose]: () => Promise<void>;
}

/** Starts the REST handler and the WebSocket face on one Node server at 127.0.0.1:0. */
export async function startServer(
  store: Store,
  options: { engine?: Partial<SyncEngineOptions>; rest?: Partial<RestHandlerOptions> } = {},
): Promise<TestServer> {
  const engine = createSyncEngine({
    ...options.engine,
    store,
    schema: schema as unknown as SyncSchema,
  }) as SyncEngine;
  const authenticate = jwtAuthenticator({ secret: SECRET });
  const handler = createRestHandler({ engine, authenticate, ...options.rest });
  const ws = createRestWebSocketServer({ engine, authenticate });
  const server = http.createServer(toNodeHandler(handler));
  server.on('upgrade', (req, socket, head) => {
    if (!ws.handleUpgrade(req, socket, head)) socket.destroy();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const close = async () => {
    await ws.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await engine.close();
    await store.close();
  };
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    engine,
    token: (sub, tenant) => signDevToken(SECRET, { sub, tenant, expiresIn: '1h' }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A push body for tasks. */
export function taskChanges(start: number, count: number, prefix = 't') {
  return Array.from({ length: count }, (_, i) => ({
    mutationId: start + i,
    collection: 'tasks',
    id: `${prefix}${start + i}`,
    op: 'upsert' as const,
    data: { title: `task ${start + i}`, done: false },
    baseVersion: null,
  }));
}

/** A PostgreSQL store in a schema of its own; closing it drops the schema and ends its pool. */
export function throwawayPostgresStore(
  url: string,
  prefix: string,
): ReturnType<typeof postgresStore> {
  const pool = new pg.Pool({ connectionString: url, max: 5 });
  const schemaName = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const store = postgresStore(pool, { schema: schemaName });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await pool.query(`DROP SCHEMA IF EXISTS ${schemaName} CASCADE`).catch(() => undefined);
    await pool.end();
  };
  return store;
}

/** JSON request helper. */
export async function api(
  base: string,
  path: string,
  init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'),
    headers,
    body:
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : JSON.stringify(init.body),
  });
  return readAnswer(res);
}

/** A response's status, headers, text and (when the text parses) JSON. */
export async function readAnswer(
  res: Response,
): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
