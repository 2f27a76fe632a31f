// The StoreTx of the SQL store: reads are one statement each; writes are queued and sent as one statement.
import type {
  ClientLedger,
  DocKey,
  MutationRecord,
  OplogEntry,
  ScopeHead,
  StoredDoc,
  StoreTx,
  RecordedOutcome,
} from '../store.js';
import { addSum, checksumHex } from '../../../shared/checksum.js';
import type { Queryable, Row } from './executor.js';
import { DOC_COLUMNS, docFromRow, num } from './rows.js';
import type { Tables } from './schema-sql.js';

const docKey = (key: DocKey) => `${key.collection}\u0000${key.id}`;

/** What a transaction needs besides its connection. */
export interface TxContext {
  q: Queryable;
  t: Tables;
  scope: string;
  head: ScopeHead;
  /** NOTIFY channel, or null where nobody else listens (PGlite). */
  notifyChannel: string | null;
  /**
   * Last mutation ids already known to be current under this transaction's scope lock (from the
   * store's cache, valid only when no other transaction committed on the scope in between).
   * The transaction adds what it reads and records; the store caches it again after COMMIT.
   */
  lastIds: Map<string, ClientLedger>;
}

/** One transaction on one scope; every statement names `scope = $1`. */
export class SqlTx implements StoreTx {
  readonly head: ScopeHead;
  /** The seq given to setHead, if it was called (announced after commit). */
  committedSeq: number | null = null;
  readonly #c: TxContext;
  /**
   * Writes not sent yet, each one data-modifying CTE with its own `$n` numbering. They go out
   * together, as one statement, before the next read and before COMMIT: a push's four writes
   * (documents, oplog, head, outcomes) cost one round-trip instead of four.
   */
  /** Keys getDocs found missing and nothing has written since (see putDocs). */
  readonly #absent = new Set<string>();
  #queued: Array<{ table: string; cte: string; params: unknown[]; notify?: string }> = [];
  /** Checksums computed by `addChecksums`, written by the next `setHead` (or flush). */
  #sums: Record<string, { sum: string; seq: number }> | null = null;

  /** Last mutation ids read or recorded in this transaction (cached by the store after COMMIT). */
  get lastIds(): ReadonlyMap<string, ClientLedger> {
    return this.#c.lastIds;
  }

  constructor(context: TxContext) {
    this.#c = context;
    this.head = context.head;
  }

  /** A read inside this transaction: queued writes first, so it sees them. */
  async query<R extends Row = Row>(sql: string, params?: unknown[]): Promise<R[]> {
    await this.flush();
    return this.#c.q.query<R>(sql, params);
  }

  /** Sends the queued writes as one statement (called before every read and before COMMIT). */
  async flush(): Promise<void> {
    if (this.#sums) {
      // Checksums set without a new head (a reset): written on their own.
      const sums = this.#sums;
      this.#sums = null;
      await this.#queue(`${this.#c.t.scopes} sums`, {
        cte: `UPDATE ${this.#c.t.scopes} SET checksums = checksums || $2::jsonb WHERE scope = $1 RETURNING scope`,
        params: [this.#c.scope, JSON.stringify(sums)],
      });
    }
    if (this.#queued.length === 0) return;
    const queued = this.#queued;
    this.#queued = [];
    const params: unknown[] = [];
    const ctes: string[] = [];
    let select = 'SELECT 1';
    queued.forEach((write, i) => {
      const offset = params.length;
      params.push(...write.params);
      ctes.push(
        `w${i} AS (${write.cte.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)})`,
      );
      // Unreferenced data-modifying CTEs still run; the NOTIFY must be in the main query.
      if (write.notify !== undefined)
        select = `SELECT pg_notify($${params.push(write.notify)}, w${i}.scope || ' ' || w${i}.seq) FROM w${i}`;
    });
    await this.#c.q.query(`WITH ${ctes.join(',\n')}\n${select}`, params);
  }

  async getDocs(keys: DocKey[]): Promise<StoredDoc[]> {
    if (keys.length === 0) return [];
    const { t, scope } = this.#c;
    const rows = await this.query(
      // One primary-key lookup per key: LATERAL ... LIMIT 1 keeps the planner from scanning the
      // whole scope when its statistics are stale (a plain join did, after bulk loads).
      `SELECT d.* FROM unnest($2::text[], $3::text[]) AS k(collection, id)
       CROSS JOIN LATERAL (
         SELECT ${DOC_COLUMNS} FROM ${t.docs} x
         WHERE x.scope = $1 AND x.collection = k.collection AND x.id = k.id LIMIT 1
       ) d`,
      [scope, keys.map((k) => k.collection), keys.map((k) => k.id)],
    );
    const found = rows.map((row) => docFromRow(scope, row));
    for (const key of keys) this.#absent.add(docKey(key));
    for (const doc of found) this.#absent.delete(docKey(doc));
    return found;
  }

  async putDocs(docs: StoredDoc[]): Promise<void> {
    if (docs.length === 0) return;
    const { t, scope } = this.#c;
    // ON CONFLICT cannot touch one row twice in a statement: keep the last write per key.
    const byKey = new Map<string, StoredDoc>();
    for (const doc of docs) {
      this.#sameScope(doc.scope);
      byKey.set(docKey(doc), doc);
    }
    // Keys getDocs found missing cannot have appeared since: every writer of the scope holds its
    // lock. Those rows take a plain INSERT, cheaper than ON CONFLICT's speculative insertion.
    const fresh: StoredDoc[] = [];
    const rest: StoredDoc[] = [];
    for (const [key, doc] of byKey) {
      if (this.#absent.delete(key)) fresh.push(doc);
      else rest.push(doc);
    }
    // Rows go as one jsonb parameter (an array of objects) read with jsonb_array_elements: cheaper
    // than one text[] per column (pg escapes every array element) and than json_to_recordset
    // (which parses nested values again); `e->'d'` hands the nested jsonb over as is. A null
    // document is sent as a missing key, which `->` reads as SQL NULL (a JSON null would be 'null').
    const insert = `INSERT INTO ${t.docs} (scope, collection, id, data, fields, version, seq, deleted, actor, updated_at)
       SELECT $1, e->>'c', e->>'i', e->'d', e->'f', e->>'v', (e->>'s')::bigint, (e->>'x')::boolean, e->>'a', now()
       FROM jsonb_array_elements($2::jsonb) AS e`;
    const param = (docs: StoredDoc[]) =>
      JSON.stringify(
        docs.map((d) => ({
          c: d.collection,
          i: d.id,
          d: d.data ?? undefined,
          f: d.fields ?? {},
          v: d.version,
          s: d.seq,
          x: d.deleted,
          a: d.actor,
        })),
      );
    // Two writes to one table in one statement are fine here: they touch different rows.
    if (fresh.length > 0)
      await this.#queue(`${t.docs} new`, { cte: insert, params: [scope, param(fresh)] });
    if (rest.length > 0) {
      await this.#queue(t.docs, {
        cte: `${insert}
       ON CONFLICT (scope, collection, id) DO UPDATE SET
         data = EXCLUDED.data, fields = EXCLUDED.fields, version = EXCLUDED.version, seq = EXCLUDED.seq,
         deleted = EXCLUDED.deleted, actor = EXCLUDED.actor, updated_at = EXCLUDED.updated_at`,
        params: [scope, param(rest)],
      });
    }
  }

  async appendOplog(entries: OplogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const { t, scope } = this.#c;
    for (const entry of entries) this.#sameScope(entry.scope);
    await this.#queue(t.oplog, {
      cte: `INSERT INTO ${t.oplog} (scope, seq, idx, collection, id, op, data, before, version, actor, client_id, mutation_id, at)
       SELECT $1, (e->>'s')::bigint, (e->>'n')::integer, e->>'c', e->>'i', e->>'o', e->'d', e->'b', e->>'v', e->>'a',
         e->>'cl', (e->>'m')::bigint, (e->>'t')::timestamptz
       FROM jsonb_array_elements($2::jsonb) AS e`,
      params: [
        scope,
        JSON.stringify(
          entries.map((e) => ({
            s: e.seq,
            n: e.idx,
            c: e.collection,
            i: e.id,
            o: e.op,
            d: e.data ?? undefined,
            // Absent: no pre-image (SQL NULL); null: stored as JSON null.
            b: e.before,
            v: e.version,
            a: e.actor,
            cl: e.clientId,
            m: e.mutationId,
            t: e.at.toISOString(),
          })),
        ),
      ],
    });
  }

  async setHead(seq: number): Promise<void> {
    const { t, scope, notifyChannel } = this.#c;
    // The checksums a push computed go in the same statement (one row, one write).
    const sums = this.#sums;
    this.#sums = null;
    // NOTIFY inside the transaction: PostgreSQL delivers it on COMMIT and drops it on ROLLBACK,
    // so other processes only ever hear of committed seqs.
    await this.#queue(t.scopes, {
      cte: `UPDATE ${t.scopes} SET seq = $2::bigint${sums ? ', checksums = checksums || $3::jsonb' : ''} WHERE scope = $1 RETURNING scope, seq`,
      params: sums ? [scope, String(seq), JSON.stringify(sums)] : [scope, String(seq)],
      ...(notifyChannel === null ? {} : { notify: notifyChannel }),
    });
    this.committedSeq = seq;
  }

  async clientLedger(clientId: string): Promise<ClientLedger> {
    const { t, scope, lastIds } = this.#c;
    const known = lastIds.get(clientId);
    if (known !== undefined) return { ...known };
    const rows = await this.query(
      `SELECT last_mutation_id, owner FROM ${t.clients} WHERE scope = $1 AND client_id = $2`,
      [scope, clientId],
    );
    const ledger: ClientLedger = rows.length
      ? {
          lastMutationId: num(rows[0]!.last_mutation_id),
          owner: (rows[0]!.owner as string | null) ?? null,
        }
      : { lastMutationId: 0, owner: null };
    lastIds.set(clientId, ledger);
    return { ...ledger };
  }

  async getResults(clientId: string, mutationIds: number[]): Promise<Map<number, RecordedOutcome>> {
    const out = new Map<number, RecordedOutcome>();
    if (mutationIds.length === 0) return out;
    const { t, scope } = this.#c;
    // The pushes whose id ranges can hold the ids; oldest first, so a later outcome of the same
    // id (recorded again) wins, as with one row per mutation.
    const rows = await this.query(
      `SELECT results FROM ${t.mutationBatches}
       WHERE scope = $1 AND client_id = $2 AND last_mid >= $3::bigint AND first_mid <= $4::bigint
       ORDER BY at, last_mid`,
      [scope, clientId, String(Math.min(...mutationIds)), String(Math.max(...mutationIds))],
    );
    for (const row of rows) {
      const results = row.results as Record<string, RecordedOutcome>;
      for (const id of mutationIds) {
        const result = results[String(id)];
        if (result !== undefined) out.set(id, result);
      }
    }
    return out;
  }

  async recordResults(
    clientId: string,
    lastMutationId: number,
    records: MutationRecord[],
    at: Date,
    owner: string,
  ): Promise<void> {
    const { t, scope, lastIds } = this.#c;
    lastIds.set(clientId, { lastMutationId, owner });
    await this.#queue(t.clients, {
      cte: `INSERT INTO ${t.clients} (scope, client_id, last_mutation_id, owner) VALUES ($1, $2, $3::bigint, $4)
       ON CONFLICT (scope, client_id) DO UPDATE SET last_mutation_id = EXCLUDED.last_mutation_id, owner = EXCLUDED.owner`,
      params: [scope, clientId, String(lastMutationId), owner],
    });
    if (records.length === 0) return;
    // One ledger row for the whole call (one per push), not one per mutation.
    const results: Record<string, RecordedOutcome> = {};
    let first = Infinity;
    let last = -Infinity;
    for (const record of records) {
      results[String(record.mutationId)] = record.result;
      first = Math.min(first, record.mutationId);
      last = Math.max(last, record.mutationId);
    }
    await this.#queue(t.mutationBatches, {
      // Same last id recorded again: merge, the newer outcomes winning (jsonb `||`).
      cte: `INSERT INTO ${t.mutationBatches} AS b (scope, client_id, first_mid, last_mid, results, at)
       VALUES ($1, $2, $3::bigint, $4::bigint, $5::jsonb, $6::timestamptz)
       ON CONFLICT (scope, client_id, last_mid) DO UPDATE SET
         first_mid = LEAST(b.first_mid, EXCLUDED.first_mid), results = b.results || EXCLUDED.results, at = EXCLUDED.at`,
      params: [
        scope,
        clientId,
        String(first),
        String(last),
        JSON.stringify(results),
        at.toISOString(),
      ],
    });
  }

  /**
   * Computes the new sums from the ones the scope lock returned (`head.checksums`, current under
   * the lock) and writes them with `setHead`'s statement when it follows (a push calls this first),
   * else on their own at the next flush (`verifyChecksums` resetting them).
   */
  async addChecksums(deltas: ReadonlyMap<string, bigint>, seq: number): Promise<void> {
    if (deltas.size === 0) return;
    const kept = new Map((this.head.checksums ?? []).map((c) => [c.collection, c.sum]));
    this.#sums ??= {};
    for (const [collection, delta] of deltas) {
      const current = this.#sums[collection]
        ? BigInt(`0x${this.#sums[collection]!.sum}`)
        : (kept.get(collection) ?? 0n);
      this.#sums[collection] = { sum: checksumHex(addSum(current, delta)), seq };
    }
  }

  /**
   * Queues a write. One statement must not change a row twice (ON CONFLICT refuses it), so a
   * second write to a table already queued sends the queue first.
   */
  async #queue(
    table: string,
    write: { cte: string; params: unknown[]; notify?: string },
  ): Promise<void> {
    if (this.#queued.some((w) => w.table === table)) await this.flush();
    this.#queued.push({ table, ...write });
  }

  #sameScope(scope: string): void {
    // A record of another scope here is a bug above the store; refuse rather than cross scopes.
    if (scope !== this.#c.scope) {
      throw new Error(
        `postgres store: record of scope "${scope}" written in a transaction on "${this.#c.scope}"`,
      );
    }
  }
}
