/** `createSyncEngine()`: push, pull, full, stream, server-side writes and retention over one store. */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SyncError } from '../../shared/errors.js';
import { HlcClock } from '../../shared/hlc.js';
import {
  pushInput,
  viewRequest,
  type Actor,
  type PushResponse,
  type ChangeInput,
} from '../../shared/protocol.js';
import type { SyncSchema } from '../../shared/schema.js';
import type { ApplyContext, StampedChange } from './apply.js';
import { LiveFeed } from './feed.js';
import { full } from './full.js';
import { resolveOptions } from './options.js';
import { assertCollections } from './read-auth.js';
import { pull } from './pull.js';
import { createRateLimiter, type RateLimitedOp } from './rate-limit.js';
import { applyBatch, checkLedger, type BatchOutcome } from './push.js';
import { changeDigest } from './digest.js';
import { verifyChecksums } from './checksums.js';
import {
  checkSchemaVersion,
  resolveSchemaVersionPolicy,
  schemaVersionOf,
} from './schema-version.js';

/** Longest delay `setTimeout` takes (2^31 − 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;
import { stream } from './stream.js';
import { compileRules, type SyncRules } from './rules.js';
import { defaultViewsResolver, planFor, VIEWS_MARKER, type ViewsContext } from './views.js';
import type { EngineEvent, ServerChange, SyncEngine, SyncEngineOptions } from './types.js';
import { parseInput, parsePushInput, validateChanges, type ValidChange } from './validate.js';

/**
 * Creates a sync engine over a store (call `store.init()` first).
 *
 * @example
 * const store = await pgliteStore('./.sync-data');
 * const engine = createSyncEngine({ store, schema });
 * await engine.push({ userId: 'u1', scopeId: 'acme' }, { clientId: 'd1', changes: [...] });
 */
export function createSyncEngine<S extends SyncSchema, R extends SyncRules = {}>(
  options: SyncEngineOptions<S, R>,
): SyncEngine<S, R> {
  const { store, schema } = options;
  const resolved = resolveOptions(options as unknown as SyncEngineOptions);
  const { limits, retention } = resolved;
  const clock = new HlcClock({
    node: options.clock?.node ?? `s${randomBytes(3).toString('hex')}`,
    maxDriftMs: options.clock?.maxDriftMs,
    now: options.clock?.now,
  });
  const emit = (event: EngineEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // a metrics hook must never break sync
    }
  };
  const limiter = resolved.rateLimit
    ? createRateLimiter(resolved.rateLimit, options.clock?.now ?? Date.now)
    : null;
  /** Takes a rate-limit token, or refuses the request before anything is read or written. */
  const admit = (actor: Actor, op: RateLimitedOp) => {
    const waitMs = limiter?.take(actor, op) ?? 0;
    if (waitMs === 0) return;
    emit({ type: 'rate_limited', actor, op, retryAfterMs: waitMs });
    const { requests, windowMs } = resolved.rateLimit!;
    throw new SyncError(
      'TOO_MANY_REQUESTS',
      `rate limit: at most ${requests} requests per ${windowMs} ms for this user; retry in ${Math.ceil(waitMs / 1000)} s`,
      [],
      { retryAfterMs: waitMs },
    );
  };
  /** A view checksum's scan pages after the first take rate-limit tokens, like full pages (none without a limit). */
  const scanPage = (actor: Actor) =>
    limiter ? () => limiter.take(actor, 'full') === 0 : undefined;
  const nowMs = options.clock?.now ?? Date.now;
  /** An actor whose credentials have expired (`expiresAt`) is refused, e.g. on a tRPC WebSocket opened with a now-stale token. */
  const assertFresh = (actor: Actor) => {
    if (actor.expiresAt !== undefined && actor.expiresAt <= nowMs())
      throw new SyncError('UNAUTHORIZED', 'token expired');
  };
  const versionPolicy = resolveSchemaVersionPolicy(options, schema.version);
  /** Refuses an outdated client (UPGRADE_REQUIRED) before anything else is checked, read or written. */
  const gate = (input: unknown) => checkSchemaVersion(versionPolicy, schemaVersionOf(input));
  const feed = new LiveFeed(store, resolved.stream, (error) =>
    emit({ type: 'error', where: 'feed', error }),
  );
  const compiled =
    options.rules && Object.keys(options.rules).length > 0
      ? compileRules(options.rules, schema)
      : null;
  const views: ViewsContext | null = compiled
    ? {
        compiled,
        defaults: defaultViewsResolver(
          compiled,
          options.defaultViews as Parameters<typeof defaultViewsResolver>[1],
        ),
      }
    : null;
  if (compiled && options.defaultViews && typeof options.defaultViews !== 'function') {
    for (const name of options.defaultViews) {
      if (!Object.hasOwn(compiled.rules, name))
        throw new Error(`createSyncEngine: defaultViews names unknown rule "${name}"`);
    }
  }
  if (compiled && compiled.unindexed.length > 0) {
    console.warn(
      `trpc-offline-sync: rules without declared fields are served unindexed: ${compiled.unindexed.join(', ')}`,
    );
  }
  // Indexes for the rules' fields, made once at start-up; a view's full waits for them (and works without on failure).
  const indexes: Promise<void> | undefined =
    compiled && store.ensureIndexes && compiled.indexes.length > 0
      ? store
          .ensureIndexes(compiled.indexes)
          .catch((error: unknown) => emit({ type: 'error', where: 'indexes', error }))
      : undefined;

  const contextFor = (actor: Actor): ApplyContext => ({
    schema,
    scope: actor.scopeId,
    actor,
    maxDocumentBytes: limits.maxDocumentBytes,
    maxMutationIdGap: limits.maxMutationIdGap,
    deletePolicy: resolved.deletePolicy,
    resolvers: (options.resolvers ?? {}) as ApplyContext['resolvers'],
    authorize: options.authorize,
    integrity: options.integrity !== false,
    preImage: compiled?.preImageFields,
  });
  const integrity = options.integrity !== false;

  /**
   * Stamps each change: the client's HLC unless missing, too far ahead of our clock, or not above
   * an earlier change of the same push to the same document (a client that reuses one HLC for a
   * whole batch must not have its later edits lose to its earlier ones).
   */
  const stamp = (changes: ValidChange[]): StampedChange[] => {
    const lastByDoc = new Map<string, string>();
    return changes.map((c) => {
      const key = `${c.collection}\u0000${c.id}`;
      const previous = lastByDoc.get(key);
      let value: string;
      if (c.hlc && !clock.isTooFarAhead(c.hlc) && (previous === undefined || c.hlc > previous)) {
        clock.receive(c.hlc);
        value = c.hlc;
      } else value = clock.now();
      lastByDoc.set(key, value);
      return { ...c, stamp: value, digest: changeDigest(c) };
    });
  };

  async function run(
    actor: Actor,
    clientId: string | null,
    changes: StampedChange[],
    atomic: boolean,
    numbering: 'client' | 'server' = 'client',
  ): Promise<PushResponse> {
    const started = performance.now();
    for (const change of changes) {
      if (
        change.baseVersion &&
        options.resolvers?.[change.collection as keyof S['collections'] & string]
      ) {
        change.base = await store.findVersion(actor.scopeId, change, change.baseVersion);
      }
    }
    const ctx = contextFor(actor);
    const outcomes: BatchOutcome[] = [];
    // One change per transaction below: the whole push is checked against the ledger first, so a conflict applies none of it.
    if (!atomic && clientId !== null)
      await store.transaction(actor.scopeId, (tx) => checkLedger(ctx, tx, clientId, changes));
    if (atomic)
      outcomes.push(
        await store.transaction(actor.scopeId, (tx) =>
          applyBatch(ctx, tx, clientId, changes, numbering),
        ),
      );
    else
      for (const change of changes)
        outcomes.push(
          await store.transaction(actor.scopeId, (tx) => applyBatch(ctx, tx, clientId, [change])),
        );
    const results = outcomes.flatMap((o) => o.results);
    const count = (status: string) => results.filter((r) => r.status === status).length;
    emit({
      type: 'push',
      actor,
      changes: changes.length,
      accepted: count('accepted'),
      conflicts: count('conflict_resolved'),
      rejected: count('rejected'),
      duplicates: count('duplicate'),
      seq: outcomes.reduce<number | null>(
        (m, o) => (o.seq !== null && (m === null || o.seq > m) ? o.seq : m),
        null,
      ),
      ms: performance.now() - started,
    });
    return { results, serverTime: clock.now() };
  }

  let pruneTimer: ReturnType<typeof setInterval> | null = null;
  /** The scheduled prune under way, if any: `close()` waits for it, so nothing runs after. */
  let scheduledPrune: Promise<unknown> | null = null;
  const engine: SyncEngine<S, R> = {
    schema,
    rules: (options.rules ?? {}) as R,
    store,
    limits,
    streamOptions: resolved.stream,
    transportLimits: resolved.transport,

    async push(actor, input, pushOptions) {
      gate(input);
      assertFresh(actor);
      admit(actor, 'push');
      const req = parsePushInput(pushInput, input, 'push', limits);
      const changes = validateChanges(req.changes, schema, limits, true);
      if (options.authorizeCollection)
        await assertCollections(
          options.authorizeCollection,
          actor,
          'push',
          changes.map((c) => c.collection),
          'changes',
        );
      const numbering = pushOptions?.numbering ?? 'client';
      if (numbering === 'server' && !req.atomic)
        throw new SyncError('BAD_REQUEST', 'push: server numbering needs an atomic push', [
          { path: 'atomic', message: 'must be true' },
        ]);
      return run(actor, req.clientId, stamp(changes), req.atomic, numbering);
    },

    async pull(actor, input, readOptions) {
      gate(input);
      assertFresh(actor);
      admit(actor, 'pull');
      const started = performance.now();
      const res = await pull(
        store,
        schema,
        limits,
        actor,
        input,
        options.authorizeCollection,
        integrity,
        views,
        readOptions?.defaultViews,
        scanPage(actor),
      );
      emit({ type: 'pull', actor, changes: res.changes.length, ms: performance.now() - started });
      return res;
    },

    async full(actor, input, readOptions) {
      gate(input);
      assertFresh(actor);
      admit(actor, 'full');
      const started = performance.now();
      const page = await full(
        store,
        schema,
        limits,
        actor,
        input,
        options.authorizeCollection,
        views,
        indexes,
        readOptions?.defaultViews,
      );
      emit({ type: 'full', actor, docs: page.docs.length, ms: performance.now() - started });
      return page;
    },

    checkSchemaVersion(version) {
      checkSchemaVersion(versionPolicy, version);
    },

    async authorizeRead(actor, op, collections, view) {
      if (view !== undefined) {
        await planFor(views, schema, options.authorizeCollection, actor, op, {
          collections,
          view: parseInput(z.object({ view: viewRequest }), { view }, 'view').view,
        });
        return;
      }
      if (options.authorizeCollection && collections && collections.length > 0)
        await assertCollections(options.authorizeCollection, actor, op, collections);
    },

    stream(actor, input, signal, watch) {
      // Thrown here, before the first event: the faces answer 401, 426 or 429 instead of opening a stream.
      gate(input);
      assertFresh(actor);
      admit(actor, 'stream');
      // A stream whose credentials expire ends then with UNAUTHORIZED, so the client refreshes and resumes.
      const expiry = actor.expiresAt !== undefined ? new AbortController() : null;
      const innerSignal = expiry
        ? signal
          ? AbortSignal.any([signal, expiry.signal])
          : expiry.signal
        : signal;
      const face = watch?.face ?? 'other';
      const onOverflow = () => emit({ type: 'stream_overflow', actor, face, reason: 'queue' });
      const inner = stream(
        {
          store,
          schema,
          feed,
          limits,
          options: resolved.stream,
          onOverflow,
          watch,
          authorizeCollection: options.authorizeCollection,
          integrity,
          views,
          scanPage: scanPage(actor),
        },
        actor,
        input,
        innerSignal,
      );
      return (async function* () {
        emit({ type: 'stream_open', actor, face });
        let timer: ReturnType<typeof setTimeout> | undefined;
        const arm = () => {
          const ms = actor.expiresAt! - nowMs();
          // setTimeout holds at most ~24.8 days; a longer wait is re-armed.
          timer = setTimeout(
            () => (ms > MAX_TIMER_MS ? arm() : expiry!.abort()),
            Math.min(Math.max(ms, 0), MAX_TIMER_MS),
          );
        };
        if (expiry) arm();
        try {
          yield* inner;
          if (expiry?.signal.aborted && !signal?.aborted)
            throw new SyncError('UNAUTHORIZED', 'token expired');
        } finally {
          clearTimeout(timer);
          emit({ type: 'stream_close', actor, face });
        }
      })();
    },

    async refreshViews({ scopeId, userId }) {
      if (typeof scopeId !== 'string' || typeof userId !== 'string')
        throw new Error('refreshViews: scopeId and userId must be strings');
      // A marker commit: ordered with the scope's commits and heard by every process's feed.
      const version = clock.now();
      await store.transaction(scopeId, async (tx) => {
        const seq = tx.head.seq + 1;
        const at = new Date();
        const entry = {
          scope: scopeId,
          seq,
          idx: 0,
          collection: VIEWS_MARKER,
          id: userId,
          op: 'upsert' as const,
          data: {},
          version,
          actor: 'server',
          clientId: null,
          mutationId: null,
          at,
        };
        await tx.appendOplog([entry]);
        await tx.setHead(seq);
      });
    },

    slowConsumer(actor, face) {
      emit({ type: 'stream_overflow', actor, face, reason: 'buffer' });
    },

    async write(scope, changes) {
      const actor: Actor = typeof scope === 'string' ? { userId: 'server', scopeId: scope } : scope;
      const asInput: ChangeInput[] = (changes as ServerChange[]).map((c, i) => ({
        mutationId: i + 1,
        collection: c.collection,
        id: c.id,
        op: c.op,
        data: c.data ?? null,
      }));
      const checked = parsePushInput(
        pushInput,
        { clientId: 'server', changes: asInput },
        'write',
        limits,
      );
      const valid = validateChanges(checked.changes, schema, limits, true);
      return run(actor, null, stamp(valid), true);
    },

    async prune(opts) {
      const started = performance.now();
      const before = opts?.before ?? new Date(Date.now() - retention.maxAgeMs);
      const { removed } = await store.prune(before);
      emit({ type: 'prune', removed, ms: performance.now() - started });
      return { removed };
    },

    verifyChecksums: (scopeId, opts) => verifyChecksums(store, scopeId, opts),

    feedStatus: () => feed.status(),

    async close() {
      if (pruneTimer) clearInterval(pruneTimer);
      pruneTimer = null;
      await scheduledPrune;
      feed.close();
    },
  };

  if (retention.pruneIntervalMs > 0) {
    pruneTimer = setInterval(() => {
      // One at a time: a prune slower than the interval is not stacked.
      scheduledPrune ??= engine
        .prune()
        .catch((error) => emit({ type: 'error', where: 'prune', error }))
        .finally(() => (scheduledPrune = null));
    }, retention.pruneIntervalMs);
    pruneTimer.unref?.();
  }
  return engine;
}
