/** Typed collections: local reads and optimistic writes of one collection's documents. */
import type { z } from 'zod';
import type { PatchOf, SyncSchema } from '../shared/schema.js';
import type { Emitter } from './emitter.js';
import type { ChangeEvent, SyncClientEvents } from './events.js';
import type { DocData } from './local-store.js';
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

/** A query filter: field values to match exactly (JSON equality), or a predicate. */
export type Filter<T> = Partial<T> | ((doc: T, id: string) => boolean);

/**
 * One collection of the schema. Every method works offline against the local store; writes are
 * applied at once and queued in the outbox for the next push.
 *
 * @example
 * const tasks = client.collection('tasks');
 * await tasks.put('t1', { title: 'Buy milk' });
 * await tasks.patch('t1', { done: true });
 * const open = await tasks.query({ done: false });
 * const off = tasks.subscribe(({ ids }) => render(ids));
 */
export interface SyncCollection<TDoc, TInput = TDoc> {
  readonly name: string;
  /** Creates or replaces a whole document (validated against the schema; defaults applied). */
  put(id: string, doc: TInput): Promise<void>;
  /** Changes some fields (JSON merge patch: `null` removes an optional field). The document must exist locally. */
  patch(id: string, patch: PatchOf<TInput>): Promise<void>;
  /** Deletes a document (a tombstone is pushed). */
  delete(id: string): Promise<void>;
  /** The document as the app sees it (pending local changes included), or `undefined`. */
  get(id: string): Promise<TDoc | undefined>;
  /** Every live document matching `filter`, sorted by id. */
  query(filter?: Filter<TDoc>): Promise<Row<TDoc>[]>;
  /** Calls `listener` whenever documents of this collection change locally (app writes or synced server changes). */
  subscribe(listener: (event: ChangeEvent) => void): () => void;
}

/** The typed collection `K` of schema `S`. */
export type CollectionOf<S extends SyncSchema, K extends keyof S['collections']> = SyncCollection<z.output<S['collections'][K]>, z.input<S['collections'][K]>>;

function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function matches<T>(filter: Filter<T> | undefined, doc: T, id: string): boolean {
  if (filter === undefined) return true;
  if (typeof filter === 'function') return filter(doc, id);
  return Object.entries(filter as Record<string, unknown>).every(([field, value]) => jsonEqual((doc as Record<string, unknown>)[field], value));
}

/** Builds the collection object (called by `SyncClient.collection`). */
export function createCollection<TDoc, TInput>(name: string, replica: Replica, events: Emitter<SyncClientEvents>, ready: Promise<unknown>): SyncCollection<TDoc, TInput> {
  return {
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
    async get(id) {
      await ready;
      const doc = await replica.store.getDoc(name, id);
      return (doc?.data ?? undefined) as TDoc | undefined;
    },
    async query(filter) {
      await ready;
      const [docs, outbox] = await Promise.all([replica.store.listDocs(name), replica.store.listOutbox({ collection: name })]);
      const pending = new Set(outbox.map((e) => e.id));
      return docs
        .filter((d) => d.data !== null && matches(filter, d.data as TDoc, d.id))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((d) => ({ id: d.id, doc: d.data as TDoc, version: d.version, pending: pending.has(d.id) }));
    },
    subscribe(listener) {
      return events.on('change', (event) => {
        if (event.collection === name) listener(event);
      });
    },
  };
}
