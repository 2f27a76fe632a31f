/**
 * Read plans: what one pull, full or stream may show when the engine has rules. A plan says, per
 * collection, whether it is read whole or through filters (a view's, or the actor's default
 * views'), and turns oplog entries into changes: an entry's document is shown when it matches
 * after the entry, sent as a `left` removal when it matched only before (the entry's pre-image),
 * and never otherwise. Old versions in the oplog are judged the same way, so nothing outside the
 * plan is ever sent.
 */
import { SyncError } from '../../shared/errors.js';
import type { Actor, ChangeOut } from '../../shared/protocol.js';
import type { SyncSchema } from '../../shared/schema.js';
import { BEFORE_WRITER_KEY, type OplogEntry } from '../stores/store.js';
import {
  readableCollections,
  assertCollections,
  type AuthorizeCollection,
  type CollectionOp,
} from './read-auth.js';
import {
  matchesAny,
  resolveView,
  WRITER_FIELD,
  type CompiledRules,
  type Filter,
  type ResolvedView,
} from './rules.js';

/**
 * The reserved oplog collection of `refreshViews` markers (one entry per refresh, id = userId).
 * No schema can name it (collection names start with a letter), and no reader is ever shown it.
 */
export const VIEWS_MARKER = '_sync_views';

/** How a collection is read: whole, or only documents matching any of the filters. */
export type CollectionSpec = 'all' | readonly Filter[];

/** What one read may show. */
export interface ReadPlan {
  specs: ReadonlyMap<string, CollectionSpec>;
  /** The view asked for (`null`: a default request). */
  view: ResolvedView | null;
  /** Whether a `refreshViews` marker for this user in the read range means the answer is stale. */
  watchRefresh: boolean;
  userId: string;
}

/** The views an actor gets without asking, resolved. */
export type DefaultViewsResolver = (actor: Actor) => Promise<ResolvedView[]>;

/** The inputs of a read that a plan depends on. */
export interface PlanRequest {
  collections?: readonly string[] | undefined;
  view?: { rule: string; params?: unknown } | undefined;
  /** A face's own default views for this request (see `ReadOptions.defaultViews`), in place of the engine's. */
  defaultViews?: readonly { rule: string; params?: unknown }[] | undefined;
}

/** Builds the plan of a read; throws 400/403 for a refused view before anything is read. */
export async function planRead(
  compiled: CompiledRules,
  defaults: DefaultViewsResolver,
  schema: SyncSchema,
  authorize: AuthorizeCollection | undefined,
  actor: Actor,
  op: CollectionOp,
  req: PlanRequest,
): Promise<ReadPlan> {
  if (req.view) {
    const view = await resolveView(compiled, actor, req.view);
    const named = req.collections && req.collections.length > 0 ? req.collections : undefined;
    if (named && (named.length !== 1 || named[0] !== view.collection)) {
      throw new SyncError(
        'BAD_REQUEST',
        `a view of rule "${view.rule}" reads only collection "${view.collection}"`,
        [
          {
            path: 'collections',
            message: `must be absent or ["${view.collection}"] with this view`,
          },
        ],
      );
    }
    if (authorize) await assertCollections(authorize, actor, op, [view.collection]);
    return {
      specs: new Map([[view.collection, [view.filter]]]),
      view,
      watchRefresh: true,
      userId: actor.userId,
    };
  }
  const allowed =
    (await readableCollections(authorize, schema, actor, op, req.collections)) ?? schema.names;
  const byCollection = new Map<string, Filter[]>();
  if (allowed.some((c) => compiled.ruled.has(c))) {
    for (const v of req.defaultViews
      ? await resolveDefaults(compiled, actor, req.defaultViews)
      : await defaults(actor)) {
      const list = byCollection.get(v.collection) ?? [];
      list.push(v.filter);
      byCollection.set(v.collection, list);
    }
  }
  // A ruled collection no default view names has no filter: it shows nothing but the reader's own
  // writes, as `left` removals (see `shown`), so a device that wrote there holds only its views.
  const specs = new Map<string, CollectionSpec>();
  for (const name of allowed)
    specs.set(name, compiled.ruled.has(name) ? (byCollection.get(name) ?? []) : 'all');
  const watchRefresh = [...specs.values()].some((s) => s !== 'all' && s.length > 0);
  return { specs, view: null, watchRefresh, userId: actor.userId };
}

/** Resolves an engine's `defaultViews` option for an actor (views `allow` refuses are left out). */
export function defaultViewsResolver(
  compiled: CompiledRules,
  option:
    | readonly string[]
    | ((
        actor: Actor,
      ) =>
        | readonly { rule: string; params?: unknown }[]
        | Promise<readonly { rule: string; params?: unknown }[]>)
    | undefined,
): DefaultViewsResolver {
  return async (actor) => {
    const list =
      option === undefined
        ? []
        : typeof option === 'function'
          ? await option(actor)
          : option.map((rule) => ({ rule }));
    return resolveDefaults(compiled, actor, list);
  };
}

/** Resolves default view requests for an actor (views `allow` refuses are left out). */
async function resolveDefaults(
  compiled: CompiledRules,
  actor: Actor,
  list: readonly { rule: string; params?: unknown }[],
): Promise<ResolvedView[]> {
  const out: ResolvedView[] = [];
  for (const v of list) {
    try {
      out.push(await resolveView(compiled, actor, v));
    } catch (error) {
      if (SyncError.is(error) && error.code === 'FORBIDDEN') continue;
      throw error;
    }
  }
  return out;
}

/** The collections a plan reads from the oplog (its markers' collection included when watched). */
export function oplogCollections(plan: ReadPlan): string[] {
  const names = [...plan.specs.keys()];
  if (plan.watchRefresh) names.push(VIEWS_MARKER);
  return names;
}

/** The collections read whole (integrity checksums are sent only for them). */
export function wholeCollections(plan: ReadPlan): string[] {
  return [...plan.specs].filter(([, s]) => s === 'all').map(([c]) => c);
}

/** What a range of oplog entries shows under a plan: its changes, or `refresh` (resync needed). */
export function planChanges(
  plan: ReadPlan,
  entries: readonly OplogEntry[],
): ChangeOut[] | 'refresh' {
  const latest = new Map<string, ChangeOut>();
  for (const e of entries) {
    if (e.collection === VIEWS_MARKER) {
      if (plan.watchRefresh && e.id === plan.userId) return 'refresh';
      continue;
    }
    const spec = plan.specs.get(e.collection);
    if (!spec) continue;
    const change = shown(spec, e, plan.userId);
    if (!change) continue;
    const key = `${e.collection}\u0000${e.id}`;
    latest.delete(key); // re-insert so Map order follows the latest change
    latest.set(key, change);
  }
  return [...latest.values()];
}

/**
 * Whether a range of entries shows a plan anything (`planChanges` would answer `refresh` or at
 * least one change), without building the changes: the live feed's test, run once per commit and
 * subscriber, so a commit outside a view costs its 990 other subscribers no allocation.
 */
export function planShows(plan: ReadPlan, entries: readonly OplogEntry[]): boolean {
  const reader = plan.userId;
  for (const e of entries) {
    if (e.collection === VIEWS_MARKER) {
      if (plan.watchRefresh && e.id === plan.userId) return true;
      continue;
    }
    const spec = plan.specs.get(e.collection);
    if (spec && shows(spec, e, reader)) return true;
  }
  return false;
}

/** Whether one entry shows anything under a collection's spec (see `shown`, which builds the change). */
function shows(spec: CollectionSpec, e: OplogEntry, reader: string): boolean {
  if (spec === 'all') return true;
  if (e.op === 'upsert' && matchesAny(spec, e.data, e.actor)) return true;
  if (spec.length > 0 && (e.before === undefined || matchesBefore(spec, e.before))) return true;
  return e.op === 'upsert' && e.actor === reader;
}

/** One entry under a collection's spec: the change to send, or null when it shows nothing. */
function shown(spec: CollectionSpec, e: OplogEntry, reader: string): ChangeOut | null {
  if (spec === 'all')
    return {
      collection: e.collection,
      id: e.id,
      op: e.op,
      data: e.op === 'delete' ? null : e.data,
      version: e.version,
    };
  if (e.op === 'upsert' && matchesAny(spec, e.data, e.actor))
    return { collection: e.collection, id: e.id, op: 'upsert', data: e.data, version: e.version };
  // An entry without a kept pre-image (written before the collection had rules), or without the
  // previous writer a `$writer` filter needs, may have matched: removed to be safe.
  // (No filter at all: nothing of the collection was ever shown, so only own writes leave.)
  const before = spec.length > 0 && (e.before === undefined ? true : matchesBefore(spec, e.before));
  // The reader's own write that the plan does not hold (e.g. a task created for someone else, or
  // a document of a ruled collection no default view names): a "left view" removal, so a device
  // holds exactly its views (or default views) once its writes are pushed. It tells the writer
  // nothing it did not know.
  const own = e.op === 'upsert' && e.actor === reader;
  if (!before && !own) return null;
  const change: ChangeOut = {
    collection: e.collection,
    id: e.id,
    op: 'delete',
    data: null,
    version: e.version,
  };
  if (e.op === 'upsert') change.left = true;
  return change;
}

/** Whether a pre-image matched; its `_sync_writer` key is the previous writer (unknown: matched). */
function matchesBefore(spec: readonly Filter[], before: Record<string, unknown> | null): boolean {
  if (before === null) return false;
  const writer = before[BEFORE_WRITER_KEY];
  if (typeof writer !== 'string' && spec.some((f) => Object.hasOwn(f, WRITER_FIELD))) return true;
  return matchesAny(spec, before, typeof writer === 'string' ? writer : undefined);
}

/** An engine's rules and default views (null: the engine has no rules). */
export interface ViewsContext {
  compiled: CompiledRules;
  defaults: DefaultViewsResolver;
}

/**
 * The plan of a read, or null when the engine has no rules (every collection read whole, as
 * before rules existed). A `view` asked of an engine without rules is refused (400 `view.rule`).
 */
export async function planFor(
  views: ViewsContext | null,
  schema: SyncSchema,
  authorize: AuthorizeCollection | undefined,
  actor: Actor,
  op: CollectionOp,
  req: PlanRequest,
): Promise<ReadPlan | null> {
  if (!views) {
    if (req.defaultViews && req.defaultViews.length > 0) {
      throw new SyncError(
        'INTERNAL',
        'default views were given for a read, but this server declares no rules',
      );
    }
    if (req.view) {
      throw new SyncError(
        'BAD_REQUEST',
        `unknown view rule "${req.view.rule}": this server declares no rules`,
        [{ path: 'view.rule', message: 'no rules are declared' }],
      );
    }
    return null;
  }
  return planRead(views.compiled, views.defaults, schema, authorize, actor, op, req);
}

/** A filter as the stores' `DocMatch` (each field's allowed values). */
export function toMatch(
  filter: Filter,
): Record<string, readonly (string | number | boolean | null)[]> {
  const out: Record<string, readonly (string | number | boolean | null)[]> = {};
  for (const [field, want] of Object.entries(filter))
    out[field] = want !== null && typeof want === 'object' ? want.in : [want];
  return out;
}

/** The store-side oplog filter of a plan: its filtered collections' filters (see `ReadOplogOptions.match`). */
export function oplogMatch(
  plan: ReadPlan | null,
): Map<string, Record<string, readonly (string | number | boolean | null)[]>[]> | undefined {
  if (!plan) return undefined;
  const out = new Map<string, Record<string, readonly (string | number | boolean | null)[]>[]>();
  for (const [collection, spec] of plan.specs) {
    if (spec === 'all') continue;
    const matches = spec.map(toMatch);
    // A filter on the writer is left to the engine: an entry's previous writer lives in its
    // pre-image (`_sync_writer`), not in the column the stores match the writer on.
    if (matches.some((m) => Object.hasOwn(m, WRITER_FIELD))) continue;
    out.set(collection, matches);
  }
  return out.size > 0 ? out : undefined;
}

/** The user whose own writes a plan's oplog reads must keep (plans with a filtered collection; see `shown`). */
export function ownWriter(plan: ReadPlan | null): string | undefined {
  if (!plan) return undefined;
  for (const spec of plan.specs.values()) if (spec !== 'all') return plan.userId;
  return undefined;
}
