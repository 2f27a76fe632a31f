/** `SyncApi`: the shape of the app's typed tRPC proxy for the sync router, typed structurally (no tRPC server types). */
import type {
  FullInput,
  FullPage,
  PullInput,
  PullResponse,
  PushInput,
  PushResponse,
  StreamEvent,
  StreamInput,
} from '../shared/protocol.js';

/**
 * The optional `view` field of `pull`, `full` and `stream` inputs: a rule the server declares and
 * its params. With it, a request is about exactly that view (its documents, its checkpoint).
 */
export type { ViewRequestInput } from '../shared/protocol.js';

/**
 * `view` as `SyncApi` declares it: any, so that a `trpc.sync` proxy whose server declares rules
 * (its `view` is the union of those rules and their params, narrower than `ViewRequestInput`) still
 * fits (tRPC's procedures are function properties, checked contravariantly). The client always
 * sends a `ViewRequestInput`; `createSyncClient` types `subscribe` from the proxy's own union.
 */
export type AnyViewRequest = any;
/** `pull` input with the optional `view` (servers with read rules). */
export type ViewPullInput = Omit<PullInput, 'view'> & { view?: AnyViewRequest };
/** `full` input with the optional `view`. */
export type ViewFullInput = Omit<FullInput, 'view'> & { view?: AnyViewRequest };
/** `stream` input with the optional `view`. */
export type ViewStreamInput = Omit<StreamInput, 'view'> & { view?: AnyViewRequest };

/** A subscription handle (tRPC's `Unsubscribable`). */
export interface SyncUnsubscribable {
  unsubscribe(): void;
}

/** The live connection's state as tRPC's links report it (`wsLink`, `httpSubscriptionLink`): `pending` means connected. */
export interface StreamConnectionState {
  type?: 'state';
  state: 'idle' | 'connecting' | 'pending';
  /** Why the connection is (re)connecting, when it was lost. */
  error: unknown;
}

/** The callbacks the client passes to `stream.subscribe` (a subset of tRPC's observer). */
export interface StreamObserver {
  onStarted?(opts: { context: Record<string, unknown> | undefined }): void;
  /** Connection changes (tRPC ≥ 11 calls it for `wsLink` and `httpSubscriptionLink`); the status uses them as reachability signals. */
  onConnectionStateChange?(state: StreamConnectionState): void;
  /** Every stream event is `tracked()` by the server, so tRPC hands it over as `{ id, data }`. */
  onData?(value: { id: string; data: StreamEvent }): void;
  onError?(error: unknown): void;
  onComplete?(): void;
}

/**
 * What the client needs from the sync router: pass `trpc.sync` of the app's `createTRPCClient`
 * proxy. Methods are declared as methods (checked bivariantly), so the typed proxy of any schema fits.
 *
 * @example
 * const trpc = createTRPCClient<AppRouter>({ links: [...] });
 * const api: SyncApi = trpc.sync;
 */
export interface SyncApi {
  push: { mutate(input: PushInput): Promise<PushResponse> };
  /** `opts.signal` aborts the request (the reachability ping uses it; tRPC's proxies accept it). */
  pull: { query(input: ViewPullInput, opts?: { signal?: AbortSignal }): Promise<PullResponse> };
  full: { query(input: ViewFullInput): Promise<FullPage> };
  stream: { subscribe(input: ViewStreamInput, observer: StreamObserver): SyncUnsubscribable };
}
