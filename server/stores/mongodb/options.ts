// Options of the MongoDB store: one type, defaults merged and validated once.
import { z } from 'zod';
import { DEFAULT_PREFIX } from './collections.js';

/** Options of `mongoStore()`. */
export interface MongoStoreOptions {
  /**
   * Whether pushes run in MongoDB transactions. `'auto'` asks the server (`hello`) in `init()`: a
   * replica set member or a mongos gets transactions; a standalone server gets the lease path
   * (see docs/mongodb.md). `true` on a standalone server makes every push fail, as the server
   * refuses transactions.
   * @default 'auto'
   */
  transactions?: 'auto' | boolean;
  /**
   * @deprecated Ignored. Earlier versions put a TTL index on `sync_oplog.at`; the TTL monitor
   * deleted history without moving horizons, so `init()` now drops that index and only the
   * engine's `prune()` (which moves the horizon first) deletes oplog entries.
   */
  retentionSeconds?: number;
  /**
   * Maps a synced collection name to the MongoDB collection holding its documents, so existing
   * app collections keep their data (`(c) => \`app_${c}\``). Must be one-to-one.
   * @default identity
   */
  collectionName?: (collection: string) => string;
  /**
   * Synced collections whose index (`{_sync_scope_id, _sync_id}`, unique) `init()` creates up
   * front (with those already listed on scope documents). A collection first written later gets
   * its index before its first write.
   * @default []
   */
  collections?: readonly string[];
  /**
   * Prefix of the store's own collections (`sync_meta`, `sync_scopes`, `sync_oplog`,
   * `sync_clients`, `sync_mutations`). Change it when another program already uses one of these
   * names in the database (e.g. a fastapi-offline-sync server's `sync_oplog`).
   * @default 'sync_'
   */
  collectionPrefix?: string;
  /** `maxCommitTimeMS` of every push transaction: a commit that takes longer fails (and is retried by the driver when its outcome is unknown). @default 10_000 */
  commitTimeoutMs?: number;
  /**
   * How long a push waits for its scope while another writer holds it (a transaction that write-conflicts,
   * or a standalone lease) before it answers `UNAVAILABLE`. @default 30_000
   */
  lockWaitMs?: number;
}

/** Options after defaults were merged. */
export interface ResolvedMongoOptions {
  transactions: 'auto' | boolean;
  collectionName: (collection: string) => string;
  collections: readonly string[];
  collectionPrefix: string;
  commitTimeoutMs: number;
  lockWaitMs: number;
}

const positiveInt = z.number().int('must be an integer').positive('must be positive');

const optionsSchema = z.object({
  transactions: z.union([z.literal('auto'), z.boolean()]).default('auto'),
  retentionSeconds: positiveInt.optional(),
  collectionName: z
    .custom<(collection: string) => string>((v) => typeof v === 'function', 'must be a function')
    .default(() => (collection: string) => collection),
  collections: z.array(z.string().min(1)).default([]),
  collectionPrefix: z
    .string()
    .regex(
      /^[A-Za-z_][A-Za-z0-9_]{0,40}$/,
      'must be letters, digits or _ (at most 41), not starting with a digit',
    )
    .default(DEFAULT_PREFIX),
  commitTimeoutMs: positiveInt.default(10_000),
  lockWaitMs: positiveInt.default(30_000),
});

/** Merges defaults and validates; a bad option throws naming the option. */
export function resolveOptions(options: MongoStoreOptions = {}): ResolvedMongoOptions {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TypeError(`mongoStore: option ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const { retentionSeconds: _ignored, ...rest } = parsed.data;
  return rest;
}
