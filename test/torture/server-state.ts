/** What the server holds after a run: its oplog read from PostgreSQL directly, and its `full` export through tRPC. */
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import pg from 'pg';
import superjson from 'superjson';
import type { AppRouter } from '../../server/demo/app-router.js';
import type { SeenDoc } from './history.js';

/** One oplog entry: the post-image of one applied change and who sent it. */
export interface OplogRow {
  seq: number;
  idx: number;
  c: string;
  id: string;
  op: 'upsert' | 'delete';
  d: Record<string, unknown> | null;
  v: string;
  clientId: string | null;
  m: number | null;
}

/** Every oplog entry of `scope`, in commit order (`sync_oplog`, the default table prefix). */
export async function readOplog(databaseUrl: string, scope: string): Promise<OplogRow[]> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{
      seq: string;
      idx: number;
      collection: string;
      id: string;
      op: 'upsert' | 'delete';
      data: Record<string, unknown> | null;
      version: string;
      client_id: string | null;
      mutation_id: string | null;
    }>(
      'SELECT seq, idx, collection, id, op, data, version, client_id, mutation_id FROM sync_oplog WHERE scope = $1 ORDER BY seq, idx',
      [scope],
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      idx: r.idx,
      c: r.collection,
      id: r.id,
      op: r.op,
      d: r.op === 'delete' ? null : r.data,
      v: r.version,
      clientId: r.client_id,
      m: r.mutation_id === null ? null : Number(r.mutation_id),
    }));
  } finally {
    await c.end();
  }
}

/**
 * The server's ledger (`sync_mutation_batches`): each recorded mutation's first outcome, and the
 * version it was answered with, keyed `clientId#mutationId`.
 */
export async function readLedger(
  databaseUrl: string,
  scope: string,
): Promise<{ outcomes: Map<string, string>; versions: Map<string, string> }> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{
      client_id: string;
      results: Record<string, { status: string; version?: string }>;
    }>('SELECT client_id, results FROM sync_mutation_batches WHERE scope = $1', [scope]);
    const outcomes = new Map<string, string>();
    const versions = new Map<string, string>();
    for (const r of rows)
      for (const [m, outcome] of Object.entries(r.results)) {
        outcomes.set(`${r.client_id}#${m}`, outcome.status);
        if (outcome.version) versions.set(`${r.client_id}#${m}`, outcome.version);
      }
    return { outcomes, versions };
  } finally {
    await c.end();
  }
}

/** A view as a client names it: a rule and its params. */
export interface ViewName {
  rule: string;
  params?: Record<string, unknown>;
}

/**
 * The live documents of the server's `full` export (every page), asked of `base` directly (not
 * through a proxy); with `view`, the documents of that view (the server's own query of its rule).
 */
export async function readFull(
  base: string,
  token: string,
  view?: ViewName,
): Promise<{ docs: SeenDoc[]; checkpoint: string }> {
  const trpc = createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${base}/trpc`,
        transformer: superjson,
        headers: { authorization: `Bearer ${token}` },
      }),
    ],
  });
  const docs: SeenDoc[] = [];
  let cursor: string | null = null;
  let checkpoint: string;
  for (let page = 0; page < 10_000; page++) {
    const answer: {
      docs: { collection: string; id: string; data: unknown; version: string; deleted: boolean }[];
      cursor: string | null;
      checkpoint: string;
    } = await trpc.sync.full.query(
      // The torture server's rules are not the demo router's: the view is typed loosely here.
      (view || cursor
        ? { ...(cursor ? { cursor } : {}), ...(view ? { view } : {}) }
        : undefined) as never,
    );
    checkpoint = answer.checkpoint;
    for (const d of answer.docs)
      if (!d.deleted)
        docs.push({
          c: d.collection,
          id: d.id,
          v: d.version,
          d: d.data as Record<string, unknown>,
        });
    if (!answer.cursor) return { docs, checkpoint };
    cursor = answer.cursor;
  }
  throw new Error('readFull: more than 10,000 pages');
}
