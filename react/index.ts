/** `trpc-offline-sync/react`: `SyncProvider` and hooks (`useQuery`, `useDoc`, `useSubscription`, `useSyncStatus`, `usePending`) on `useSyncExternalStore`. */
import {
  createContext,
  createElement,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import type {
  Filter,
  QueryOptions,
  Row,
  Subscription,
  SubscriptionStatus,
  SyncClient,
  SyncCollection,
} from '../client/index.js';
import type { SyncStatus } from '../client/index.js';

/** A sync client of any schema, as the provider holds it. */
export type AnyClient = SyncClient<any, any>;
type AnyCollection = SyncCollection<any, any>;

const SyncContext = createContext<AnyClient | null>(null);

/** Props of `SyncProvider`. */
export interface SyncProviderProps {
  /** The app's sync client (`createSyncClient`). */
  client: AnyClient;
  children?: ReactNode;
}

/**
 * Makes `client` available to the hooks below it.
 *
 * @example
 * root.render(<SyncProvider client={client}><App /></SyncProvider>);
 */
export function SyncProvider({ client, children }: SyncProviderProps) {
  return createElement(SyncContext.Provider, { value: client }, children);
}

/** The client given to the nearest `SyncProvider` (throws outside one). */
export function useSyncClient(): AnyClient {
  const client = useContext(SyncContext);
  if (!client)
    throw new Error('trpc-offline-sync/react: hooks must be used inside <SyncProvider client={…}>');
  return client;
}

/** A value read asynchronously, re-read on some events, announced only when it changed (compared by `key`). */
interface AsyncStore<T> {
  subscribe(notify: () => void): () => void;
  get(): T;
}

function asyncStore<T>(
  initial: T,
  read: () => Promise<T>,
  listen: (refresh: () => void) => () => void,
  key: (value: T) => string,
): AsyncStore<T> {
  let value = initial;
  let current = key(initial);
  let run = 0;
  const listeners = new Set<() => void>();
  let stopListening: (() => void) | null = null;
  const refresh = () => {
    const mine = ++run;
    read().then(
      (next) => {
        if (mine !== run) return; // a newer read is under way
        const k = key(next);
        if (k === current) return; // same rows: nobody re-renders
        value = next;
        current = k;
        for (const l of listeners) l();
      },
      () => undefined, // a failed local read keeps the last answer
    );
  };
  return {
    subscribe(notify) {
      listeners.add(notify);
      if (!stopListening) {
        stopListening = listen(refresh);
        refresh();
      }
      return () => {
        listeners.delete(notify);
        if (listeners.size === 0 && stopListening) {
          stopListening();
          stopListening = null;
        }
      };
    },
    get: () => value,
  };
}

const rowKey = (rows: Row<unknown>[]) =>
  rows
    .map(
      (r) =>
        `${r.id}\u0000${r.version ?? ''}\u0000${r.pending ? 1 : 0}\u0000${JSON.stringify(r.doc)}`,
    )
    .join('\u0001');

/** A stable string for a filter (functions by identity: keep predicates stable with useCallback). */
const fnIds = new WeakMap<object, number>();
let nextFnId = 0;
function filterKey(filter: unknown): string {
  if (typeof filter === 'function') {
    if (!fnIds.has(filter)) fnIds.set(filter, ++nextFnId);
    return `fn:${fnIds.get(filter)}`;
  }
  return JSON.stringify(filter ?? null);
}

function resolveCollection(client: AnyClient, collection: string | AnyCollection): AnyCollection {
  return typeof collection === 'string' ? client.collection(collection) : collection;
}

/**
 * Live rows of a collection matching `filter` (see `SyncCollection.query`). Re-read when that
 * collection changes; the component re-renders only when its rows change (id, version, pending
 * and document compared). `[]` until the first read answers.
 *
 * @example
 * const open = useQuery('tasks', { done: false }, { orderBy: 'title' });
 */
export function useQuery<T>(
  collection: SyncCollection<T, any>,
  filter?: Filter<T>,
  options?: QueryOptions<T>,
): Row<T>[];
/** By collection name: rows typed `T` (give it, e.g. `useQuery<Task>('tasks')`), `any` otherwise. */
export function useQuery<T = any>(
  collection: string,
  filter?: Filter<NoInfer<T>>,
  options?: QueryOptions<NoInfer<T>>,
): Row<T>[];
export function useQuery<T = any>(
  collection: string | SyncCollection<T, any>,
  filter?: Filter<T>,
  options?: QueryOptions<T>,
): Row<T>[] {
  const client = useSyncClient();
  const col = resolveCollection(client, collection as string | AnyCollection);
  // A view is keyed by its subscription key (the Subscription object itself is not JSON).
  const { view, ...window } = options ?? {};
  const viewOf = view === undefined ? '' : typeof view === 'string' ? view : view.key;
  const deps = `${col.name}\u0000${filterKey(filter)}\u0000${JSON.stringify(window)}\u0000${viewOf}`;
  const args = useRef({ filter, options });
  args.current = { filter, options };
  const store = useMemo(
    () =>
      asyncStore<Row<T>[]>(
        [],
        () =>
          col.query(
            args.current.filter as Filter<any>,
            args.current.options as QueryOptions<any>,
          ) as Promise<Row<T>[]>,
        (refresh) => {
          const offChange = col.onChange(refresh);
          const offResync = client.on('resync', refresh);
          return () => {
            offChange();
            offResync();
          };
        },
        rowKey as (rows: Row<T>[]) => string,
      ),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, deps],
  );
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}

/** What `useSubscription` answers. */
export interface SubscriptionState {
  /** The subscription (the same object for the same rule and params); pass it to `useQuery(…, { view })`. */
  subscription: Subscription;
  /** `pending` until its first sync is local, then `ready`; `refused` when the server refused it. */
  status: SubscriptionStatus;
  /** The server's refusal, when `refused`. */
  error: unknown;
}

/** Options of `useSubscription`. */
export interface UseSubscriptionOptions {
  /**
   * Unsubscribe when the component unmounts (its documents leave the device unless another view
   * holds them). Subscriptions are kept across restarts, so by default they stay. @default false
   */
  unsubscribeOnUnmount?: boolean;
}

/**
 * Subscribes to the server's view `rule` with `params` (see `SyncClient.subscribe`) and re-renders
 * when its status changes. Pair it with `useQuery(collection, filter, { view: subscription })` for
 * the view's documents.
 *
 * @example
 * const { subscription, status } = useSubscription('project', { projectId });
 * const rows = useQuery('tasks', undefined, { view: subscription });
 * if (status === 'pending') return <Spinner />;
 */
export function useSubscription(
  rule: string,
  params?: Record<string, unknown>,
  options: UseSubscriptionOptions = {},
): SubscriptionState {
  const client = useSyncClient();
  const paramsKey = JSON.stringify(params ?? null);
  const subscription = useMemo(
    () =>
      (client.subscribe as (rule: string, params?: Record<string, unknown>) => Subscription)(
        rule,
        params,
      ),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- params by value (paramsKey), not by identity
    [client, rule, paramsKey],
  );
  const subscribe = useMemo(
    () => (notify: () => void) => subscription.on('status', notify),
    [subscription],
  );
  const get = () => subscription.status;
  const status = useSyncExternalStore(subscribe, get, get);
  const unsubscribeOnUnmount = options.unsubscribeOnUnmount === true;
  useEffect(
    () =>
      unsubscribeOnUnmount
        ? () => void subscription.unsubscribe().catch(() => undefined)
        : undefined,
    [subscription, unsubscribeOnUnmount],
  );
  return { subscription, status, error: subscription.error };
}

/**
 * One document as the app sees it (pending local changes included); `undefined` while loading or
 * when there is none. Re-renders only when that document changes.
 *
 * @example
 * const task = useDoc('tasks', id);
 */
export function useDoc<T>(collection: SyncCollection<T, any>, id: string): T | undefined;
/** By collection name: the document typed `T` (give it), `any` otherwise. */
export function useDoc<T = any>(collection: string, id: string): T | undefined;
export function useDoc<T = any>(
  collection: string | SyncCollection<T, any>,
  id: string,
): T | undefined {
  const client = useSyncClient();
  const col = resolveCollection(client, collection as string | AnyCollection);
  const store = useMemo(
    () =>
      asyncStore<T | undefined>(
        undefined,
        () => col.get(id) as Promise<T | undefined>,
        (refresh) => {
          const offChange = col.onChange((e) => {
            if (e.ids.includes(id)) refresh();
          });
          const offResync = client.on('resync', refresh);
          return () => {
            offChange();
            offResync();
          };
        },
        (doc) => (doc === undefined ? '' : JSON.stringify(doc)),
      ),
    // `col` is resolved from `client` and its name on every render: the name is its identity.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, col.name, id],
  );
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}

/**
 * The client's sync status (`online`, `offline`, `syncing`, `stalled`, `error`, `upgrade-required`; `client.statusDetail()` has the reason), re-rendered on each `status` event.
 *
 * @example
 * const status = useSyncStatus(); // 'syncing'
 */
export function useSyncStatus(): SyncStatus {
  const client = useSyncClient();
  const subscribe = useMemo(() => (notify: () => void) => client.on('status', notify), [client]);
  const get = () => client.status();
  return useSyncExternalStore(subscribe, get, get);
}

/**
 * How many local changes wait for the server; refreshed on `change`, `synced`, `conflict` and `resync` events.
 *
 * @example
 * const pending = usePending(); // 3
 */
export function usePending(): number {
  const client = useSyncClient();
  const store = useMemo(
    () =>
      asyncStore<number>(
        0,
        () => client.pending(),
        (refresh) => {
          const offs = [
            client.on('change', refresh),
            client.on('synced', refresh),
            client.on('conflict', refresh),
            client.on('resync', refresh),
            client.on('status', refresh),
          ];
          return () => offs.forEach((off) => off());
        },
        String,
      ),
    [client],
  );
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}

export type {
  Row,
  Filter,
  QueryOptions,
  Subscription,
  SubscriptionStatus,
} from '../client/index.js';
export type { SyncStatus } from '../client/index.js';
