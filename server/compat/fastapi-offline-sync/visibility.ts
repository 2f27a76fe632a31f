/**
 * Per-user visibility of the fastapi-offline-sync face (`visibility: 'user'`): that package filters
 * its oplog by the writing user, so a user sees the documents they last wrote. Here it is served
 * through the engine's rules: every request of the face gets, as its default views, the engine's
 * `writer` rules (rules with `writer: true` and no params), one or more per collection.
 */
import type { SyncEngine } from '../../engine/types.js';

/** What the compat face shows each user: everything of the scope, or only what they wrote last. */
export type CompatVisibility = 'all' | 'user';

/** A view request of the engine's rules. */
type ViewRef = { rule: string };

/**
 * The default views the face passes to the engine (`undefined` for `all`: the engine's own). For
 * `user`, every collection of the schema needs a `writer` rule; a missing one throws at start-up
 * naming the collections (serving them whole would show other users' documents).
 */
export function compatDefaultViews(
  engine: SyncEngine<any, any>,
  visibility: CompatVisibility | undefined,
): ViewRef[] | undefined {
  if (visibility === undefined || visibility === 'all') return undefined;
  if (visibility !== 'user')
    throw new Error(
      `fastapi-offline-sync face: visibility must be 'all' or 'user', not ${JSON.stringify(visibility)}`,
    );
  const rules = Object.entries(
    (engine.rules ?? {}) as Record<
      string,
      { collection: string; writer?: boolean; params?: unknown }
    >,
  );
  const views = rules.filter(([, r]) => r.writer === true && r.params === undefined);
  const covered = new Set(views.map(([, r]) => r.collection));
  const missing = engine.schema.names.filter((c: string) => !covered.has(c));
  if (missing.length > 0) {
    throw new Error(
      `fastapi-offline-sync face: visibility 'user' needs a writer rule for every collection; missing: ${missing.join(', ')} ` +
        `(e.g. rules: { ${missing[0]}Mine: { collection: '${missing[0]}', writer: true } }, or writerRules(schema))`,
    );
  }
  return views.map(([rule]) => ({ rule }));
}
