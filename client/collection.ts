/** Typed collections: local reads and optimistic writes of one collection's documents. */
import type { z } from 'zod';
import type { PatchOf, SyncSchema } from '../shared/schema.js';
import type { Emitter } from './emitter.js';
import type { ChangeEvent, SyncClientEvents } from './events.js';
import type { DocData, DocQuery, LocalDoc } from './local-store.js';
import { checkQuery, docOrder, isScalarWhere } from './query.js';
import type { Replica } from './replica.js';

/** One document of a query answer. */
export interface Row<T> {
  id: string;
  doc: T;
  /** Version of the last server state seen (`null`: the server has not seen this document yet). */
  version: string | null;
  /** True while local changes to it wait in the outbox. */
  pending: boolean;
}

/**
 * A query filter: field values to match exactly, or a predicate. Scalar values (string, number,
 * boolean, `null` for missing) are answered by the local store (an index or SQL where it has
 * one); other values (arrays, objects) are compared as JSON, and a predicate sees every document,
 * page by page.
 */
export type Filter<T> = Partial<T> | ((doc: T, id: string) => boolean);

/** Order and window of a query answer. */
export interface QueryOptions<T> {
  /** Sort by this top-level field (then by id). @default by id */
  orderBy?: (keyof T & string) | { field: keyof T & string; direction?: 'asc' | 'desc' };
  /** At most this many rows. */
  limit?: number;
  /** Skip this many rows first. @default 0 */
  offset?: number;
  /**
   * Only documents this subscription's view holds (a `Subscription` from `client.subscribe`, or its
   * key). Without it, every document of the collection, whatever view brought it.
   */
  view?: { key: string } | string;
}

/**
 * One collection of the schema. Every method works offline against the local store; writes are
 * applied at once and queued in the outbox for the next push.
 *
 * @example
 * const tasks = client.collection('tasks');
 * await tasks.put('t1', { title: 'Buy milk' });
 * await tasks.putMany([{ id: 't2', doc: { title: 'Bread' } }, { id: 't3', doc: { title: 'Eggs' } }]);
 * await tasks.patch('t1', { done: true });
 * const open = await tasks.query({ done: false }, { orderBy: 'title', limit: 20 });
 * const off = tasks.onChange(({ ids }) => render(ids));
 */
export interface SyncCollection<TDoc, TInput = TDoc> {
  readonly name: string;
  /** Creates or replaces a whole document (validated against the schema; defaults applied). */
  put(id: string, doc: TInput): Promise<void>;
  /** Changes some fields (JSON merge patch: `null` removes an optional field). The document must exist locally. */
  patch(id: string, patch: PatchOf<TInput>): Promise<void>;
  /** Deletes a document (a tombstone is pushed). */
  delete(id: string): Promise<void>;
  /** Puts many documents: all validated first, then written as one local transaction with one outbox append. */
  putMany(rows: readonly { id: string; doc: TInput }[]): Promise<void>;
  /** Patches many documents, all or nothing (every one must exist locally). */
  patchMany(rows: readonly { id: string; patch: PatchOf<TInput> }[]): Promise<void>;
  /** Deletes many documents in one local transaction. */
  deleteMany(ids: readonly string[]): Promise<void>;
  /** The document as the app sees it (pending local changes included), or `undefined`. */
  get(id: string): Promise<TDoc | undefined>;
  /** Live documents matching `filter`, ordered by `options.orderBy` (then id), windowed by `limit` / `offset`. */
  query(filter?: Filter<TDoc>, options?: QueryOptions<TDoc>): Promise<Row<TDoc>[]>;
  /** How many live documents the collection holds (counted by the store, nothing loaded). */
  count(): Promise<number>;
  /**
   * Calls `listener` whenever documents of this collection change locally (app writes, synced server
   * changes, documents leaving a view); returns a function that stops listening.
   */
  onChange(listener: (event: ChangeEvent) => void): () => void;
  /**
   * @deprecated Renamed `onChange` (so it is not confused with `client.subscribe`, a synced view);
   * kept as an alias.
   */
  subscribe(listener: (event: ChangeEvent) => void): () => void;
}

/** The typed collection `K` of schema `S`. */
export type CollectionOf<S extends SyncSchema, K extends keyof S['collections']> = SyncCollection<
  z.output<S['collections'][K]>,
  z.input<S['collections'][K]>
>;

const PAGE = 500;

function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const toRow = <T>(d: LocalDoc): Row<T> => ({
  id: d.id,
  doc: d.data as T,
  version: d.version,
  pending: d.pending === true,
});

/** Builds the collection object (called by `SyncClient.collection`). */
export function createCollection<TDoc, TInput>(
  name: string,
  replica: Replica,
  events: Emitter<SyncClientEvents>,
  ready: Promise<unknown>,
): SyncCollection<TDoc, TInput> {
  const store = replica.store;

  /** Every live document passing `keep`, read page by page (only the hits are held). */
  async function scan(keep: (doc: LocalDoc) => boolean): Promise<LocalDoc[]> {
    const hits: LocalDoc[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.listDocs(name, { after, limit: PAGE });
      for (const d of page) if (d.data !== null && keep(d)) hits.push(d);
      if (page.length < PAGE) return hits;
      after = page[page.length - 1]!.id;
    }
  }

  /** A query narrowed to one view: the store answers the filter, the view and the window are applied here. */
  async function queryView(
    filter: Filter<TDoc> | undefined,
    options: QueryOptions<TDoc>,
  ): Promise<Row<TDoc>[]> {
    const key = typeof options.view === 'string' ? options.view : options.view!.key;
    const { view: _view, limit, offset = 0, ...rest } = options;
    const all = await collection.query(filter, rest);
    const held = new Set<string>();
    for (let i = 0; i < all.length; i += PAGE) {
      const ids = all.slice(i, i + PAGE).map((r) => r.id);
      (await store.getDocs(name, ids)).forEach(
        (d, j) => d?.views && key in d.views && held.add(ids[j]!),
      );
    }
    const rows = all.filter((r) => held.has(r.id));
    return rows.slice(offset, limit === undefined ? undefined : offset + limit);
  }

  const onChange = (listener: (event: ChangeEvent) => void): (() => void) =>
    events.on('change', (event) => {
      if (event.collection === name) listener(event);
    });

  const collection: SyncCollection<TDoc, TInput> = {
    name,
    async put(id, doc) {
      await ready;
      await replica.write({ collection: name, id, op: 'upsert', data: doc as DocData });
    },
    async patch(id, patch) {
      await ready;
      await replica.write({ collection: name, id, op: 'patch', data: patch as DocData });
    },
    async delete(id) {
      await ready;
      await replica.write({ collection: name, id, op: 'delete' });
    },
    async putMany(rows) {
      await ready;
      await replica.writeMany(
        rows.map((r) => ({
          collection: name,
          id: r.id,
          op: 'upsert' as const,
          data: r.doc as DocData,
        })),
      );
    },
    async patchMany(rows) {
      await ready;
      await replica.writeMany(
        rows.map((r) => ({
          collection: name,
          id: r.id,
          op: 'patch' as const,
          data: r.patch as DocData,
        })),
      );
    },
    async deleteMany(ids) {
      await ready;
      await replica.writeMany(ids.map((id) => ({ collection: name, id, op: 'delete' as const })));
    },
    async get(id) {
      await ready;
      const doc = await store.getDoc(name, id);
      return (doc?.data ?? undefined) as TDoc | undefined;
    },
    async query(filter, options = {}) {
      await ready;
      if (options.view !== undefined) return queryView(filter, options);
      const orderBy =
        typeof options.orderBy === 'string' ? { field: options.orderBy } : options.orderBy;
      const query: DocQuery = {
        ...(orderBy ? { orderBy } : {}),
        ...(options.limit !== undefined ? { limit: options.limit } : {}),
        ...(options.offset !== undefined ? { offset: options.offset } : {}),
      };
      if (filter === undefined || isScalarWhere(filter)) {
        const where = filter as DocQuery['where'];
        checkQuery({ ...query, ...(where ? { where } : {}) });
        return (await store.queryDocs(name, where ? { ...query, where } : query)).map((d) =>
          toRow<TDoc>(d),
        );
      }
      checkQuery(query);
      const keep =
        typeof filter === 'function'
          ? (d: LocalDoc) => filter(d.data as TDoc, d.id)
          : (d: LocalDoc) =>
              Object.entries(filter as Record<string, unknown>).every(([field, value]) =>
                jsonEqual(d.data![field], value),
              );
      const hits = (await scan(keep)).sort(docOrder(orderBy));
      const offset = query.offset ?? 0;
      return hits
        .slice(offset, query.limit === undefined ? undefined : offset + query.limit)
        .map((d) => toRow<TDoc>(d));
    },
    async count() {
      await ready;
      return store.countDocs(name);
    },
    onChange,
    subscribe: onChange,
  };
  return collection;
}
