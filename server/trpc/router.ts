/** `createSyncRouter()`: the `push`/`pull`/`full`/`stream` procedures over one engine, built on the app's own procedure. */
import { TRPCError, tracked } from '@trpc/server';
import type {
  AnyProcedureBuilder,
  MutationProcedure,
  Overwrite,
  ProcedureBuilder,
  QueryProcedure,
  SubscriptionProcedure,
  TrackedData,
  UnsetMarker,
} from '@trpc/server/unstable-core-do-not-import';
import { encodeCheckpoint } from '../../shared/checkpoint.js';
import { SyncError } from '../../shared/errors.js';
import type { Actor, StreamEvent } from '../../shared/protocol.js';
import { authenticateToken } from '../gateway/auth.js';
import { createSyncGateway, type SyncGateway } from '../gateway/gateway.js';
import type { OnUnexpectedError } from '../gateway/request-id.js';
import { gatewayOf } from './gateway-context.js';
import { openLiveStream } from '../live/slow-consumers.js';
import { liveTransportOf } from '../live/transports.js';
import { toTRPCError } from './errors.js';
import { checkJsonInput } from './json-input.js';
import { passThrough, type EngineFor, type SyncInputs, type SyncOutputs } from './inputs.js';
import { responseBudgetOf } from './response-budget.js';

/** The procedure definition tRPC's router types take: input, output and meta of one sync procedure. */
export type SyncProcedureDef<TInput, TOutput, TMeta> = {
  input: TInput;
  output: TOutput;
  meta: TMeta;
  errorShape: unknown;
};

/** The procedures `createSyncRouter` returns; merge them into the app router as `sync`. */
export type SyncRouterRecord<S, TMeta = unknown, R = {}> = {
  /** Applies a batch of changes (exactly once per mutation id). */
  push: MutationProcedure<SyncProcedureDef<SyncInputs<S>['push'], SyncOutputs<S>['push'], TMeta>>;
  /** Changes after a checkpoint, whole commits only. */
  pull: QueryProcedure<SyncProcedureDef<SyncInputs<S, R>['pull'], SyncOutputs<S>['pull'], TMeta>>;
  /** One page of the current state, tombstones included. */
  full: QueryProcedure<SyncProcedureDef<SyncInputs<S, R>['full'], SyncOutputs<S>['full'], TMeta>>;
  /**
   * Catch-up, then live commits. Every event is `tracked()`: `changes` by its checkpoint,
   * heartbeats and `resync_required` by the last position delivered, so clients see
   * `{ id, data }` and a reconnecting client resumes from `id` by itself.
   */
  stream: SubscriptionProcedure<
    SyncProcedureDef<
      SyncInputs<S, R>['stream'],
      AsyncIterable<TrackedData<SyncOutputs<S>['stream']>, void, any>,
      TMeta
    >
  >;
};

/** Options of `createSyncRouter`. */
export interface SyncRouterOptions<S, TContext, TMeta, TContextOverrides, R = {}> {
  /** The engine; its `schema` type gives the procedures their document types, its `rules` their `view` inputs. */
  engine: EngineFor<S, R>;
  /**
   * The app's procedure builder (`t.procedure`, or one carrying the app's auth middleware), so the
   * app's context and middleware apply to every sync procedure.
   */
  procedure: ProcedureBuilder<
    TContext,
    TMeta,
    TContextOverrides,
    UnsetMarker,
    UnsetMarker,
    UnsetMarker,
    UnsetMarker,
    false,
    any
  >;
  /**
   * Finds the actor in the procedure's context; `null` (or a throw) answers UNAUTHORIZED.
   * @default (ctx) => ctx.actor
   */
  authenticate?: (
    ctx: Overwrite<TContext, TContextOverrides>,
  ) => Actor | null | undefined | Promise<Actor | null | undefined>;
  /**
   * The gateway whose live caps, transport limits and `onError` apply. A context marked by the
   * server (`withGateway`, as `createSyncHttpServer` does) wins, so its faces share caps.
   * @default one of its own over `engine`
   */
  gateway?: SyncGateway;
  /** Told of each unexpected failure once (the router's own gateway). @default one JSON line on stderr */
  onError?: OnUnexpectedError;
}

const defaultAuthenticate = (ctx: unknown): Actor | null =>
  (ctx as { actor?: Actor | null } | null)?.actor ?? null;

/**
 * Builds the sync procedures on the app's procedure builder. The returned record is merged
 * into the app router as `sync`; tRPC v11 accepts nested plain records.
 *
 * @example
 * const t = initTRPC.context<{ actor: Actor | null }>().create({ transformer: superjson, errorFormatter: syncErrorFormatter });
 * export const appRouter = t.router({ sync: createSyncRouter({ engine, procedure: t.procedure }) });
 * // client: await trpc.sync.push.mutate({ clientId, changes: [{ mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'Milk' } }] });
 */
export function createSyncRouter<S, TContext, TMeta, TContextOverrides, R = {}>(
  options: SyncRouterOptions<S, TContext, TMeta, TContextOverrides, R>,
): SyncRouterRecord<S, TMeta, R> {
  const { engine } = options;
  const authenticate = (options.authenticate ?? defaultAuthenticate) as (
    ctx: unknown,
  ) => Actor | null | undefined | Promise<Actor | null | undefined>;
  const procedure = options.procedure as unknown as AnyProcedureBuilder;
  let own: SyncGateway | undefined;
  /** The gateway of a call: the server's mark on the context, the given one, or the router's own. */
  const gatewayFor = (ctx: unknown): SyncGateway =>
    gatewayOf(ctx) ??
    options.gateway ??
    (own ??= createSyncGateway({
      engine,
      authenticate: () => null,
      onError: options.onError,
      who: 'createSyncRouter',
    }));

  /**
   * The gateway's token → actor rule, applied to the context: null → 401; a thrown SyncError
   * keeps its code (FORBIDDEN → 403); any other throw → 401, reported once.
   */
  async function actorOf(ctx: unknown): Promise<Actor> {
    const gateway = gatewayFor(ctx);
    try {
      return await authenticateToken(
        async () => (await authenticate(ctx)) ?? null,
        'context',
        gateway.onError,
      );
    } catch (error) {
      if (SyncError.is(error) && error.code === 'UNAUTHORIZED') {
        const message =
          error.message === 'invalid or expired token'
            ? 'authentication required: no valid credentials'
            : error.message;
        throw new TRPCError({ code: 'UNAUTHORIZED', message, cause: error });
      }
      throw toTRPCError(error);
    }
  }

  async function call<T>(
    ctx: unknown,
    input: unknown,
    fn: (actor: Actor) => Promise<T>,
  ): Promise<T> {
    const actor = await actorOf(ctx);
    // Calls of one request (or WebSocket) run one at a time within its answer budget, when it has one.
    const budget = responseBudgetOf(ctx);
    try {
      checkJsonInput(input);
      return await (budget ? budget.run(() => fn(actor)) : fn(actor));
    } catch (error) {
      throw toTRPCError(error);
    }
  }

  /** The position a fresh stream starts from ("before the first commit"), so every event can be tracked. */
  const beginning = () => encodeCheckpoint({ epoch: engine.store.epoch(), seq: 0 });

  async function* stream({
    ctx,
    input,
    signal,
  }: {
    ctx: unknown;
    input: unknown;
    signal: AbortSignal | undefined;
  }) {
    const actor = await actorOf(ctx);
    try {
      checkJsonInput(input);
    } catch (error) {
      throw toTRPCError(error);
    }
    const given = (input ?? {}) as { lastEventId?: string | null; since?: string | null };
    let position = given.lastEventId || given.since || null;
    // The connection the context was marked with (`withLiveConnection`): its buffer is bounded and
    // the caps count per connection; without one only the engine's queue bound applies.
    const transport = liveTransportOf(ctx);
    const gateway = gatewayFor(ctx);
    try {
      const events = openLiveStream({
        engine,
        actor,
        input: input ?? {},
        signal,
        face: 'trpc',
        transport,
        gateway,
      });
      for await (const event of events) {
        // A heartbeat carries the position delivered so far; it moves even when a filter hid commits.
        if (event.type !== 'resync_required' && event.checkpoint) position = event.checkpoint;
        yield tracked(position ?? beginning(), event);
        if (event.type === 'resync_required') {
          // A slow WebSocket is closed (4409) once its resync was handed over: every subscription
          // on it is behind the same full socket. tRPC's SSE ends the response by itself.
          if (events.slow) transport?.closeSlow?.(gateway.limits.slowConsumerGraceMs);
          return;
        }
      }
    } catch (error) {
      if (SyncError.is(error) && error.code === 'RESYNC_REQUIRED') {
        const event: StreamEvent = { type: 'resync_required', message: error.message };
        yield tracked(position ?? beginning(), event);
        return;
      }
      throw toTRPCError(error);
    }
  }

  const record = {
    push: procedure
      .input(passThrough<SyncInputs<S>['push']>())
      .mutation(({ ctx, input }) => call(ctx, input, (a) => engine.push(a, input))),
    pull: procedure
      .input(passThrough<SyncInputs<S, R>['pull']>())
      .query(({ ctx, input }) => call(ctx, input, (a) => engine.pull(a, input ?? {}))),
    full: procedure
      .input(passThrough<SyncInputs<S, R>['full']>())
      .query(({ ctx, input }) => call(ctx, input, (a) => engine.full(a, input ?? {}))),
    stream: procedure.input(passThrough<SyncInputs<S, R>['stream']>()).subscription(stream),
  };
  return record as unknown as SyncRouterRecord<S, TMeta, R>;
}
