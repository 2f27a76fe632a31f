/** Shared fixtures of the store-conformance suite: the test schema, engines, scopes, assertions. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import { z } from 'zod';
import { SyncError, type SyncErrorCode } from '../../shared/errors.js';
import { defineSyncSchema } from '../../shared/schema.js';
import type { Actor, FullDoc } from '../../shared/protocol.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import type { SyncEngine, SyncEngineOptions } from '../../server/engine/types.js';
import type { Store } from '../../server/stores/store.js';

/** How a store's test file plugs into the suite. */
export interface ConformanceOptions {
  name: string;
  /** A fresh, init()-ed, empty store; the suite closes it. */
  newStore: () => Promise<Store>;
  /** When set, the whole suite is skipped and this reason is printed. */
  skip?: string;
  /** For durable stores: close `store` and open the same data again. */
  reopen?: (store: Store) => Promise<Store>;
}

export const testSchema = defineSyncSchema({
  tasks: z.object({
    title: z.string(),
    done: z.boolean().default(false),
    priority: z.number().int().optional(),
    tags: z.array(z.string()).optional(),
  }),
  notes: z.object({ body: z.string() }),
  items: z.object({
    a: z.number().optional(),
    b: z.string().optional(),
    c: z.boolean().optional(),
  }),
});
export type TestSchema = typeof testSchema;

/** A new scope (tenant) per test keeps tests independent on one shared store. */
export function newActor(prefix = 'scope'): Actor {
  const scopeId = `${prefix}-${randomBytes(4).toString('hex')}`;
  return { userId: `user-${scopeId}`, scopeId };
}

export function makeEngine(
  store: Store,
  options: Partial<SyncEngineOptions<TestSchema>> = {},
): SyncEngine<TestSchema> {
  return createSyncEngine<TestSchema>({
    store,
    schema: testSchema,
    retention: { pruneIntervalMs: 0 },
    ...options,
  });
}

/** One store per test file (stores are slow to boot); tests use their own scopes. */
export function useStore(options: ConformanceOptions): {
  store: () => Store;
  engine: () => SyncEngine<TestSchema>;
  setStore: (s: Store) => void;
} {
  let store: Store | null = null;
  let engine: SyncEngine<TestSchema> | null = null;
  beforeAll(async () => {
    store = await options.newStore();
    engine = makeEngine(store);
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await store?.close();
  }, 60_000);
  return {
    store: () => store!,
    engine: () => engine!,
    setStore: (s) => {
      store = s;
      engine = makeEngine(s);
    },
  };
}

/** Asserts that `promise` rejects with a SyncError of `code`; returns it. */
export async function expectSyncError(
  promise: Promise<unknown>,
  code: SyncErrorCode,
): Promise<SyncError> {
  try {
    await promise;
  } catch (error) {
    if (!SyncError.is(error)) throw error;
    expect(error.code, error.message).toBe(code);
    return error;
  }
  throw new Error(`expected a ${code} SyncError, but the call succeeded`);
}

/** Reads a whole full export (all pages). */
export async function fullExport(
  engine: SyncEngine,
  actor: Actor,
  limit = 1000,
): Promise<{ docs: FullDoc[]; checkpoint: string }> {
  const docs: FullDoc[] = [];
  let cursor: string | null = null;
  let checkpoint: string;
  do {
    const page = await engine.full(actor, { cursor, limit });
    docs.push(...page.docs);
    cursor = page.cursor;
    checkpoint = page.checkpoint;
  } while (cursor);
  return { docs, checkpoint };
}

/** Pulls from `since` until `hasMore` is false. */
export async function pullAll(
  engine: SyncEngine,
  actor: Actor,
  since: string | null = null,
  limit?: number,
) {
  const changes = [];
  let checkpoint = since;
  let pages = 0;
  for (;;) {
    const page = await engine.pull(actor, { since: checkpoint, limit });
    changes.push(...page.changes);
    checkpoint = page.checkpoint;
    pages++;
    if (!page.hasMore) return { changes, checkpoint, pages };
  }
}

let mutation = 0;
/** A fresh, increasing mutation id (per process; each test uses its own client ids anyway). */
export const nextMutationId = () => ++mutation;
