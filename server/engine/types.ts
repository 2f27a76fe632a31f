/** Public types of the sync engine: its options, the hooks apps plug in, and the engine itself. */
import type { ChecksumReport } from './checksums.js';
import type {
  Actor,
  ChangeInput,
  FullPage,
  PullResponse,
  PushResponse,
  StreamEvent,
} from '../../shared/protocol.js';
import type { SyncSchema } from '../../shared/schema.js';
import type { Store } from '../stores/store.js';
import type { LiveFeedStatus } from './feed.js';
import type { RateLimitOptions, RateLimitedOp } from './rate-limit.js';
import type { AuthorizeCollection } from './read-auth.js';
import type { DefaultViews, SyncRules } from './rules.js';

/** What happens when an update meets a deleted document. */
export type DeletePolicy = 'resurrect_on_update' | 'reject_update' | 'delete_wins';

/** Arguments given to a custom conflict resolver. */
export interface ResolverArgs {
  actor: Actor;
  collection: string;
  id: string;
  /** Stored data now (`null`: absent or deleted). */
  current: Record<string, unknown> | null;
  /** What the client wants stored: the upsert's data, or `current` with the patch applied. */
  incoming: Record<string, unknown>;
  /** The data at the change's `baseVersion`, when known (`undefined`: not known). */
  base: Record<string, unknown> | null | undefined;
  change: ChangeInput;
}

/** A resolver returns the document to store, or `{ reject }` to refuse the change. */
export type Resolver = (
  args: ResolverArgs,
) =>
  | Record<string, unknown>
  | { reject: string }
  | Promise<Record<string, unknown> | { reject: string }>;

/** Per-change permission hook: `true` allows, `false` or a message refuses (`FORBIDDEN`). */
export type Authorize = (args: {
  actor: Actor;
  change: ChangeInput;
  current: Record<string, unknown> | null;
}) => boolean | string | Promise<boolean | string>;

/** Every size and page limit; each is configurable. */
export interface SyncLimits {
  /** Changes in one push. @default 1000 */
  maxChangesPerPush: number;
  /** Serialized size of one document's data (UTF-8 JSON bytes). @default 1_000_000 */
  maxDocumentBytes: number;
  /** Pull page size when `limit` is omitted. @default 500 */
  pullDefaultLimit: number;
  /** Largest pull `limit` accepted. @default 1000 */
  pullMaxLimit: number;
  /** Full-export page size when `limit` is omitted. @default 1000 */
  fullDefaultLimit: number;
  /** Largest full-export `limit` accepted. @default 10000 */
  fullMaxLimit: number;
  /**
   * Most documents one view checksum (`verifyView`) scans: a view holding more gets no checksum
   * (the answer is otherwise complete), so one small request cannot make the server read a
   * million documents. With a rate limit, each 1,000 documents scanned after the first also take
   * a token (like a full page); an empty bucket ends the scan the same way. @default 100000
   */
  maxViewChecksumDocs: number;
  /**
   * Largest request body the HTTP faces read (bytes). @default 16 MiB
   *
   * @deprecated A transport limit: give it to the faces or `createSyncHttpServer` (`limits`), see
   * docs/server.md. Still accepted here and forwarded to them as their default; the engine
   * never reads it.
   */
  maxBodyBytes?: number;
  /**
   * Deepest nesting of a document or patch (the data object is level 1), checked iteratively
   * before anything recursive runs, so a hostile `[[[[…]]]]` is a 400, not a stack overflow. @default 32
   */
  maxDepth: number;
  /** Longest document id (UTF-16 units); ids also may not hold control characters or lone surrogates. @default 256 */
  maxIdLength: number;
  /**
   * Longest request URL (path and query, characters) the HTTP faces read; longer ones answer 414.
   * The default fits the largest valid REST request (100 collection names and a cursor) and stays
   * below Node's own 16 KiB header limit, so a long URL gets a JSON answer. @default 10000
   *
   * @deprecated A transport limit: give it to the faces or `createSyncHttpServer` (`limits`), see
   * docs/server.md. Still accepted here and forwarded to them as their default; the engine
   * never reads it.
   */
  maxUrlLength?: number;
  /**
   * Most query parameters in one REST request (each endpoint knows at most 5); more answer 400. @default 16
   *
   * @deprecated A transport limit: give it to the faces or `createSyncHttpServer` (`limits`), see
   * docs/server.md. Still accepted here and forwarded to them as their default; the engine
   * never reads it.
   */
  maxQueryParams?: number;
  /**
   * How far past the last mutation id recorded for a client id (0 for a new one) a push's ids may
   * reach; beyond it the change is refused (400 naming `changes.<i>.mutationId`), so no push can
   * burn a ledger's id space (e.g. `2^53 − 1`). Clients count ids by one, so the default is never
   * reached by a real device. At least `maxChangesPerPush`. @default 1000000000
   */
  maxMutationIdGap: number;
  /**
   * Live connections (SSE responses, raw WebSockets, tRPC WebSockets holding a subscription, tRPC
   * SSE subscriptions) one actor (scope and user) may hold open at once on this process; one more
   * answers `TOO_MANY_REQUESTS` (429, close 4429). Bounds what one token can pin. @default 16
   *
   * @deprecated A transport limit: give it to the faces or `createSyncHttpServer` (`limits`), see
   * docs/server.md. Still accepted here and forwarded to them as their default; the engine
   * never reads it.
   */
  maxLiveConnectionsPerActor?: number;
  /**
   * Live subscriptions one connection may multiplex (tRPC over WebSocket; SSE and the raw
   * WebSocket carry one each); one more answers `TOO_MANY_REQUESTS`. @default 32
   *
   * @deprecated A transport limit: give it to the faces or `createSyncHttpServer` (`limits`), see
   * docs/server.md. Still accepted here and forwarded to them as their default; the engine
   * never reads it.
   */
  maxSubscriptionsPerConnection?: number;
}

/** The transport limits the engine's options still accept (by their old names) and forward to the faces. */
export type ForwardedTransportLimits = Partial<
  Record<
    | 'maxBodyBytes'
    | 'maxUrlLength'
    | 'maxQueryParams'
    | 'maxLiveConnectionsPerActor'
    | 'maxSubscriptionsPerConnection'
    | 'maxBufferedBytes'
    | 'slowConsumerGraceMs',
    number
  >
>;

export interface StreamOptions {
  /** Idle time after which a heartbeat event is sent. @default 15000 */
  heartbeatMs: number;
  /** Events queued for one subscriber before it is told to resync and closed. @default 1000 */
  maxQueue: number;
  /** Safety poll of subscribed scopes' heads, in case a notification was lost. @default 5000 */
  pollMs: number;
  /**
   * Bytes a face may hold for one live connection that the peer has not taken yet (WebSocket
   * `bufferedAmount`, the SSE body's queue). During catch-up the face waits for the peer below it;
   * once live, a subscriber past it is a slow consumer: sent `resync_required` (best effort) and
   * closed (WebSocket close 4409), so a peer that stops reading costs at most about this much. @default 1 MiB
   *
   * @deprecated A transport limit: give it to the faces or `createSyncHttpServer` (`limits`), see
   * docs/server.md. Still accepted here and forwarded to them as their default; the engine
   * never reads it.
   */
  maxBufferedBytes?: number;
  /**
   * How long a slow consumer's connection is left open to take its final `resync_required`
   * before it is cut. @default 5000
   *
   * @deprecated A transport limit: give it to the faces or `createSyncHttpServer` (`limits`), see
   * docs/server.md. Still accepted here and forwarded to them as their default; the engine
   * never reads it.
   */
  slowConsumerGraceMs?: number;
}

/**
 * What a face tells `engine.stream()` about itself and wants to hear back. The engine stays
 * unaware of transports: it only names the face in its events and reports its own queue.
 */
export interface StreamWatch {
  /** The face's name in events and metrics (`sse`, `ws`, `trpc`). @default 'other' */
  face?: string;
  /**
   * Called once, synchronously, when this subscriber's queue passes `stream.maxQueue`, also while
   * the face is not reading the stream (e.g. waiting for a peer that stopped reading).
   */
  onOverflow?: () => void;
  /** Called when catch-up is done and the stream starts tailing live commits. */
  onLive?: () => void;
  /** The face's own default views for this stream (see `ReadOptions.defaultViews`). */
  defaultViews?: ReadOptions['defaultViews'];
}

/** Per-call options of `engine.pull` and `engine.full` (for faces with their own default views). */
export interface ReadOptions {
  /**
   * The views a request without `view` gets, in place of the engine's `defaultViews` (views
   * `allow` refuses are left out). A face whose clients cannot subscribe serves its own visibility
   * through the engine's rules this way (the fastapi-offline-sync face's `visibility: 'user'`).
   * Given to an engine without rules, the read fails (`INTERNAL`). @default the engine's `defaultViews`
   */
  defaultViews?: readonly { rule: string; params?: unknown }[];
}

export interface RetentionOptions {
  /** Oplog entries older than this are pruned. @default 30 days */
  maxAgeMs: number;
  /** How often the engine prunes by itself; `0` turns the schedule off. @default 3_600_000 */
  pruneIntervalMs: number;
}

/** Something the engine did, for metrics and logs. */
export type EngineEvent =
  | {
      type: 'push';
      actor: Actor;
      changes: number;
      accepted: number;
      conflicts: number;
      rejected: number;
      duplicates: number;
      seq: number | null;
      ms: number;
    }
  | { type: 'pull'; actor: Actor; changes: number; ms: number }
  | { type: 'full'; actor: Actor; docs: number; ms: number }
  | { type: 'stream_open' | 'stream_close'; actor: Actor; face: string }
  /**
   * A slow consumer told to resync: `queue` when it fell more than `stream.maxQueue` commits
   * behind, `buffer` when its face held more than `stream.maxBufferedBytes` for it (see `slowConsumer`).
   */
  | { type: 'stream_overflow'; actor: Actor; face: string; reason: 'queue' | 'buffer' }
  | { type: 'rate_limited'; actor: Actor; op: RateLimitedOp; retryAfterMs: number }
  | { type: 'prune'; removed: number; ms: number }
  | { type: 'error'; where: string; error: unknown; requestId?: string };

/** Per-call options of `engine.push` (for faces whose clients send no mutation ids). */
export interface PushOptions {
  /**
   * `client` (default): the changes' mutation ids are the client's. `server`: the client sends none
   * (its ids are ignored); the engine numbers the changes after the client id's last recorded one,
   * and a push holding exactly the changes of the client's last push (same digests, same order) is
   * answered as its retry (`duplicate`). So a retry after a lost answer is applied once, and the
   * same content sent again after other pushes (ticked, unticked, ticked) is a new write.
   */
  numbering?: 'client' | 'server';
}

export interface SyncEngineOptions<S extends SyncSchema = SyncSchema, R extends SyncRules = {}> {
  store: Store;
  schema: S;
  /**
   * Read rules (server-defined views, docs/authorization.md): named filters over one collection
   * each. A collection any rule names is served only through views (`view` on pull, full and
   * stream, or the actor's `defaultViews`); other collections sync whole. @default no rules
   * @example rules: { mine: { collection: 'tasks', fields: ['assignee'], where: ({ actor }) => ({ assignee: actor.userId }) } }
   */
  rules?: R;
  /**
   * The views requests without `view` get (old clients, REST, compat): rule names (rules without
   * params), or a function of the actor returning view requests. Views `allow` refuses are left
   * out. @default none (nothing of a ruled collection without `view`)
   */
  defaultViews?: DefaultViews<R>;
  /** Custom conflict resolvers by collection (replace field-level LWW there). */
  resolvers?: Partial<Record<keyof S['collections'] & string, Resolver>>;
  /** Delete-versus-update policy, for all collections or per collection. @default 'resurrect_on_update' */
  deletePolicy?: DeletePolicy | Partial<Record<keyof S['collections'] & string, DeletePolicy>>;
  authorize?: Authorize;
  /**
   * Per-collection permission for push, pull, full and stream (sync or async). A denied
   * collection answers `FORBIDDEN` (403) when the request names it and is left out silently when
   * the request names none; stream checkpoints still advance past denied commits. @default every collection allowed
   * @example authorizeCollection: ({ actor, collection, op }) => collection !== 'payroll' || actor.userId === 'boss'
   */
  authorizeCollection?: AuthorizeCollection;
  limits?: Partial<SyncLimits>;
  retention?: Partial<RetentionOptions>;
  stream?: Partial<StreamOptions>;
  /**
   * Per-actor request rate limit (token bucket; push, pull, full pages and stream openings each
   * take one token). Over it, requests fail with `TOO_MANY_REQUESTS` (HTTP 429 with
   * `Retry-After`) and nothing is read or written. Counted per process. @default no limit
   * @example rateLimit: { requests: 600, windowMs: 60_000 } // 10 per second on average, bursts of 600
   */
  rateLimit?: RateLimitOptions;
  /**
   * Oldest client schema version accepted (`defineSyncSchema(…, { version })` on the client,
   * sent as `schemaVersion` in tRPC inputs, `X-Sync-Schema-Version` on REST). An older client's
   * push, pull, full and stream answer `UPGRADE_REQUIRED` (HTTP 426, tRPC `PRECONDITION_FAILED`)
   * before anything is read or written. A request without a version is allowed unless
   * `requireSchemaVersion` is set. Must not exceed the server schema's own version. @default no minimum
   * @example minSchemaVersion: 3
   */
  minSchemaVersion?: number;
  /**
   * Refuse requests that carry no schema version (`UPGRADE_REQUIRED`): set it once every client
   * in use sends one. Clients of the fastapi-offline-sync compatibility face never do. @default false
   */
  requireSchemaVersion?: boolean;
  /**
   * Integrity checksums (per scope and collection, kept in each push's transaction, sent with the
   * last pull page and stream heartbeats so clients find and repair drift). `false` keeps and
   * sends none (e.g. to measure their cost); sums kept before are then stale: run
   * `verifyChecksums(scope, { reset: true })` after turning them back on. @default true
   */
  integrity?: boolean;
  /** Server clock. `node` names this process in HLCs (default: random). */
  clock?: { node?: string; maxDriftMs?: number; now?: () => number };
  /** Called for every push, pull, full, stream and prune (metrics, logs). */
  onEvent?: (event: EngineEvent) => void;
}

/** A sync engine: push/pull/full/stream over one store, knowing nothing of tRPC or HTTP. */
export interface SyncEngine<S extends SyncSchema = SyncSchema, R extends SyncRules = {}> {
  readonly schema: S;
  /** The read rules (`{}` without rules); its type gives typed `view` inputs to the faces. */
  readonly rules: R;
  /**
   * Says that outside state a user's rules read (memberships, roles) changed: that user's views
   * and default requests whose range holds this call answer `RESYNC_REQUIRED` (pull) or
   * `resync_required` (stream), so clients rebuild them with `full`. Reaches every process
   * through the store (a marker commit in the scope's oplog, never shown to readers).
   */
  refreshViews(target: { scopeId: string; userId: string }): Promise<void>;
  readonly store: Store;
  readonly limits: Readonly<SyncLimits>;
  readonly streamOptions: Readonly<StreamOptions>;
  /**
   * The transport limits given under the engine's old option names (`limits.maxBodyBytes`,
   * `stream.maxBufferedBytes`, …), unchecked and unread by the engine: faces built over it take
   * them as defaults. @deprecated pass them to the faces or the server instead
   */
  readonly transportLimits?: Readonly<ForwardedTransportLimits>;
  /** Applies a client's changes (input validated here; throws `SyncError`). */
  push(actor: Actor, input: unknown, options?: PushOptions): Promise<PushResponse>;
  /** Changes after a checkpoint, whole commits only. */
  pull(actor: Actor, input: unknown, options?: ReadOptions): Promise<PullResponse>;
  /** One page of the current state (tombstones included). */
  full(actor: Actor, input: unknown, options?: ReadOptions): Promise<FullPage>;
  /**
   * Throws `FORBIDDEN` when `authorizeCollection` denies one of the named collections for `op`,
   * and, given a `view`, what the view's request would be refused with (400 `view.rule`,
   * `view.params…`, 403 from `allow`). Faces that must answer before the first event, such as
   * SSE, call it before opening.
   */
  authorizeRead(
    actor: Actor,
    op: 'pull' | 'full' | 'stream',
    collections: readonly string[] | undefined,
    view?: { rule: string; params?: unknown },
  ): Promise<void>;
  /**
   * Throws `UPGRADE_REQUIRED` when a client's schema version is refused (`minSchemaVersion`,
   * `requireSchemaVersion`), `BAD_REQUEST` when it is not a positive integer. push/pull/full/stream
   * check their input's `schemaVersion` themselves; faces call this first so the answer comes
   * before any other check of the request.
   */
  checkSchemaVersion(version: unknown): void;
  /** Catch-up from `lastEventId ?? since`, then live commits; ends on `signal` or after `resync_required`. */
  stream(
    actor: Actor,
    input: unknown,
    signal?: AbortSignal,
    watch?: StreamWatch,
  ): AsyncIterable<StreamEvent>;
  /**
   * Records that a face closed a live subscriber whose outgoing buffer passed
   * `stream.maxBufferedBytes` (event `stream_overflow` with reason `buffer`); queue overflows the
   * engine records itself.
   */
  slowConsumer(actor: Actor, face: string): void;
  /**
   * Server-side writes (app mutations, jobs, admin tools) that get versions, oplog entries and
   * live events like client pushes. `scope` is a scope id or an actor.
   */
  write(scope: string | Actor, changes: ServerChange<S>[]): Promise<PushResponse>;
  /** Prunes the oplog now (entries older than `before`, default now − retention). */
  prune(options?: { before?: Date }): Promise<{ removed: number }>;
  /**
   * Recomputes a scope's integrity checksums from its stored documents and compares them with the
   * kept ones (a document changed in the database behind the engine shows as a mismatch); with
   * `reset`, drifted sums are set to the recomputed ones, so clients holding the old documents
   * find the mismatch and repair. Scans the whole scope: an operator's tool, not a request path.
   */
  verifyChecksums(
    scopeId: string,
    options?: { reset?: boolean; collections?: readonly string[] },
  ): Promise<ChecksumReport>;
  /** The live feed's subscribers and delivery lag, for `/sync/status`. */
  feedStatus(): LiveFeedStatus;
  /** Stops timers and live feeds (the store is closed by its owner). */
  close(): Promise<void>;
}

/** A server-side change: like a client change without mutation ids. */
export type ServerChange<S extends SyncSchema = SyncSchema> = {
  collection: keyof S['collections'] & string;
  id: string;
  op: 'upsert' | 'patch' | 'delete';
  data?: Record<string, unknown> | null;
};
