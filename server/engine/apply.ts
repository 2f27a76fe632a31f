/** Applies one change to a document's state: authorize, delete policy, resolver or LWW merge, validation. */
import type { Actor, PushResult } from '../../shared/protocol.js';
import type { RejectionCode } from '../../shared/errors.js';
import type { SyncSchema } from '../../shared/schema.js';
import {
  applyDelete,
  applyPatch,
  applyUpsert,
  DELETED_KEY,
  jsonEqual,
  versionOf,
  type DocState,
} from './merge.js';
import type { Authorize, DeletePolicy, Resolver } from './types.js';
import { exceedsBytes, type ValidChange } from './validate.js';

/** A validated change with the HLC it is applied at. */
export interface StampedChange extends ValidChange {
  stamp: string;
  /**
   * For collections with a resolver: the data at `baseVersion`, read before the transaction
   * (oplog entries never change, and an embedded single-connection store cannot read outside
   * its open transaction). `undefined`: not known.
   */
  base?: Record<string, unknown> | null;
  /** Digest of the change as sent (see `changeDigest`), kept in the ledger; absent for server writes. */
  digest?: string;
}

/** What `applyOne` needs from the engine. */
export interface ApplyContext {
  schema: SyncSchema;
  scope: string;
  actor: Actor;
  maxDocumentBytes: number;
  /** See `SyncLimits.maxMutationIdGap`. */
  maxMutationIdGap: number;
  deletePolicy: (collection: string) => DeletePolicy;
  resolvers: Partial<Record<string, Resolver>>;
  authorize?: Authorize;
  /** False: keep no integrity checksums (`SyncEngineOptions.integrity`). */
  integrity?: boolean;
  /**
   * Collections with read rules: the fields of each oplog entry's pre-image to keep (`null`: the
   * whole previous data). Entries of other collections keep none.
   */
  preImage?: ReadonlyMap<string, readonly string[] | null>;
}

/** The outcome of one change: its result and the document state to store. */
export interface Applied {
  result: PushResult;
  after: DocState;
}

function publicChange(change: StampedChange) {
  const { parsed: _parsed, stamp: _stamp, base: _base, digest: _digest, ...rest } = change;
  return rest;
}

function reject(
  change: StampedChange,
  before: DocState,
  code: RejectionCode,
  message: string,
): Applied {
  return {
    result: {
      mutationId: change.mutationId,
      collection: change.collection,
      id: change.id,
      status: 'rejected',
      error: { code, message },
    },
    after: before,
  };
}

/** The state a resolver's answer leads to: changed fields stamped with the change's HLC. */
function resolvedState(before: DocState, data: Record<string, unknown>, hlc: string): DocState {
  const next: DocState = { data: {}, fields: { ...before.fields }, deleted: false, exists: true };
  for (const field of Object.keys(before.data)) if (!(field in data)) next.fields[field] = hlc;
  for (const [field, value] of Object.entries(data)) {
    next.data[field] = value;
    if (!before.exists || before.deleted || !jsonEqual(before.data[field], value))
      next.fields[field] = hlc;
  }
  if (before.deleted) next.fields[DELETED_KEY] = hlc;
  return next;
}

/** Applies `change` to `before`; never throws for a per-change refusal (those are `rejected`). */
export async function applyOne(
  ctx: ApplyContext,
  change: StampedChange,
  before: DocState,
): Promise<Applied> {
  const live = before.exists && !before.deleted;
  const current = live ? before.data : null;
  if (ctx.authorize) {
    const verdict = await ctx.authorize({
      actor: ctx.actor,
      change: publicChange(change),
      current,
    });
    if (verdict !== true)
      return reject(
        change,
        before,
        'FORBIDDEN',
        typeof verdict === 'string' ? verdict : 'not allowed to change this document',
      );
  }
  const policy = ctx.deletePolicy(change.collection);
  const base = { mutationId: change.mutationId, collection: change.collection, id: change.id };
  if (
    change.op !== 'delete' &&
    before.exists &&
    before.deleted &&
    policy !== 'resurrect_on_update'
  ) {
    if (policy === 'reject_update')
      return reject(
        change,
        before,
        'DELETE_REJECTED',
        'the document is deleted and deletePolicy is reject_update',
      );
    return {
      result: { ...base, status: 'conflict_resolved', version: versionOf(before), doc: null },
      after: before,
    };
  }

  let after: DocState;
  let intended: Record<string, unknown> | null = null;
  let asSent = false;
  const resolver = ctx.resolvers[change.collection];
  if (change.op === 'delete') {
    after = applyDelete(before, change.stamp, policy !== 'resurrect_on_update');
  } else if (resolver) {
    const incoming =
      change.op === 'upsert' ? change.parsed! : mergePatch(current ?? {}, change.parsed!);
    const answer = await resolver({
      actor: ctx.actor,
      collection: change.collection,
      id: change.id,
      current,
      incoming,
      base: change.base,
      change: publicChange(change),
    });
    if (typeof (answer as { reject?: unknown }).reject === 'string')
      return reject(change, before, 'RESOLVER_REJECTED', (answer as { reject: string }).reject);
    const checked = ctx.schema.parseDocument(change.collection, answer);
    if (!checked.ok)
      return reject(
        change,
        before,
        'INVALID_DOCUMENT',
        `resolver returned an invalid document: ${describe(checked.issues)}`,
      );
    after = resolvedState(before, checked.data, change.stamp);
    intended = incoming;
  } else {
    after =
      change.op === 'upsert'
        ? applyUpsert(before, change.parsed!, change.stamp)
        : applyPatch(before, change.parsed!, change.stamp);
    // An upsert stored exactly as sent was validated and size-checked with the request.
    asSent = change.op === 'upsert' && !after.deleted && jsonEqual(after.data, change.parsed);
    if (!after.deleted && !asSent) {
      const checked = ctx.schema.parseDocument(change.collection, after.data);
      if (!checked.ok)
        return reject(
          change,
          before,
          'INVALID_DOCUMENT',
          `the merged document is invalid: ${describe(checked.issues)}`,
        );
      // Defaults the schema filled in become writes of this change.
      for (const [field, value] of Object.entries(checked.data)) {
        if (!(field in after.data)) {
          after.data[field] = value;
          after.fields[field] = change.stamp;
        }
      }
    }
  }
  if (!after.deleted && !asSent && exceedsBytes(after.data, ctx.maxDocumentBytes)) {
    return reject(
      change,
      before,
      'INVALID_DOCUMENT',
      `the merged document is above limits.maxDocumentBytes (${ctx.maxDocumentBytes})`,
    );
  }

  const met = intentMet(change, after, intended);
  const result: PushResult = {
    ...base,
    status: met ? 'accepted' : 'conflict_resolved',
    version: versionOf(after),
  };
  if (!met) result.doc = after.deleted ? null : { ...after.data };
  return { result, after };
}

function intentMet(
  change: StampedChange,
  after: DocState,
  intended: Record<string, unknown> | null,
): boolean {
  if (change.op === 'delete') return after.deleted;
  if (after.deleted) return false;
  if (intended) return jsonEqual(after.data, intended);
  if (change.op === 'upsert') return jsonEqual(after.data, change.parsed);
  return Object.entries(change.parsed!).every(([field, value]) =>
    value === null ? !(field in after.data) : jsonEqual(after.data[field], value),
  );
}

function mergePatch(
  current: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...current };
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) delete out[field];
    else out[field] = value;
  }
  return out;
}

function describe(issues: { path: string; message: string }[]): string {
  return issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
}
