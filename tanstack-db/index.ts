/**
 * `trpc-offline-sync/tanstack-db`: collection options for `@tanstack/db`'s `createCollection`,
 * backed by a collection of our sync client (local store, outbox and live sync underneath).
 */
import type { CollectionConfig, SyncConfig, UtilsRecord } from '@tanstack/db';
import type { z } from 'zod';
import type { SyncSchema } from '../shared/schema.js';
import type { ChangeEvent, RejectedChange, Subscription, SyncClient } from '../client/index.js';

/** A row of the TanStack collection: the document (after schema defaults) plus its `id`. */
export type SyncRow<S extends SyncSchema, K extends keyof S['collections']> = z.output<
  S['collections'][K]
> & { id: string };

/** Options of `syncCollectionOptions`. */
export interface SyncCollectionOptionsConfig<
  S extends SyncSchema,
  K extends keyof S['collections'] & string,
> {
  /** The sync client whose local store, outbox and sync back the collection. */
  client: SyncClient<S, any>;
  /**
   * Only the documents this subscription's view holds (from `client.subscribe`; its rule must be on
   * `collection`): rows arrive and leave with the view, and the collection is marked ready once the
   * view's first sync is local (it fails if the server refuses the view). @default every document
   */
  subscription?: Subscription;
  /** The schema collection to expose. */
  collection: K;
  /** TanStack collection id. @default `trpc-offline-sync:<collection>` */
  id?: string;
  /** TanStack garbage-collection time of the collection, in ms. @default TanStack's (5 minutes) */
  gcTime?: number;
  /** Start syncing from the local store at once, before the first subscriber. @default true */
  startSync?: boolean;
}

/** Extra functions on `collection.utils`. */
export interface SyncCollectionUtils extends UtilsRecord {
  /** Re-reads every live document of the local store into the collection (replacing its synced rows). */
  refresh(): Promise<void>;
  /** Resolves once every change event seen so far is written into the collection. */
  flush(): Promise<void>;
  /** Local changes the server refused (see `SyncClient.rejected()`), of this collection only. */
  rejected(): Promise<RejectedChange[]>;
}

/** What `syncCollectionOptions` returns: a config for `createCollection` keyed by `id`. */
export type SyncCollectionConfig<
  S extends SyncSchema,
  K extends keyof S['collections'] & string,
> = CollectionConfig<SyncRow<S, K>, string, never, SyncCollectionUtils> & {
  utils: SyncCollectionUtils;
};

type Data = Record<string, unknown>;

/** Fields TanStack DB adds to the rows it hands out (`$synced`, `$origin`, …); never part of a document. */
const VIRTUAL = new Set(['$hasPendingWrites', '$synced', '$origin', '$key', '$collectionId']);
const isDocField = (field: string) => field !== 'id' && !VIRTUAL.has(field);

/** The document of a row: every field but `id` and TanStack's virtual ones. */
function docOf(row: Data): Data {
  return Object.fromEntries(Object.entries(row).filter(([field]) => isDocField(field)));
}

/** A JSON merge patch turning `before` into `after` (changed fields, `null` for removed ones). */
function mergePatchOf(before: Data, after: Data): Data {
  const patch: Data = {};
  for (const [field, value] of Object.entries(after)) {
    if (
      isDocField(field) &&
      value !== undefined &&
      JSON.stringify(value) !== JSON.stringify(before[field])
    )
      patch[field] = value;
  }
  for (const field of Object.keys(before)) {
    if (
      isDocField(field) &&
      before[field] !== undefined &&
      (!(field in after) || after[field] === undefined)
    )
      patch[field] = null;
  }
  return patch;
}

/**
 * Options for `createCollection(...)` over the client collection `collection`: its rows come from
 * the local store (every live document at start), then follow every local and server change
 * (pulled, streamed, push answers, resyncs). `insert` / `update` / `delete` on the TanStack
 * collection are written through the client: validated by the schema (a refused write rejects
 * the transaction, so its optimistic state rolls back), applied to the local store and queued in
 * the outbox, pushed exactly once by the client's sync. A write the server resolves differently or
 * rejects comes back as a server change, so the collection ends at the server's document.
 *
 * @example
 * const tasks = createCollection(syncCollectionOptions({ client, collection: 'tasks' }));
 * await client.start();
 * const open = createLiveQueryCollection((q) => q.from({ t: tasks }).where(({ t }) => eq(t.done, false)));
 * tasks.insert({ id: 't1', title: 'Buy milk', done: false });
 */
export function syncCollectionOptions<
  S extends SyncSchema,
  K extends keyof S['collections'] & string,
>(config: SyncCollectionOptionsConfig<S, K>): SyncCollectionConfig<S, K> {
  type T = SyncRow<S, K>;
  const { client } = config;
  const name = config.collection;
  const source = client.collection(name);
  /** Writes changes into TanStack's synced state; set while sync runs. */
  let apply: ((ids: string[] | 'all') => Promise<void>) | undefined;
  /** Every change application, in order (one at a time, so reads and writes never interleave). */
  let queue: Promise<void> = Promise.resolve();

  function enqueue(ids: string[] | 'all'): Promise<void> {
    const run = queue.then(() => apply?.(ids));
    queue = run.catch(() => undefined);
    return run;
  }

  const view = config.subscription;
  /** The documents of `ids` the view holds (`undefined` for the others: they leave the collection). */
  async function viewDocs(ids: string[]): Promise<(readonly [string, unknown])[]> {
    const stored = await client.store.getDocs(name, ids);
    return ids.map((id, i) => {
      const doc = stored[i];
      return [
        id,
        doc && doc.data !== null && doc.views && view!.key in doc.views ? doc.data : undefined,
      ] as const;
    });
  }

  const sync: SyncConfig<T, string>['sync'] = ({
    begin,
    write,
    commit,
    markReady,
    markError,
    truncate,
  }) => {
    /** Keys present in TanStack's synced state (so a change is written as insert, update or delete). */
    const known = new Set<string>();
    let stopped = false;

    /** With a view: nothing is written before its first sync is local (TanStack marks a collection ready at its first commit). */
    let started = !view;
    apply = async (ids) => {
      if (stopped || !started) return;
      if (ids === 'all') {
        const rows = await source.query(undefined, view ? { view } : {});
        if (stopped) return;
        begin();
        truncate();
        known.clear();
        for (const row of rows) {
          write({ type: 'insert', value: { ...(row.doc as Data), id: row.id } as T });
          known.add(row.id);
        }
        commit();
        return;
      }
      const docs = view
        ? await viewDocs(ids)
        : await Promise.all(ids.map(async (id) => [id, await source.get(id)] as const));
      if (stopped) return;
      begin();
      for (const [id, doc] of docs) {
        if (doc === undefined) {
          if (known.delete(id)) write({ type: 'delete', key: id });
        } else {
          write({
            type: known.has(id) ? 'update' : 'insert',
            value: { ...(doc as Data), id } as T,
          });
          known.add(id);
        }
      }
      commit();
    };

    // Listen before the first read, so no change between the read and the subscription is lost.
    const offChange = source.onChange(
      (event: ChangeEvent) => void enqueue(event.ids).catch(() => undefined),
    );
    const offResync = client.on('resync', () => void enqueue('all').catch(() => undefined));
    // With a view: ready once its first sync is local (a refusal fails the collection).
    (view ? view.ready : Promise.resolve())
      .then(() => {
        started = true;
        return enqueue('all');
      })
      .then(
        () => markReady(),
        (error: unknown) => markError(error),
      );

    return () => {
      stopped = true;
      apply = undefined;
      offChange();
      offResync();
    };
  };

  const utils: SyncCollectionUtils = {
    refresh: () => enqueue('all'),
    flush: () => queue,
    async rejected() {
      return (await client.rejected()).filter((r) => r.change.collection === name);
    },
  };

  return {
    id: config.id ?? `trpc-offline-sync:${name}${view ? `:${view.key}` : ''}`,
    getKey: (row: T) => row.id,
    ...(config.gcTime !== undefined ? { gcTime: config.gcTime } : {}),
    startSync: config.startSync ?? true,
    sync: { sync, rowUpdateMode: 'full' },
    utils,
    onInsert: async ({ transaction }) => {
      const rows = transaction.mutations.map((m) => ({
        id: String(m.key),
        doc: docOf(m.modified as Data),
      }));
      await source.putMany(rows as never);
      await queue; // the write's change event is in TanStack's synced state before its optimistic state goes
    },
    onUpdate: async ({ transaction }) => {
      const rows = transaction.mutations
        .map((m) => ({
          id: String(m.key),
          patch: mergePatchOf(m.original as Data, m.modified as Data),
        }))
        .filter((r) => Object.keys(r.patch).length > 0);
      if (rows.length > 0) await source.patchMany(rows as never);
      await queue;
    },
    onDelete: async ({ transaction }) => {
      await source.deleteMany(transaction.mutations.map((m) => String(m.key)));
      await queue;
    },
  };
}
