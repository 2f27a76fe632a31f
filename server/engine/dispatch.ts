/**
 * The live feed's dispatch index: which subscribers of a scope a commit can concern, found by
 * looking up the commit's entries instead of testing every subscriber. A view subscriber is
 * registered under keys its plan derives (its filters' field values, its userId for its own writes
 * and `refreshViews` markers, its whole collections); a commit's entries give the keys to look up.
 * The answer is a superset: each candidate still runs its exact test (`planShows`), and a
 * subscriber whose plan has no keys (a filter on `$writer` alone, or none) is always a candidate.
 * One commit to 1,000 view subscribers of which 10 match then costs 10 exact tests and a cheap
 * "passed over" mark for the other 990.
 */
import type { OplogEntry } from '../stores/store.js';
import { WRITER_FIELD } from './rules.js';
import { VIEWS_MARKER, type ReadPlan } from './views.js';

/** A scalar's key (a missing field and `null` are one key, as the filters treat them). */
function valueKey(value: unknown): string | null {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return `s${value}`;
    case 'number':
      return `n${value}`;
    case 'boolean':
      return `b${value}`;
    default:
      return null; // objects and arrays match no filter value
  }
}

const valueOf = (collection: string, field: string, key: string) =>
  `v\u0000${collection}\u0000${field}\u0000${key}`;

/** The keys a plan is found under, and the fields it reads per collection; null: not indexable. */
export interface PlanKeys {
  keys: string[];
  fields: Map<string, Set<string>>;
}

/**
 * A plan's keys: each filter of each filtered collection under the values of one of its fields
 * (the first that is not `$writer`), whole collections (and filters without fields) under the
 * collection, filtered ones under the collection too (for entries with no pre-image), and the
 * reader under its userId (own writes, `refreshViews` markers). Null when a filter names only
 * `$writer` (no field to look up).
 */
export function planKeys(plan: ReadPlan): PlanKeys | null {
  const keys = [`u\u0000${plan.userId}`];
  const fields = new Map<string, Set<string>>();
  for (const [collection, spec] of plan.specs) {
    if (spec === 'all') {
      keys.push(`c\u0000${collection}`);
      continue;
    }
    if (spec.length > 0) keys.push(`f\u0000${collection}`);
    for (const filter of spec) {
      const names = Object.keys(filter);
      if (names.length === 0) {
        keys.push(`c\u0000${collection}`); // matches every document, like a whole collection
        continue;
      }
      const field = names.find((f) => f !== WRITER_FIELD);
      if (field === undefined) return null;
      const want = filter[field]!;
      const values = want !== null && typeof want === 'object' ? want.in : [want];
      for (const v of values) keys.push(valueOf(collection, field, valueKey(v)!));
      if (!fields.has(collection)) fields.set(collection, new Set());
      fields.get(collection)!.add(field);
    }
  }
  return { keys, fields };
}

/** Per scope: subscribers by key, and the fields registered per collection. */
export class DispatchIndex<S> {
  private readonly byKey = new Map<string, Set<S>>();
  private readonly registered = new Map<S, PlanKeys>();
  /** collection → field → number of registrations (a field is looked up while one plan reads it). */
  private readonly fieldCounts = new Map<string, Map<string, number>>();

  get size(): number {
    return this.registered.size;
  }

  has(sub: S): boolean {
    return this.registered.has(sub);
  }

  add(sub: S, plan: PlanKeys): void {
    this.remove(sub);
    this.registered.set(sub, plan);
    for (const key of plan.keys) {
      let set = this.byKey.get(key);
      if (!set) this.byKey.set(key, (set = new Set()));
      set.add(sub);
    }
    for (const [collection, fields] of plan.fields) {
      let counts = this.fieldCounts.get(collection);
      if (!counts) this.fieldCounts.set(collection, (counts = new Map()));
      for (const f of fields) counts.set(f, (counts.get(f) ?? 0) + 1);
    }
  }

  remove(sub: S): void {
    const plan = this.registered.get(sub);
    if (!plan) return;
    this.registered.delete(sub);
    for (const key of plan.keys) {
      const set = this.byKey.get(key);
      set?.delete(sub);
      if (set && set.size === 0) this.byKey.delete(key);
    }
    for (const [collection, fields] of plan.fields) {
      const counts = this.fieldCounts.get(collection)!;
      for (const f of fields) {
        const n = counts.get(f)! - 1;
        if (n === 0) counts.delete(f);
        else counts.set(f, n);
      }
      if (counts.size === 0) this.fieldCounts.delete(collection);
    }
  }

  /** The registered subscribers the entries may concern (a superset of those they do). */
  candidates(entries: readonly OplogEntry[]): Set<S> {
    const out = new Set<S>();
    const take = (key: string) => {
      const set = this.byKey.get(key);
      if (set) for (const s of set) out.add(s);
    };
    for (const e of entries) {
      if (e.collection === VIEWS_MARKER) {
        take(`u\u0000${e.id}`);
        continue;
      }
      take(`u\u0000${e.actor}`);
      take(`c\u0000${e.collection}`);
      if (e.before === undefined) take(`f\u0000${e.collection}`);
      const fields = this.fieldCounts.get(e.collection);
      if (!fields) continue;
      for (const field of fields.keys()) {
        const after = e.data
          ? valueKey(Object.hasOwn(e.data, field) ? e.data[field] : undefined)
          : null;
        if (after !== null && e.data) take(valueOf(e.collection, field, after));
        if (e.before) {
          const before = valueKey(Object.hasOwn(e.before, field) ? e.before[field] : undefined);
          if (before !== null) take(valueOf(e.collection, field, before));
        }
      }
    }
    return out;
  }
}
