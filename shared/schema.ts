/** `defineSyncSchema()`: the collections an app syncs, typed for the server and the client alike. */
import { z } from 'zod';
import { collectionName } from './protocol.js';
import type { SyncIssue } from './errors.js';

/** A zod object schema per collection name. */
export type CollectionSchemas = Record<string, z.ZodObject>;

/** Prefix of the reserved metadata fields; document data may not use it. */
export const RESERVED_PREFIX = '_sync_';

/** The app's collections and their document schemas. */
export interface SyncSchema<C extends CollectionSchemas = CollectionSchemas> {
  readonly collections: C;
  /**
   * The schema's version (a positive integer, raised when a change needs new clients), sent by
   * clients as `schemaVersion` / `X-Sync-Schema-Version`; `undefined`: unversioned.
   */
  readonly version: number | undefined;
  /** Collection names, sorted. */
  readonly names: readonly string[];
  /** True when `name` is a collection of this schema. */
  has(name: string): boolean;
  /** Validates whole-document data; returns the parsed document (defaults applied) or issues. */
  parseDocument(
    collection: string,
    data: unknown,
  ): { ok: true; data: Record<string, unknown> } | { ok: false; issues: SyncIssue[] };
  /** Validates a JSON merge patch (`null` removes an optional field). */
  parsePatch(
    collection: string,
    patch: Record<string, unknown>,
  ): { ok: true; data: Record<string, unknown> } | { ok: false; issues: SyncIssue[] };
}

/** Options of `defineSyncSchema`. */
export interface SyncSchemaOptions {
  /**
   * Version of this schema, a positive integer. Clients send it with every request; a server
   * whose engine sets `minSchemaVersion` above it answers `UPGRADE_REQUIRED`. @default undefined (unversioned)
   */
  version?: number;
}

/** Document type of a collection (after defaults). */
export type DocOf<S extends SyncSchema, K extends keyof S['collections']> = z.output<
  S['collections'][K]
>;

/** A JSON merge patch of a document type: any subset of fields, `null` removes one. */
export type PatchOf<T> = { [F in keyof T]?: T[F] | null };

/** The fields every change carries besides its collection, op and data. */
export type ChangeMeta = {
  mutationId: number;
  id: string;
  baseVersion?: string | null;
  hlc?: string | null;
};

/** One typed change: the collection name decides the shape of `data`. */
export type TypedChange<S extends SyncSchema> = {
  [K in keyof S['collections'] & string]: ChangeMeta & { collection: K } & (
      | { op: 'upsert'; data: z.input<S['collections'][K]> }
      | { op: 'patch'; data: PatchOf<z.input<S['collections'][K]>> }
      | { op: 'delete'; data?: null }
    );
}[keyof S['collections'] & string];

/** The typed push input of a schema. */
export interface TypedPushInput<S extends SyncSchema> {
  clientId: string;
  atomic?: boolean;
  changes: TypedChange<S>[];
  /** The client's schema version (`schema.version`). */
  schemaVersion?: number | null;
}

function zodIssues(error: z.ZodError, prefix: string[] = []): SyncIssue[] {
  return error.issues.map((i) => ({
    path: [...prefix, ...i.path.map(String)].join('.'),
    message: i.message,
  }));
}

function reservedIssues(data: Record<string, unknown>): SyncIssue[] {
  return Object.keys(data)
    .filter((k) => k.startsWith(RESERVED_PREFIX))
    .map((k) => ({
      path: k,
      message: `field names starting with ${RESERVED_PREFIX} are reserved`,
    }));
}

/**
 * Declares the synced collections.
 *
 * @example
 * const schema = defineSyncSchema({
 *   tasks: z.object({ title: z.string(), done: z.boolean().default(false) }),
 *   notes: z.object({ body: z.string() }),
 * }, { version: 2 });
 */
export function defineSyncSchema<C extends CollectionSchemas>(
  collections: C,
  options: SyncSchemaOptions = {},
): SyncSchema<C> {
  const { version } = options;
  if (version !== undefined && !(Number.isSafeInteger(version) && version > 0)) {
    throw new Error(`defineSyncSchema: version must be a positive integer, got ${String(version)}`);
  }
  for (const name of Object.keys(collections)) {
    const check = collectionName.safeParse(name);
    if (!check.success)
      throw new Error(
        `defineSyncSchema: collection name "${name}" ${check.error.issues[0]?.message}`,
      );
    if (!(collections[name] instanceof z.ZodObject))
      throw new Error(`defineSyncSchema: collection "${name}" must be a z.object(...)`);
  }
  const names = Object.keys(collections).sort();
  const partials = new Map<string, z.ZodObject>();
  const optional = new Map<string, Set<string>>();
  for (const name of names) {
    const obj = collections[name]!;
    partials.set(name, obj.partial());
    optional.set(
      name,
      new Set(Object.keys(obj.shape).filter((k) => obj.shape[k]!.safeParse(undefined).success)),
    );
  }
  return {
    collections,
    version,
    names,
    has(name: string): boolean {
      return Object.prototype.hasOwnProperty.call(collections, name);
    },
    parseDocument(collection, data) {
      const reserved =
        typeof data === 'object' && data !== null
          ? reservedIssues(data as Record<string, unknown>)
          : [];
      if (reserved.length > 0) return { ok: false, issues: reserved };
      const result = collections[collection]!.safeParse(data);
      return result.success
        ? { ok: true, data: result.data as Record<string, unknown> }
        : { ok: false, issues: zodIssues(result.error) };
    },
    parsePatch(collection, patch) {
      const reserved = reservedIssues(patch);
      if (reserved.length > 0) return { ok: false, issues: reserved };
      const issues: SyncIssue[] = [];
      const values: Record<string, unknown> = {};
      const removals: string[] = [];
      const canRemove = optional.get(collection)!;
      for (const [key, value] of Object.entries(patch)) {
        if (value === null && key in collections[collection]!.shape && !canRemove.has(key)) {
          // A required field may hold null only if its schema accepts null.
          if (!collections[collection]!.shape[key]!.safeParse(null).success) {
            issues.push({ path: key, message: 'a required field cannot be removed (null)' });
          } else values[key] = null;
        } else if (value === null) removals.push(key);
        else values[key] = value;
      }
      const result = partials.get(collection)!.safeParse(values);
      if (!result.success) issues.push(...zodIssues(result.error));
      if (issues.length > 0) return { ok: false, issues };
      const out = { ...(result as { data: Record<string, unknown> }).data };
      for (const key of Object.keys(out)) if (!(key in values)) delete out[key]; // drop defaults partial() added
      for (const key of removals) if (key in collections[collection]!.shape) out[key] = null;
      return { ok: true, data: out };
    },
  };
}
