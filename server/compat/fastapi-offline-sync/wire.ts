/** The fastapi-offline-sync wire shapes (snake_case) and the mapping between them and our protocol's shapes. */
import { z } from 'zod';
import { isHlc } from '../../../shared/hlc.js';
import type { ChangeOut, FullDoc, PushResult } from '../../../shared/protocol.js';
import { collectionName, documentId, jsonObject } from '../../../shared/protocol.js';

/** One change of a `POST /sync/push` body, as that package's clients send it. */
export const compatChange = z.object({
  collection: collectionName,
  operation: z.enum(['upsert', 'delete']),
  doc_id: documentId,
  data: jsonObject.nullish(),
  parent_version: z
    .string()
    .refine(isHlc, 'must be a version (HLC) like 20260502T120000.000Z-0001-a1b2')
    .nullish(),
});

/** The `POST /sync/push` body. */
export const compatPushBody = z.object({
  client_id: z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters'),
  changes: z.array(compatChange),
});
export type CompatPushBody = z.infer<typeof compatPushBody>;

/** The status of one pushed change: ours without `duplicate` (a retry reports the status it first had). */
export type CompatStatus = 'accepted' | 'conflict_resolved' | 'rejected';

/** One entry of the push answer's `results`. */
export interface CompatPushResult {
  doc_id: string;
  status: CompatStatus;
  new_version: string | null;
  error?: string;
  /** Extension: the stored document when it differs from what was sent (`conflict_resolved`). */
  data?: Record<string, unknown> | null;
}

/** Maps one of our push results to that package's shape. */
export function toCompatResult(r: PushResult): CompatPushResult {
  const status: CompatStatus = r.status === 'duplicate' ? (r.original ?? 'accepted') : r.status;
  const out: CompatPushResult = { doc_id: r.id, status, new_version: r.version ?? null };
  if (r.error) out.error = `${r.error.code}: ${r.error.message}`;
  if (status === 'conflict_resolved' && r.doc !== undefined) out.data = r.doc;
  return out;
}

/** One change of a pull answer or a stream frame. */
export interface CompatChangeOut {
  version: string;
  collection: string;
  doc_id: string;
  operation: 'upsert' | 'delete';
  data: Record<string, unknown> | null;
}

/** Maps one of our pulled changes to that package's shape. */
export function toCompatChange(c: ChangeOut): CompatChangeOut {
  return {
    version: c.version,
    collection: c.collection,
    doc_id: c.id,
    operation: c.op,
    data: c.data,
  };
}

/**
 * One NDJSON line of `GET /sync/full`. A tombstone's `data` is `{ "_sync_deleted": true }` (the
 * field that package's MongoDB documents carry), and `deleted: true` says so at the top level too.
 */
export function toCompatFullLine(d: FullDoc): Record<string, unknown> {
  return d.deleted
    ? {
        collection: d.collection,
        doc_id: d.id,
        data: { _sync_deleted: true },
        deleted: true,
        version: d.version,
      }
    : { collection: d.collection, doc_id: d.id, data: d.data, version: d.version };
}
