// Standalone servers only: the commit protocol without transactions (redo images, the pending head, take-over recovery).
import type { ClientSession, Db, Document } from 'mongodb';
import { SyncError } from '../../../shared/errors.js';
import type { OplogEntry } from '../store.js';
import type { OplogDoc, RedoImage, ScopeDoc, StoreCollections } from './collections.js';
import { META } from './documents.js';
import { isDuplicateKey } from './errors.js';

/** What a new lease holder does before its own work. */
export interface TakeoverPlan {
  /**
   * A commit past its commit point (`pending` set by the head's compare-and-set) whose documents
   * may not all be written and whose `seq` has not moved yet: finish it, then move `seq`.
   */
  finish: { seq: number; writer: string } | null;
  /** Oplog entries above this seq belong to no commit (a writer crashed or lost its lease before its commit point): delete them. */
  dropAbove: number;
}

/** Plans the take-over of a scope from its document as the lease was taken. */
export function planTakeover(
  doc: Pick<ScopeDoc, 'seq' | 'pending' | 'pendingWriter'>,
): TakeoverPlan {
  if (
    typeof doc.pending === 'number' &&
    doc.pending > doc.seq &&
    typeof doc.pendingWriter === 'string'
  ) {
    return { finish: { seq: doc.pending, writer: doc.pendingWriter }, dropAbove: doc.pending };
  }
  return { finish: null, dropAbove: doc.seq };
}

/**
 * Oplog documents of one standalone commit: each entry tagged with its writer, and each document
 * image attached to the last entry of that document (or the last entry when none names it), so a
 * later lease holder can finish writing the documents.
 */
export function attachRedo(
  entries: readonly OplogEntry[],
  images: readonly RedoImage[],
  writer: string,
): OplogDoc[] {
  const docs: OplogDoc[] = entries.map((e) => ({ ...e, writer }));
  if (docs.length === 0) return docs;
  const lastOf = new Map<string, number>();
  docs.forEach((d, i) => lastOf.set(`${d.collection}\u0000${d.id}`, i));
  for (const image of images) {
    const at = lastOf.get(`${image.collection}\u0000${image.id}`) ?? docs.length - 1;
    (docs[at]!.redo ??= []).push(image);
  }
  return docs;
}

/**
 * Filter of the compare-and-set that writes one document image: only over a document whose
 * `_sync_seq` is not above the image's (or has none), so a writer that lost its lease can never
 * overwrite a document a later commit wrote, and writing an image twice changes nothing (a
 * document at the same seq is this commit's image, or a write no commit owns).
 */
export function imageFilter(scope: string, image: Pick<RedoImage, 'id' | 'seq'>): Document {
  return { [META.scope]: scope, [META.id]: image.id, [META.seq]: { $not: { $gt: image.seq } } };
}

/** Writes the images of a commit (idempotent; leaves documents a later commit changed). */
export async function writeImages(
  db: Db,
  collectionName: (collection: string) => string,
  scope: string,
  images: readonly RedoImage[],
  ensureIndex: (name: string) => Promise<void>,
  session?: ClientSession,
): Promise<void> {
  for (const image of images) {
    const coll = db.collection(collectionName(image.collection));
    // The unique index must exist before an upsert, or two writers could insert the same id twice.
    await ensureIndex(coll.collectionName);
    if (image.legacyId !== undefined) {
      const res = await coll.replaceOne(
        { _id: image.legacyId as never, [META.scope]: scope, [META.id]: { $exists: false } },
        image.doc,
        { session },
      );
      if (res.matchedCount > 0) continue;
    }
    try {
      await coll.replaceOne(imageFilter(scope, image), image.doc, { upsert: true, session });
    } catch (error) {
      // A document with this id and a later seq exists: a later commit changed it; leave it.
      if (!isDuplicateKey(error)) throw error;
    }
  }
}

/**
 * Runs a take-over plan: finishes the pending commit from its redo images and moves `seq` to it,
 * then deletes entries above the head. Returns the scope's head seq afterwards.
 */
export async function recoverScope(
  db: Db,
  cols: StoreCollections,
  collectionName: (collection: string) => string,
  scope: string,
  owner: string,
  doc: Pick<ScopeDoc, 'seq' | 'pending' | 'pendingWriter'>,
  ensureIndex: (name: string) => Promise<void>,
  session?: ClientSession,
): Promise<number> {
  const plan = planTakeover(doc);
  let seq = doc.seq;
  if (plan.finish) {
    const entries = await cols.oplog
      .find(
        { scope, seq: plan.finish.seq, writer: plan.finish.writer, redo: { $exists: true } },
        { session, readPreference: 'primary', projection: { redo: 1 } },
      )
      .toArray();
    await writeImages(
      db,
      collectionName,
      scope,
      entries.flatMap((e) => e.redo ?? []),
      ensureIndex,
      session,
    );
    const res = await cols.scopes.updateOne(
      { _id: scope, leaseOwner: owner, pending: plan.finish.seq },
      { $set: { seq: plan.finish.seq }, $unset: { pending: '', pendingWriter: '' } },
      { session },
    );
    if (res.matchedCount === 0)
      throw new SyncError(
        'UNAVAILABLE',
        'scope lease lost while finishing an earlier commit; retry the push',
      );
    seq = plan.finish.seq;
  } else if (doc.pending !== undefined) {
    await cols.scopes.updateOne(
      { _id: scope, leaseOwner: owner, pending: doc.pending },
      { $unset: { pending: '', pendingWriter: '' } },
      { session },
    );
  }
  await cols.oplog.deleteMany({ scope, seq: { $gt: plan.dropAbove } }, { session });
  return seq;
}
