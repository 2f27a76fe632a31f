// Options of the MongoDB store: one type, defaults merged and validated once.
import { z } from 'zod';

/** Options of `mongoStore()`. */
export interface MongoStoreOptions {
  /**
   * Whether pushes run in MongoDB transactions. `'auto'` asks the server (`hello`) in `init()`: a
   * replica set member or a mongos gets transactions; a standalone server gets the best-effort
   * path (writes applied in order under a scope lease, no atomic batches; see docs/mongodb.md).
   * `true` on a standalone server makes every push fail, as the server refuses transactions.
   * @default 'auto'
   */
  transactions?: 'auto' | boolean;
  /**
   * Expiry of the TTL index on `sync_oplog.at`, in seconds. It is a storage backstop only: the
   * engine's `prune()` deletes old entries first and advances each scope's horizon, which the TTL
   * monitor cannot do. Keep it above the engine's `retention.maxAgeMs` plus its prune interval,
   * otherwise the TTL monitor removes entries before the horizon moves and a client offline for
   * longer could miss them; the default is the engine's 30 days plus one day of margin.
   * @default 2_678_400 (31 days)
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
   * front. Other collections get it right after their first committed write.
   * @default []
   */
  collections?: readonly string[];
}

/** Options after defaults were merged. */
export interface ResolvedMongoOptions {
  transactions: 'auto' | boolean;
  retentionSeconds: number;
  collectionName: (collection: string) => string;
  collections: readonly string[];
}

const DEFAULT_RETENTION_SECONDS = 31 * 24 * 60 * 60;

const optionsSchema = z.object({
  transactions: z.union([z.literal('auto'), z.boolean()]).default('auto'),
  retentionSeconds: z.number().int('must be an integer').positive('must be positive').default(DEFAULT_RETENTION_SECONDS),
  collectionName: z
    .custom<(collection: string) => string>((v) => typeof v === 'function', 'must be a function')
    .default(() => (collection: string) => collection),
  collections: z.array(z.string().min(1)).default([]),
});

/** Merges defaults and validates; a bad option throws naming the option. */
export function resolveOptions(options: MongoStoreOptions = {}): ResolvedMongoOptions {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TypeError(`mongoStore: option ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
