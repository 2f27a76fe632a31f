/**
 * Read rules (server-defined views): their declaration, checked once at start-up, and the filters
 * they give. A rule names one collection and a filter over its documents' top-level fields; a
 * collection any rule names is served only through views.
 */
import type { z } from 'zod';
import { SyncError, issuesFromZod } from '../../shared/errors.js';
import type { Actor } from '../../shared/protocol.js';
import type { SyncSchema } from '../../shared/schema.js';
import { WRITER_FIELD } from '../stores/store.js';

export { WRITER_FIELD };

/** A filter value: a JSON scalar. */
export type Scalar = string | number | boolean | null;

/**
 * A filter over top-level fields: each field equals the scalar, or is one of `{ in: [...] }`.
 * All fields must match (AND); `{}` matches every document. A missing field counts as `null`.
 * The pseudo-field `$writer` (`WRITER_FIELD`) is the userId of the document's last writer (kept
 * by every store with the document and with each oplog entry), not a data field.
 */
export type Filter = Record<string, Scalar | { in: readonly Scalar[] }>;

/** What a rule's `where` and `allow` are given. */
export interface RuleContext<P> {
  actor: Actor;
  /** The view's parameters, parsed by the rule's `params` schema (`{}` for a rule without one). */
  params: P;
}

/** One read rule (see `SyncEngineOptions.rules`). */
export interface SyncRule<P extends z.ZodType = z.ZodType> {
  /** The collection the rule reads. */
  collection: string;
  /**
   * The top-level fields its filter may use: stores index them at start-up, and a filter naming
   * another field is refused. Without it the rule works, unindexed (a warning is logged once).
   */
  fields?: readonly string[];
  /** Zod schema (an object) of the view's parameters; a rule without one takes none. */
  params?: P;
  /** The filter; may be async and read outside state (then call `engine.refreshViews` when it changes). @default whole collection */
  where?: (ctx: RuleContext<z.output<P>>) => Filter | Promise<Filter>;
  /** Whether the actor may open this view; `false` answers FORBIDDEN. @default allowed */
  allow?: (ctx: RuleContext<z.output<P>>) => boolean | Promise<boolean>;
  /**
   * Only documents the actor wrote last: `{ $writer: actor.userId }` is added to `where`'s filter
   * (and `$writer` to `fields`, so stores index the writer). A document another user overwrites
   * leaves the view. The per-user visibility of fastapi-offline-sync (its oplog filtered by the
   * writing user); the compat face's `visibility: 'user'` serves through these rules. @default false
   * @example ownTasks: { collection: 'tasks', writer: true }
   */
  writer?: boolean;
}

/** Rules by name. */
export type SyncRules = Record<string, SyncRule<any>>;

/** A view request of rules `R`: one rule's name and its parameters (typed by the rule's `params`). */
export type ViewRequest<R> = {
  [K in keyof R & string]: R[K] extends { params: infer P extends z.ZodType }
    ? { rule: K; params: z.input<P> }
    : { rule: K; params?: Record<string, never> };
}[keyof R & string];

/** The views an actor gets by default (requests without `view`): names, or a function of the actor. */
export type DefaultViews<R> =
  | readonly (keyof R & string)[]
  | ((actor: Actor) => readonly ViewRequest<R>[] | Promise<readonly ViewRequest<R>[]>);

/**
 * Identity helper that types a rules object (so `createSyncEngine` infers each rule's params).
 *
 * @example
 * const rules = defineSyncRules({ mine: { collection: 'tasks', fields: ['assignee'], where: ({ actor }) => ({ assignee: actor.userId }) } });
 */
export function defineSyncRules<R extends SyncRules>(rules: R): R {
  return rules;
}

/** Field names a rule may declare: plain identifiers (safe in index names and queries), or `$writer`. */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
const fieldName = (field: string) =>
  field === WRITER_FIELD || (FIELD_NAME.test(field) && !field.startsWith('_sync_'));

/**
 * The fields a rule's filter may use: its `fields`, plus `$writer` for a `writer` rule; a
 * `writer` rule without `where` and `fields` uses `$writer` alone. `undefined`: any (unindexed).
 */
export function ruleFields(rule: SyncRule): readonly string[] | undefined {
  if (rule.fields)
    return rule.writer && !rule.fields.includes(WRITER_FIELD)
      ? [...rule.fields, WRITER_FIELD]
      : rule.fields;
  return rule.writer && !rule.where ? [WRITER_FIELD] : undefined;
}

/** The rules of an engine, checked against its schema. */
export interface CompiledRules {
  readonly rules: SyncRules;
  /** Collections some rule names (served only through views). */
  readonly ruled: ReadonlySet<string>;
  /**
   * Per ruled collection, the fields whose pre-image the oplog keeps (`null`: the whole previous
   * data, because some rule of it declares no fields).
   */
  readonly preImageFields: ReadonlyMap<string, readonly string[] | null>;
  /** Declared fields by collection, for the stores' indexes. */
  readonly indexes: { collection: string; fields: string[] }[];
  /** Rules that declare no fields (warned about once at start-up). */
  readonly unindexed: string[];
}

/** Checks rules at start-up (unknown collections, bad field names): a throw names the rule. */
export function compileRules(rules: SyncRules, schema: SyncSchema): CompiledRules {
  const ruled = new Set<string>();
  const pre = new Map<string, string[] | null>();
  const unindexed: string[] = [];
  for (const [name, rule] of Object.entries(rules)) {
    if (!rule || typeof rule !== 'object')
      throw new Error(`createSyncEngine: rules.${name} must be an object`);
    if (!schema.has(rule.collection)) {
      throw new Error(
        `createSyncEngine: rules.${name} names unknown collection "${rule.collection}"`,
      );
    }
    if (rule.writer !== undefined && typeof rule.writer !== 'boolean')
      throw new Error(`createSyncEngine: rules.${name}.writer must be a boolean`);
    for (const field of rule.fields ?? []) {
      if (!fieldName(field)) {
        throw new Error(
          `createSyncEngine: rules.${name}.fields: "${field}" is not a plain field name`,
        );
      }
    }
    ruled.add(rule.collection);
    const fields = ruleFields(rule);
    if (!fields) {
      unindexed.push(name);
      pre.set(rule.collection, null);
    } else if (pre.get(rule.collection) !== null) {
      pre.set(rule.collection, [...new Set([...(pre.get(rule.collection) ?? []), ...fields])]);
    }
  }
  const indexes = [...pre].flatMap(([collection]) => {
    const declared = new Set<string>();
    for (const rule of Object.values(rules)) {
      if (rule.collection === collection) for (const f of ruleFields(rule) ?? []) declared.add(f);
    }
    return declared.size > 0 ? [{ collection, fields: [...declared].sort() }] : [];
  });
  return { rules, ruled, preImageFields: pre, indexes, unindexed };
}

/** A resolved view: the rule's collection and the filter it gave for this actor and params. */
export interface ResolvedView {
  rule: string;
  collection: string;
  filter: Filter;
}

/**
 * Resolves a view request: the rule must be declared (else 400 `view.rule`), its params valid
 * (400 `view.params.<path>`), `allow` true (403), and its filter well formed and on declared
 * fields (a server error naming rule and field otherwise, since the rule is the server's code).
 */
export async function resolveView(
  compiled: CompiledRules,
  actor: Actor,
  view: { rule: string; params?: unknown },
): Promise<ResolvedView> {
  const name = view.rule;
  const rule = Object.hasOwn(compiled.rules, name) ? compiled.rules[name] : undefined;
  if (!rule) {
    throw new SyncError('BAD_REQUEST', `unknown view rule "${name}"`, [
      { path: 'view.rule', message: `no rule named "${name}" is declared` },
    ]);
  }
  let params: unknown = view.params ?? {};
  if (rule.params) {
    const parsed = rule.params.safeParse(params);
    if (!parsed.success) {
      const issues = issuesFromZod(parsed.error.issues, ['view', 'params']);
      throw new SyncError(
        'BAD_REQUEST',
        `invalid params for view "${name}": ${issues[0]?.path}: ${issues[0]?.message}`,
        issues,
      );
    }
    params = parsed.data;
  } else if (typeof params !== 'object' || params === null || Object.keys(params).length > 0) {
    throw new SyncError('BAD_REQUEST', `view "${name}" takes no params`, [
      { path: 'view.params', message: 'this rule takes no params' },
    ]);
  }
  const ctx = { actor, params };
  if (rule.allow && (await rule.allow(ctx)) !== true) {
    throw new SyncError('FORBIDDEN', `view "${name}" is not allowed for this user`, [
      { path: 'view.rule', message: 'not allowed' },
    ]);
  }
  const filter = rule.where ? await rule.where(ctx) : {};
  checkFilter(name, rule, filter);
  return {
    rule: name,
    collection: rule.collection,
    filter: rule.writer ? { ...filter, [WRITER_FIELD]: actor.userId } : filter,
  };
}

/** A filter a rule returned must be a plain object of scalars or `{ in }` on its declared fields. */
export function checkFilter(
  name: string,
  rule: SyncRule,
  filter: unknown,
): asserts filter is Filter {
  const refuse = (message: string) =>
    new SyncError('INTERNAL', `rule "${name}": ${message}`, [{ path: 'view.rule', message }]);
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw refuse('where must return an object');
  }
  const fields = ruleFields(rule);
  for (const [field, value] of Object.entries(filter)) {
    if (fields && !fields.includes(field)) {
      throw refuse(`filter on undeclared field "${field}" (declare it in fields)`);
    }
    if (field !== WRITER_FIELD && !FIELD_NAME.test(field))
      throw refuse(`"${field}" is not a plain field name`);
    const ok =
      isScalar(value) ||
      (typeof value === 'object' &&
        value !== null &&
        Array.isArray((value as { in?: unknown }).in) &&
        Object.keys(value).length === 1 &&
        (value as { in: unknown[] }).in.every(isScalar));
    if (!ok) throw refuse(`filter value of "${field}" must be a scalar or { in: scalar[] }`);
  }
}

function isScalar(v: unknown): v is Scalar {
  return (
    v === null ||
    typeof v === 'string' ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isFinite(v))
  );
}

/** Whether one field value equals a filter scalar (a missing field counts as null). */
function same(value: unknown, want: Scalar): boolean {
  if (want === null) return value === null || value === undefined;
  return value === want;
}

/** From this length on, an `{ in }` list is matched through a `Set` built once per list. */
const IN_SET_FROM = 16;
const inSets = new WeakMap<readonly Scalar[], ReadonlySet<unknown>>();

/** Whether a field value is one of an `{ in }` list (a missing field counts as null). */
function isIn(value: unknown, list: readonly Scalar[]): boolean {
  if (list.length < IN_SET_FROM) {
    for (const w of list) if (same(value, w)) return true;
    return false;
  }
  // A long list (memberships of a big organisation): one Set per list object, kept while the
  // filter lives (a stream's), so each match is O(1) instead of O(list) and allocates nothing.
  let set = inSets.get(list);
  if (!set) inSets.set(list, (set = new Set<unknown>(list)));
  return set.has(value === undefined ? null : value);
}

/**
 * Whether a document's data matches a filter (all fields; `{ in }` any of its values). `writer`:
 * the document's last writer, for `$writer` (`undefined`: not known, which never matches).
 */
export function matches(
  filter: Filter,
  data: Record<string, unknown> | null | undefined,
  writer?: string,
): boolean {
  if (!data) return false;
  // Plain loops, no allocation: the live feed runs this for every subscriber of every commit.
  for (const field in filter) {
    if (!Object.hasOwn(filter, field)) continue;
    const want = filter[field]!;
    const value =
      field === WRITER_FIELD ? writer : Object.hasOwn(data, field) ? data[field] : undefined;
    if (want !== null && typeof want === 'object') {
      if (!isIn(value, want.in)) return false;
    } else if (!same(value, want)) return false;
  }
  return true;
}

/** Whether a document matches any of the filters. */
export function matchesAny(
  filters: readonly Filter[],
  data: Record<string, unknown> | null | undefined,
  writer?: string,
): boolean {
  for (const f of filters) if (matches(f, data, writer)) return true;
  return false;
}

/**
 * One `writer` rule per collection of a schema (named `writer:<collection>`): each user sees only
 * the documents they last wrote, fastapi-offline-sync's per-user visibility. Spread it into
 * `rules` (with other rules if any) and name its rules in `defaultViews` for every face, or give
 * the compat face `visibility: 'user'` for that face alone.
 *
 * @example
 * const rules = writerRules(schema);
 * createSyncEngine({ store, schema, rules, defaultViews: Object.keys(rules) });
 */
export function writerRules<S extends SyncSchema>(schema: S): Record<`writer:${string}`, SyncRule> {
  const rules: Record<`writer:${string}`, SyncRule> = {};
  for (const collection of schema.names)
    rules[`writer:${collection}`] = { collection, writer: true };
  return rules;
}
