// How a synced document sits in the app's MongoDB collection: data fields at top level, flat `_sync_*` metadata.
import { ObjectId, type Document } from 'mongodb';
import { SyncError } from '../../../shared/errors.js';
import type { StoredDoc } from '../store.js';

/**
 * Metadata field names. The first four are the names existing FastAPI/MongoDB sync deployments
 * already use, so their documents stay readable in place.
 */
export const META = {
  id: '_sync_id',
  scope: '_sync_scope_id',
  version: '_sync_version',
  actor: '_sync_actor_id',
  deleted: '_sync_deleted',
  seq: '_sync_seq',
  fields: '_sync_fields',
  /** Present (true) only when `data` is `null`, which an empty object at top level cannot express. */
  dataNull: '_sync_data_null',
} as const;

/** The document as stored: `_id` is MongoDB's own (left to the app), the sync id is `_sync_id`. */
export function toMongoDoc(doc: StoredDoc): Document {
  const out: Document = {};
  if (doc.data) {
    for (const [key, value] of Object.entries(doc.data)) {
      // `_id` belongs to MongoDB and `_sync_*` to the metadata; storing them would corrupt either.
      if (key === '_id' || key.startsWith('_sync_') || key.startsWith('$')) {
        throw new SyncError(
          'BAD_REQUEST',
          `${doc.collection}/${doc.id}: field "${key}" is reserved by the MongoDB store`,
          [{ path: `data.${key}`, message: 'reserved field name' }],
        );
      }
      out[key] = value;
    }
  }
  out[META.id] = doc.id;
  out[META.scope] = doc.scope;
  out[META.version] = doc.version;
  out[META.actor] = doc.actor;
  out[META.deleted] = doc.deleted;
  out[META.seq] = doc.seq;
  out[META.fields] = doc.fields;
  if (doc.data === null) out[META.dataNull] = true;
  return out;
}

/**
 * The sync id of a stored document: `_sync_id`, or for a document another program wrote without
 * it (e.g. a fastapi-offline-sync server), the string form of `_id` (an ObjectId's 24 hex digits).
 */
export function syncIdOf(raw: Document): string {
  const id = raw[META.id];
  return id === undefined || id === null ? String(raw._id) : String(id);
}

/** The `_id` values a document stored without `_sync_id` may have for this sync id (the string, and an ObjectId when it is 24 hex digits). */
export function legacyIdCandidates(id: string): unknown[] {
  return /^[0-9a-f]{24}$/.test(id) ? [id, new ObjectId(id)] : [id];
}

/** Reads a stored document back; every field that is not `_id` or `_sync_*` is data. */
export function fromMongoDoc(collection: string, raw: Document): StoredDoc {
  let data: Record<string, unknown> | null = null;
  if (raw[META.dataNull] !== true) {
    data = {};
    for (const [key, value] of Object.entries(raw)) {
      if (key !== '_id' && !key.startsWith('_sync_')) data[key] = value;
    }
  }
  return {
    collection,
    id: syncIdOf(raw),
    scope: String(raw[META.scope]),
    data,
    fields: (raw[META.fields] ?? {}) as Record<string, string>,
    version: String(raw[META.version]),
    seq: Number(raw[META.seq] ?? 0),
    deleted: raw[META.deleted] === true,
    actor: String(raw[META.actor] ?? ''),
  };
}
