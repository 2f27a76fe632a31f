/** Per-collection authorization of reads and pushes: which collections an actor may use for an operation. */
import { SyncError } from '../../shared/errors.js';
import type { Actor } from '../../shared/protocol.js';
import type { SyncSchema } from '../../shared/schema.js';

/** The operation a collection is asked for. */
export type CollectionOp = 'push' | 'pull' | 'full' | 'stream';

/**
 * Per-collection permission hook: `true` allows the actor to use `collection` for `op`. A denied
 * collection answers `FORBIDDEN` (403) when the request names it, and is left out silently when
 * the request names no collections (pull, full and stream alike).
 */
export type AuthorizeCollection = (args: {
  actor: Actor;
  collection: string;
  op: CollectionOp;
}) => boolean | Promise<boolean>;

/**
 * The collections a read may touch: `undefined` = every collection (no hook, or nothing denied),
 * otherwise the allowed list (possibly empty). Throws `FORBIDDEN` for a named, denied collection.
 */
export async function readableCollections(
  hook: AuthorizeCollection | undefined,
  schema: SyncSchema,
  actor: Actor,
  op: CollectionOp,
  requested: readonly string[] | undefined,
): Promise<readonly string[] | undefined> {
  const named = requested && requested.length > 0 ? requested : undefined;
  if (!hook) return named;
  if (named) {
    await assertCollections(hook, actor, op, named);
    return named;
  }
  const allowed: string[] = [];
  for (const name of schema.names)
    if ((await hook({ actor, collection: name, op })) === true) allowed.push(name);
  return allowed.length === schema.names.length ? undefined : allowed;
}

/** Throws `FORBIDDEN` naming every denied collection of `names` (with its index as the path). */
export async function assertCollections(
  hook: AuthorizeCollection,
  actor: Actor,
  op: CollectionOp,
  names: readonly string[],
  path = 'collections',
): Promise<void> {
  const verdicts = new Map<string, boolean>();
  const issues = [];
  for (const [i, name] of names.entries()) {
    if (!verdicts.has(name))
      verdicts.set(name, (await hook({ actor, collection: name, op })) === true);
    if (!verdicts.get(name))
      issues.push({
        path: `${path}.${i}`,
        message: `${op} of collection "${name}" is not allowed`,
      });
  }
  if (issues.length > 0)
    throw new SyncError(
      'FORBIDDEN',
      `${op} not allowed for collection ${issues
        .map((i) => i.message.match(/"[^"]*"/)![0])
        .filter((v, i, a) => a.indexOf(v) === i)
        .join(', ')}`,
      issues,
    );
}
