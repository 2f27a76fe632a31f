/** Schema-version gating: refuses clients older than `minSchemaVersion` with UPGRADE_REQUIRED before anything is read or written. */
import { SyncError } from '../../shared/errors.js';
import { schemaVersion as schemaVersionField } from '../../shared/protocol.js';

/** What the gate enforces, resolved once from the engine options. */
export interface SchemaVersionPolicy {
  /** Oldest accepted client version, or null (any version). */
  min: number | null;
  /** Refuse requests that carry no version. */
  require: boolean;
}

/** Checks and resolves `minSchemaVersion` / `requireSchemaVersion` (a bad option throws at start-up). */
export function resolveSchemaVersionPolicy(
  options: { minSchemaVersion?: number; requireSchemaVersion?: boolean },
  schemaVersion: number | undefined,
): SchemaVersionPolicy {
  const { minSchemaVersion: min, requireSchemaVersion: require = false } = options;
  if (min !== undefined && !schemaVersionField.safeParse(min).success) {
    throw new Error(
      `createSyncEngine: option minSchemaVersion must be a positive integer, got ${String(min)}`,
    );
  }
  if (min !== undefined && schemaVersion !== undefined && min > schemaVersion) {
    throw new Error(
      `createSyncEngine: option minSchemaVersion (${min}) is above the schema's own version (${schemaVersion}): no client could sync`,
    );
  }
  if (typeof require !== 'boolean')
    throw new Error('createSyncEngine: option requireSchemaVersion must be a boolean');
  return { min: min ?? null, require };
}

/** The `schemaVersion` field of an input object, if any (not yet validated). */
export function schemaVersionOf(input: unknown): unknown {
  return typeof input === 'object' && input !== null
    ? (input as { schemaVersion?: unknown }).schemaVersion
    : undefined;
}

/**
 * Throws UPGRADE_REQUIRED when `version` is older than the policy allows (or absent while a
 * version is required), BAD_REQUEST when it is not a positive integer; returns otherwise.
 */
export function checkSchemaVersion(policy: SchemaVersionPolicy, version: unknown): void {
  if (version === undefined || version === null) {
    if (!policy.require) return;
    throw new SyncError(
      'UPGRADE_REQUIRED',
      `upgrade required: this server needs the client's schema version (schemaVersion, or the X-Sync-Schema-Version header)${policy.min === null ? '' : `, at least ${policy.min}`}`,
      [{ path: 'schemaVersion', message: 'required' }],
      policy.min === null ? undefined : { minSchemaVersion: policy.min },
    );
  }
  const parsed = schemaVersionField.safeParse(version);
  if (!parsed.success) {
    const message = parsed.error.issues[0]?.message ?? 'must be a positive integer';
    throw new SyncError('BAD_REQUEST', `schemaVersion: ${message}`, [
      { path: 'schemaVersion', message },
    ]);
  }
  if (policy.min !== null && parsed.data < policy.min) {
    throw new SyncError(
      'UPGRADE_REQUIRED',
      `upgrade required: schema version ${parsed.data} is older than the oldest this server accepts (${policy.min}); update the app (pending changes are kept)`,
      [{ path: 'schemaVersion', message: `must be at least ${policy.min}` }],
      { minSchemaVersion: policy.min },
    );
  }
}
