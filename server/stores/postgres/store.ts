// The SQL Store: one implementation for PostgreSQL (through a pg Pool) and PGlite (embedded).
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { PgClient } from './driver-types.js';
import { addSum, checksumHex, docHash } from '../../../shared/checksum.js';
import type {
  ClientLedger,
  CollectionChecksum,
  DocKey,
  DocMatch,
  IndexSpec,
  OplogEntry,
  OplogStats,
  ReadOplogOptions,
  ScanDocsOptions,
  ScopeHead,
  Store,
  StoreEvent,
  StoredDoc,
  StoreTx,
} from '../store.js';
import { WRITER_FIELD } from '../store.js';
import { CommitEvents } from './events.js';
import type { Executor, Queryable } from './executor.js';
import { ListenFeed } from './listen.js';
import type { ResolvedOptions } from './options.js';
import { withRetry } from './retry.js';
import { DOC_COLUMNS, OPLOG_COLUMNS, docFromRow, num, oplogFromRow } from './rows.js';
import {
  SCHEMA_VERSION,
  createStatements,
  ruleIndexStatement,
  tables,
  type Tables,
} from './schema-sql.js';
import { SqlTx } from './tx.js';

/** Bounds of the last-mutation-id cache (scopes, and clients per scope). */
const MAX_CACHED_SCOPES = 10_000;
const MAX_CACHED_CLIENTS = 64;

/** Makes the dedicated LISTEN connection (PostgreSQL only). */
export type ListenClientFactory = () => PgClient | Promise<PgClient>;

/** A fresh epoch: 10 characters of [a-z0-9], the alphabet checkpoints accept. */
function newEpoch(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(10)].map((b) => alphabet[b % alphabet.length]).join('');
}

/**
 * Brings tables of an older layout to this one, inside init()'s transaction (the tables of the
 * current layout already exist: createStatements made them).
 */
async function migrate(q: Queryable, t: Tables, from: number): Promise<void> {
  if (from < 2) {
    await q.query(
      `ALTER TABLE ${t.scopes} ADD COLUMN IF NOT EXISTS writes bigint NOT NULL DEFAULT 0`,
    );
    // Version 1 kept one sync_mutations row per mutation; copy its outcomes into one-mutation
    // batches so retries of earlier pushes are still answered. The old table is left in place
    // (no longer read or pruned; drop it once the upgrade is settled).
    const [old] = await q.query<{ name: string | null }>('SELECT to_regclass($1)::text AS name', [
      t.legacyMutations,
    ]);
    if (old?.name) {
      await q.query(
        `INSERT INTO ${t.mutationBatches} (scope, client_id, first_mid, last_mid, results, at)
         SELECT scope, client_id, mutation_id, mutation_id, jsonb_build_object(mutation_id::text, result), at
         FROM ${t.legacyMutations}
         ON CONFLICT (scope, client_id, last_mid) DO NOTHING`,
      );
    }
  }
  if (from < 3) {
    // Version 3 keeps the user a client id's ledger belongs to (recorded at the next push of
    // each client: ledgers written before it have none and are claimed by their next pusher).
    await q.query(`ALTER TABLE ${t.clients} ADD COLUMN IF NOT EXISTS owner text`);
  }
  if (from < 4) await backfillChecksums(q, t);
  // Version 5 keeps each oplog entry's pre-image for collections with read rules (NULL before it).
  if (from < 5) await q.query(`ALTER TABLE ${t.oplog} ADD COLUMN IF NOT EXISTS before jsonb`);
  await q.query(`UPDATE ${t.meta} SET value = $1 WHERE key = 'schema_version'`, [
    String(SCHEMA_VERSION),
  ]);
}

/**
 * Version 4 keeps integrity checksums on the scope row: computes them once from the documents
 * already stored (a keyset scan, bounded memory), each stamped with its scope's current seq.
 */
async function backfillChecksums(q: Queryable, t: Tables): Promise<void> {
  await q.query(
    `ALTER TABLE ${t.scopes} ADD COLUMN IF NOT EXISTS checksums jsonb NOT NULL DEFAULT '{}'`,
  );
  const sums = new Map<string, Map<string, bigint>>();
  let after: [string, string, string] = ['', '', ''];
  for (;;) {
    const rows = await q.query(
      `SELECT scope, collection, id, data, version FROM ${t.docs}
       WHERE NOT deleted AND (scope, collection, id) > ($1, $2, $3) ORDER BY scope, collection, id LIMIT 1000`,
      after,
    );
    for (const row of rows) {
      let scope = sums.get(row.scope as string);
      if (!scope) sums.set(row.scope as string, (scope = new Map()));
      const collection = row.collection as string;
      scope.set(
        collection,
        addSum(
          scope.get(collection) ?? 0n,
          docHash(
            row.id as string,
            row.version as string,
            (row.data ?? {}) as Record<string, unknown>,
          ),
        ),
      );
    }
    if (rows.length < 1000) break;
    const last = rows.at(-1)!;
    after = [last.scope as string, last.collection as string, last.id as string];
  }
  for (const [scope, collections] of sums) {
    const kept = Object.fromEntries(
      [...collections].map(([c, sum]) => [c, { sum: checksumHex(sum), seq: 0 }]),
    );
    // Stamped with the scope's seq, in the statement that reads it.
    await q.query(
      `UPDATE ${t.scopes} SET checksums = (SELECT jsonb_object_agg(k, jsonb_set(v, '{seq}', to_jsonb(seq))) FROM jsonb_each($2::jsonb) AS e(k, v)) WHERE scope = $1`,
      [scope, JSON.stringify(kept)],
    );
  }
}

/** The kept checksums of a scope row's `checksums` column (all, or these collections). */
export function checksumsOf(
  column: unknown,
  collections?: readonly string[],
): CollectionChecksum[] {
  const kept = (column ?? {}) as Record<string, { sum: string; seq: number | string }>;
  return (collections ?? Object.keys(kept)).flatMap((collection) => {
    const row = kept[collection];
    return row ? [{ collection, sum: BigInt(`0x${row.sum}`), seq: num(row.seq) }] : [];
  });
}

/**
 * SQL for `ScanDocsOptions.match` (params appended to `params`): each field's JSON value is one of
 * the wanted ones, `null` also matching a missing field. Reads the `ruleIndexStatement` indexes.
 */
function matchSql(match: readonly DocMatch[], params: unknown[], column = 'data'): string {
  if (match.length === 0) return 'false';
  const alternatives = match
    .map((m) => {
      const parts = Object.entries(m).map(([field, values]) => {
        if (field === WRITER_FIELD) {
          // The last writer, from the actor column (indexed by ensureIndexes); never null.
          const writers = values.filter((v): v is string => typeof v === 'string');
          return writers.length === 0 ? 'false' : `actor = ANY($${params.push(writers)}::text[])`;
        }
        if (!/^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(field))
          throw new Error(`sql store: "${field}" is not a plain field name`);
        const expr = `${column}->'${field}'`;
        const wanted = values.filter((v) => v !== null).map((v) => JSON.stringify(v));
        const alts: string[] = [];
        if (wanted.length === 1) alts.push(`${expr} = $${params.push(wanted[0])}::jsonb`);
        else if (wanted.length > 1)
          alts.push(`${expr} = ANY($${params.push(wanted)}::text[]::jsonb[])`);
        if (values.includes(null)) alts.push(`${expr} IS NULL`, `${expr} = 'null'::jsonb`);
        return alts.length === 0 ? 'false' : `(${alts.join(' OR ')})`;
      });
      return parts.length === 0 ? 'true' : `(${parts.join(' AND ')})`;
    })
    .join(' OR ');
  return `(${alternatives})`;
}

/** The SQL store; build it with `postgresStore()` or `pgliteStore()`. */
export class SqlStore<Raw> implements Store {
  readonly kind: 'pglite' | 'postgres';
  /** The pool or PGlite instance given to the factory, for the app's own queries. */
  readonly raw: Raw;
  readonly #exec: Executor;
  readonly #options: ResolvedOptions;
  readonly #t: Tables;
  readonly #events = new CommitEvents();
  readonly #feed: ListenFeed | null;
  /** The transaction open in this async context, if any: store reads made inside it run on it. */
  readonly #active = new AsyncLocalStorage<SqlTx>();
  #epoch: string | null = null;
  #closed = false;
  /**
   * Per scope, the clients' last mutation ids as committed by the transaction that left the
   * scope's `writes` counter at `writes`. A transaction whose lock statement returns
   * `writes + 1` knows nobody else committed on the scope since (every writer of sync_clients
   * takes that lock and bumps the counter), so `lastMutationId` answers from here without a
   * round trip; any other value means another process (or store) wrote, and it reads as usual.
   */
  readonly #lastIds = new Map<
    string,
    { writes: number; clients: ReadonlyMap<string, ClientLedger> }
  >();

  constructor(
    raw: Raw,
    exec: Executor,
    options: ResolvedOptions,
    listenClient: ListenClientFactory | null,
  ) {
    this.raw = raw;
    this.kind = exec.kind;
    this.#exec = exec;
    this.#options = options;
    this.#t = tables({ schema: options.schema, prefix: options.tablePrefix });
    this.#feed = listenClient
      ? new ListenFeed(listenClient, options.notifyChannel, {
          notify: (scope, seq) => this.#events.notified(scope, seq),
          reset: () => this.#events.reset(),
        })
      : null;
  }

  async init(): Promise<void> {
    const naming = { schema: this.#options.schema, prefix: this.#options.tablePrefix };
    const t = this.#t;
    this.#epoch = await this.#retry(() =>
      this.#exec.transaction(async (q) => {
        // Two processes starting at once would race on CREATE ... IF NOT EXISTS: take turns.
        await q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
          `trpc-offline-sync:init:${t.meta}`,
        ]);
        for (const statement of createStatements(naming, this.#options.collections))
          await q.query(statement);
        await q.query(
          `INSERT INTO ${t.meta} (key, value) VALUES ('epoch', $1), ('schema_version', $2) ON CONFLICT (key) DO NOTHING`,
          [newEpoch(), String(SCHEMA_VERSION)],
        );
        const rows = await q.query<{ key: string; value: string }>(
          `SELECT key, value FROM ${t.meta}`,
        );
        const meta = new Map(rows.map((r) => [r.key, r.value]));
        const version = Number(meta.get('schema_version'));
        if (version > SCHEMA_VERSION) {
          throw new Error(
            `postgres store: the tables have schema version ${version}, newer than this package's ${SCHEMA_VERSION}; upgrade trpc-offline-sync`,
          );
        }
        if (version < SCHEMA_VERSION) await migrate(q, t, version);
        return meta.get('epoch')!;
      }),
    );
  }

  epoch(): string {
    if (this.#epoch === null) throw new Error('postgres store: call init() before epoch()');
    return this.#epoch;
  }

  async transaction<T>(scope: string, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.#assertOpen();
    return this.#retry(async () => {
      // Taking the scope row's lock first serializes the scope's writers, across processes: the
      // seq read here is the latest committed one, so seq order is commit order. (ON CONFLICT DO
      // UPDATE creates the row if missing and locks it; on PostgreSQL it travels with BEGIN.)
      // `writes` counts the transactions that took the lock and committed (a rollback undoes its
      // increment): see #lastIds.
      const lock = {
        sql: `INSERT INTO ${this.#t.scopes} AS s (scope, seq, horizon) VALUES ($1, 0, 0)
         ON CONFLICT (scope) DO UPDATE SET writes = s.writes + 1 RETURNING seq, horizon, writes, checksums`,
        params: [scope],
      };
      let tx: SqlTx | null = null;
      let writes = -1;
      // Expect the commit's echo only while LISTEN runs; otherwise announce it directly.
      let echo = false;
      try {
        const result = await this.#exec.transaction(async (q, rows) => {
          // `rows`: the scope lock's answer (the transaction's opening statement, below).
          // The kept checksums come with the lock (read under it): a push moves them without another read.
          const head: ScopeHead = {
            seq: num(rows[0]!.seq),
            horizon: num(rows[0]!.horizon),
            checksums: checksumsOf(rows[0]!.checksums),
          };
          writes = num(rows[0]!.writes);
          const cached = this.#lastIds.get(scope);
          tx = new SqlTx({
            q,
            t: this.#t,
            scope,
            head,
            notifyChannel: this.kind === 'postgres' ? this.#options.notifyChannel : null,
            // Valid only when the previous writer of the scope was the transaction that cached it.
            lastIds:
              cached !== undefined && cached.writes === writes - 1
                ? new Map(cached.clients)
                : new Map(),
          });
          const value = await this.#active.run(tx, () => fn(tx!));
          await tx.flush();
          const seq = tx.committedSeq;
          echo = seq !== null && this.#feed !== null && this.#feed.listening;
          if (echo) this.#events.expectEcho(scope, seq!);
          return value;
        }, lock);
        const seq = (tx as SqlTx | null)?.committedSeq ?? null;
        if (seq !== null) this.#events.committed(scope, seq, echo);
        this.#cacheLastIds(scope, writes, (tx as SqlTx | null)?.lastIds);
        return result;
      } catch (error) {
        const seq = (tx as SqlTx | null)?.committedSeq ?? null;
        if (echo && seq !== null) this.#events.forget(scope, seq);
        throw error;
      }
    });
  }

  async head(scope: string, options?: { checksums?: readonly string[] }): Promise<ScopeHead> {
    // With checksums: the same row, so the same snapshot as `seq`.
    const rows = await this.#read(
      `SELECT seq, horizon${options?.checksums ? ', checksums' : ''} FROM ${this.#t.scopes} WHERE scope = $1`,
      [scope],
    );
    const head: ScopeHead = rows.length
      ? { seq: num(rows[0]!.seq), horizon: num(rows[0]!.horizon) }
      : { seq: 0, horizon: 0 };
    if (options?.checksums) head.checksums = checksumsOf(rows[0]?.checksums, options.checksums);
    return head;
  }

  async readOplog(scope: string, options: ReadOplogOptions): Promise<OplogEntry[]> {
    const params: unknown[] = [scope, String(options.afterSeq)];
    let where = 'scope = $1 AND seq > $2::bigint';
    if (options.uptoSeq !== undefined)
      where += ` AND seq <= $${params.push(String(options.uptoSeq))}::bigint`;
    if (options.collections)
      where += ` AND collection = ANY($${params.push([...options.collections])}::text[])`;
    if (options.match && options.match.size > 0) {
      // Entries of a filtered collection: only those a view can show (matching before or after, or without a pre-image).
      const filtered = [...options.match].map(([collection, match]) => {
        const c = `$${params.push(collection)}::text`;
        const own =
          options.keepWriter === undefined
            ? ''
            : ` OR actor = $${params.push(options.keepWriter)}::text`;
        return `(collection = ${c} AND (before IS NULL${own} OR ${matchSql(match, params, 'data')} OR ${matchSql(match, params, 'before')}))`;
      });
      where += ` AND (collection <> ALL($${params.push([...options.match.keys()])}::text[]) OR ${filtered.join(' OR ')})`;
    }
    const limit = options.limit !== undefined ? ` LIMIT $${params.push(options.limit)}` : '';
    const rows = await this.#read(
      `SELECT ${OPLOG_COLUMNS} FROM ${this.#t.oplog} WHERE ${where} ORDER BY seq, idx${limit}`,
      params,
    );
    return rows.map((row) => oplogFromRow(scope, row));
  }

  async findVersion(
    scope: string,
    key: DocKey,
    version: string,
  ): Promise<Record<string, unknown> | null | undefined> {
    const rows = await this.#read(
      `SELECT data FROM ${this.#t.oplog} WHERE scope = $1 AND collection = $2 AND id = $3 AND version = $4
       ORDER BY seq DESC, idx DESC LIMIT 1`,
      [scope, key.collection, key.id, version],
    );
    return rows.length ? ((rows[0]!.data ?? null) as Record<string, unknown> | null) : undefined;
  }

  async scanDocs(scope: string, options: ScanDocsOptions): Promise<StoredDoc[]> {
    const params: unknown[] = [scope];
    let where = 'scope = $1';
    if (options.collections)
      where += ` AND collection = ANY($${params.push([...options.collections])}::text[])`;
    if (options.match) where += ` AND NOT deleted AND (${matchSql(options.match, params)})`;
    if (options.after) {
      const a = params.push(options.after.collection);
      const b = params.push(options.after.id);
      where += ` AND (collection, id) > ($${a}::text, $${b}::text)`;
    }
    const rows = await this.#read(
      `SELECT ${DOC_COLUMNS} FROM ${this.#t.docs} WHERE ${where} ORDER BY collection, id LIMIT $${params.push(options.limit)}`,
      params,
    );
    return rows.map((row) => docFromRow(scope, row));
  }

  async ensureIndexes(specs: readonly IndexSpec[]): Promise<void> {
    this.#assertOpen();
    const naming = { schema: this.#options.schema, prefix: this.#options.tablePrefix };
    const fields = [...new Set(specs.flatMap((s) => s.fields))].sort();
    if (fields.length === 0) return;
    await this.#retry(() =>
      this.#exec.transaction(async (q) => {
        // The same lock as init(): two processes starting at once take turns.
        await q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
          `trpc-offline-sync:init:${this.#t.meta}`,
        ]);
        for (const field of fields) await q.query(ruleIndexStatement(naming, field));
      }),
    );
  }

  async checksums(scope: string, collections?: readonly string[]): Promise<CollectionChecksum[]> {
    const rows = await this.#read(`SELECT checksums FROM ${this.#t.scopes} WHERE scope = $1`, [
      scope,
    ]);
    return checksumsOf(rows[0]?.checksums, collections);
  }

  async prune(before: Date): Promise<{ removed: number }> {
    this.#assertOpen();
    const t = this.#t;
    return this.#retry(() =>
      this.#exec.transaction(async (q) => {
        // Horizon = highest pruned seq, so a pull from below it is told to resync (never a gap).
        const rows = await q.query(
          `WITH gone AS (DELETE FROM ${t.oplog} WHERE at < $1::timestamptz RETURNING scope, seq),
             per_scope AS (SELECT scope, max(seq) AS top, count(*) AS n FROM gone GROUP BY scope),
             moved AS (UPDATE ${t.scopes} s SET horizon = GREATEST(s.horizon, p.top)
               FROM per_scope p WHERE s.scope = p.scope RETURNING 1)
           SELECT coalesce(sum(n), 0) AS removed, (SELECT count(*) FROM moved) AS scopes FROM per_scope`,
          [before.toISOString()],
        );
        await q.query(`DELETE FROM ${t.mutationBatches} WHERE at < $1::timestamptz`, [
          before.toISOString(),
        ]);
        return { removed: num(rows[0]!.removed) };
      }),
    );
  }

  async oplogStats(): Promise<OplogStats> {
    const t = this.#t;
    // The planner's row count, scaled to the table's current size the way the planner does it.
    const [stats] = await this.#read(
      `SELECT c.reltuples::float8 AS tuples, c.relpages::float8 AS pages,
         pg_relation_size(c.oid)::float8 / current_setting('block_size')::float8 AS now_pages
       FROM pg_class c WHERE c.oid = to_regclass($1)`,
      [t.oplog],
    );
    const tuples = Number(stats?.tuples ?? -1);
    const pages = Number(stats?.pages ?? 0);
    // reltuples is -1 until the first ANALYZE (PostgreSQL 14+); then only an exact count knows.
    const estimate =
      tuples >= 0 && pages > 0 ? Math.round((tuples / pages) * Number(stats!.now_pages)) : null;
    const estimated = estimate !== null && tuples >= this.#options.exactCountLimit;
    // min/max(at) read the two ends of the (at) index; count(*) below the limit is an index-only scan at best.
    const [row] = await this.#read(
      `SELECT min(at) AS oldest, max(at) AS newest${estimated ? '' : ', count(*) AS n'} FROM ${t.oplog}`,
      [],
    );
    const entries = estimated ? estimate! : num(row!.n);
    if (tuples < 0 && entries > 0 && entries >= this.#options.exactCountLimit) {
      // A large table without statistics (PGlite has no autovacuum; PostgreSQL's has not run yet):
      // gather them once, so the next call estimates instead of counting again. ANALYZE samples
      // rows and does not block readers or writers; if it is not allowed, counting just goes on.
      await this.#read(`ANALYZE ${t.oplog}`, []).catch(() => undefined);
    }
    const date = (v: unknown) =>
      v === null || v === undefined ? null : new Date(v as string | Date);
    return { entries, estimated, oldestAt: date(row!.oldest), newestAt: date(row!.newest) };
  }

  onEvent(listener: (event: StoreEvent) => void): () => void {
    this.#events.add(listener);
    // LISTEN starts with the first listener: a store nobody tails holds no extra connection.
    if (this.#feed && !this.#closed) void this.#feed.start();
    return () => {
      this.#events.delete(listener);
      if (this.#events.size === 0) void this.#feed?.stop();
    };
  }

  /** Resolves once LISTEN is active (immediately on PGlite or without listeners); for tests and start-up. */
  async listening(): Promise<void> {
    if (this.#feed && this.#events.size > 0) await this.#feed.start();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#feed?.stop();
    if (this.#options.closeClient) await this.#exec.close();
  }

  /**
   * After a COMMIT: the scope's state as of `writes` — the last mutation ids this transaction
   * read or recorded (under the lock, so current), plus what the cache held if it was valid.
   */
  #cacheLastIds(
    scope: string,
    writes: number,
    lastIds: ReadonlyMap<string, ClientLedger> | undefined,
  ): void {
    if (!lastIds || lastIds.size === 0) return;
    const cached = this.#lastIds.get(scope);
    // A transaction of this process that committed later already cached a newer state.
    if (cached !== undefined && cached.writes >= writes) return;
    let clients = lastIds;
    if (clients.size > MAX_CACHED_CLIENTS)
      clients = new Map([...clients].slice(-MAX_CACHED_CLIENTS));
    this.#lastIds.delete(scope); // re-inserted last: the Map's order is least recently written first
    this.#lastIds.set(scope, { writes, clients });
    if (this.#lastIds.size > MAX_CACHED_SCOPES)
      this.#lastIds.delete(this.#lastIds.keys().next().value!);
  }

  #read(sql: string, params: unknown[]) {
    this.#assertOpen();
    // A read from inside a transaction (a resolver looking up a base version) runs on that
    // transaction: it sees its writes, PGlite's single session does not wait for itself, and a
    // full pg pool cannot deadlock on transactions each waiting for a second connection.
    const tx = this.#active.getStore();
    if (tx) return tx.query(sql, params);
    return this.#retry(() => this.#exec.query(sql, params));
  }

  #retry<T>(fn: () => Promise<T>): Promise<T> {
    return withRetry(this.#options.maxRetries, fn);
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('postgres store: closed');
  }
}
