/**
 * The local replica: every read-modify-write of the local store (app writes, server changes, push
 * answers, resync pages), each one serialized and written as one atomic batch.
 */
import { SyncError } from '../shared/errors.js';
import type { HlcClock } from '../shared/hlc.js';
import type { ChangeOut, FullDoc, PushResponse } from '../shared/protocol.js';
import type { SyncSchema } from '../shared/schema.js';
import type { Emitter } from './emitter.js';
import type { ConflictEvent, SyncClientEvents } from './events.js';
import type { DocData, LocalDoc, LocalStore, LocalWrite, OutboxEntry, RejectedChange } from './local-store.js';
import { applyChange, docKey, mergePatch, pendingByDoc, rebase } from './rebase.js';
import type { PushRefusal } from './retry.js';
import { serial } from './serial.js';

/** A local write as the app asks for it. */
export type LocalChange = { collection: string; id: string } & ({ op: 'upsert' | 'patch'; data: DocData } | { op: 'delete' });

/** One answered outbox entry, whether from a push result or a refused request. */
interface Outcome {
  mutationId: number;
  /** `unknown`: a duplicate whose original outcome the server no longer has. */
  status: 'accepted' | 'conflict_resolved' | 'rejected' | 'unknown';
  version?: string;
  doc?: DocData | null;
  error?: RejectedChange['error'];
  duplicate: boolean;
  kind: RejectedChange['kind'];
}

export class Replica {
  /** Runs store updates one at a time. */
  readonly exclusive = serial();

  constructor(
    readonly store: LocalStore,
    private readonly schema: SyncSchema,
    /** Replaced once at start-up, when the stored client id (the clock's node id) is known. */
    public clock: HlcClock,
    private readonly events: Emitter<SyncClientEvents>,
  ) {}

  /** Validates and applies an app write optimistically, appending it to the outbox; returns the outbox entry. */
  async write(change: LocalChange): Promise<OutboxEntry> {
    const { collection, id } = change;
    if (!this.schema.has(collection)) throw new SyncError('BAD_REQUEST', `unknown collection "${collection}"`, [{ path: 'collection', message: 'unknown collection' }]);
    if (typeof id !== 'string' || id.length === 0 || id.length > 256) throw new SyncError('BAD_REQUEST', 'id: must be a string of 1 to 256 characters', [{ path: 'id', message: 'must be a string of 1 to 256 characters' }]);
    return this.exclusive(async () => {
      const existing = await this.store.getDoc(collection, id);
      let data: DocData | null = null;
      let sent: DocData | null = null;
      if (change.op === 'upsert') {
        sent = data = this.parsed(this.schema.parseDocument(collection, change.data), `put ${collection}/${id}`);
      } else if (change.op === 'patch') {
        if (!existing?.data) throw new SyncError('NOT_FOUND', `patch ${collection}/${id}: no such document here (put it first, or sync)`);
        sent = this.parsed(this.schema.parsePatch(collection, change.data), `patch ${collection}/${id}`);
        data = this.parsed(this.schema.parseDocument(collection, mergePatch(existing.data, sent)), `patch ${collection}/${id}`);
      }
      const mutationId = (await this.store.getMeta('nextMutationId')) ?? 1;
      const hlc = this.clock.now();
      const entry: OutboxEntry = { mutationId, collection, id, op: change.op, data: sent, baseVersion: existing?.version ?? null, hlc };
      const doc: LocalDoc = { collection, id, data, version: existing?.version ?? null, server: existing?.server ?? null };
      await this.store.write([
        { type: 'putDoc', doc },
        { type: 'appendOutbox', entry },
        { type: 'setMeta', key: 'nextMutationId', value: mutationId + 1 },
        { type: 'setMeta', key: 'hlc', value: hlc },
      ]);
      this.events.emit('change', { collection, ids: [id], source: 'local' });
      return entry;
    });
  }

  private parsed(result: ReturnType<SyncSchema['parseDocument']>, what: string): DocData {
    if (result.ok) return result.data;
    const first = result.issues[0];
    throw new SyncError('BAD_REQUEST', `${what}: ${first ? `${first.path || '(root)'}: ${first.message}` : 'invalid'}`, result.issues);
  }

  /** Applies pulled or streamed changes (server state wins; pending local changes are re-applied on top) and stores the checkpoint. */
  applyServerChanges(changes: readonly ChangeOut[], checkpoint: string | null): Promise<void> {
    return this.exclusive(async () => {
      const pending = pendingByDoc(await this.store.listOutbox());
      const writes: LocalWrite[] = [];
      const touched = new Map<string, string[]>();
      for (const change of changes) {
        this.clock.receive(change.version);
        const server = change.op === 'delete' ? null : (change.data ?? {});
        const doc: LocalDoc = { collection: change.collection, id: change.id, server, version: change.version, data: rebase(server, pending.get(docKey(change.collection, change.id)) ?? []) };
        writes.push({ type: 'putDoc', doc });
        touched.set(change.collection, [...(touched.get(change.collection) ?? []), change.id]);
      }
      if (checkpoint !== null) writes.push({ type: 'setMeta', key: 'checkpoint', value: checkpoint });
      if (writes.length === 0) return;
      await this.store.write(writes);
      for (const [collection, ids] of touched) this.events.emit('change', { collection, ids, source: 'server' });
    });
  }

  /**
   * Takes a push answer: removes the answered outbox entries, moves each document's server state
   * forward (accepted: the change as sent; conflict_resolved: the stored document), records
   * rejected changes and reports conflicts.
   */
  applyPushResults(sent: readonly OutboxEntry[], response: PushResponse): Promise<number> {
    const outcomes = response.results.map((result): Outcome => {
      const duplicate = result.status === 'duplicate';
      return {
        mutationId: result.mutationId,
        // a duplicate whose outcome the server no longer knows: the server state stays, the next pull settles it
        status: duplicate ? (result.original ?? 'unknown') : (result.status as Outcome['status']),
        ...(result.version !== undefined ? { version: result.version } : {}),
        ...(result.doc !== undefined ? { doc: result.doc } : {}),
        ...(result.error ? { error: { code: result.error.code, message: result.error.message } } : {}),
        duplicate,
        kind: 'result',
      };
    });
    return this.settleAll(sent, outcomes, response.serverTime);
  }

  /**
   * Takes the server's refusal of a push holding only `entry` (BAD_REQUEST, PAYLOAD_TOO_LARGE):
   * the entry leaves the outbox and is recorded as rejected, the document goes back to its
   * server state (with its other pending changes on top), and a `conflict` event reports it.
   */
  applyRefusal(entry: OutboxEntry, refusal: PushRefusal): Promise<number> {
    const error = { code: refusal.code, message: refusal.message, issues: refusal.issues };
    return this.settleAll([entry], [{ mutationId: entry.mutationId, status: 'rejected', error, duplicate: false, kind: 'request' }], null);
  }

  /** The recorded rejected changes, oldest first. */
  async rejected(): Promise<RejectedChange[]> {
    return (await this.store.getMeta('rejected')) ?? [];
  }

  /** Forgets recorded rejected changes: those with these mutation ids, or all of them. */
  clearRejected(mutationIds?: readonly number[]): Promise<void> {
    return this.exclusive(async () => {
      const current = (await this.store.getMeta('rejected')) ?? [];
      const drop = mutationIds ? new Set(mutationIds) : null;
      const kept = drop ? current.filter((r) => !drop.has(r.change.mutationId)) : [];
      if (kept.length !== current.length) await this.store.write([{ type: 'setMeta', key: 'rejected', value: kept }]);
    });
  }

  /** Settles answered outbox entries in one atomic write; events go out once it is stored. */
  private settleAll(sent: readonly OutboxEntry[], outcomes: readonly Outcome[], serverTime: string | null): Promise<number> {
    return this.exclusive(async () => {
      if (serverTime) this.clock.receive(serverTime);
      const byId = new Map(sent.map((e) => [e.mutationId, e]));
      const answered: OutboxEntry[] = [];
      const servers = new Map<string, { doc: LocalDoc | null }>();
      const conflicts: ConflictEvent[] = [];
      const rejected: RejectedChange[] = [];
      const at = new Date().toISOString();
      for (const outcome of outcomes) {
        const entry = byId.get(outcome.mutationId);
        if (!entry) continue;
        byId.delete(outcome.mutationId); // answered once, even if the server repeats it
        answered.push(entry);
        const key = docKey(entry.collection, entry.id);
        let slot = servers.get(key);
        if (!slot) servers.set(key, (slot = { doc: await this.store.getDoc(entry.collection, entry.id) }));
        const conflict = this.settle(slot, entry, outcome);
        if (conflict) conflicts.push(conflict);
        if (outcome.status === 'rejected') rejected.push({ change: entry, error: outcome.error ?? { code: 'REJECTED', message: 'rejected by the server' }, kind: outcome.kind, at });
      }
      if (answered.length === 0) return 0;
      const gone = new Set(answered.map((e) => e.mutationId));
      const pending = pendingByDoc((await this.store.listOutbox()).filter((e) => !gone.has(e.mutationId)));
      const writes: LocalWrite[] = [{ type: 'removeOutbox', mutationIds: [...gone] }, { type: 'setMeta', key: 'hlc', value: this.clock.now() }];
      if (rejected.length > 0) writes.push({ type: 'setMeta', key: 'rejected', value: [...((await this.store.getMeta('rejected')) ?? []), ...rejected] });
      const touched = new Map<string, string[]>();
      for (const [key, { doc }] of servers) {
        if (!doc) continue;
        writes.push({ type: 'putDoc', doc: { ...doc, data: rebase(doc.server, pending.get(key) ?? []) } });
        touched.set(doc.collection, [...(touched.get(doc.collection) ?? []), doc.id]);
      }
      await this.store.write(writes);
      for (const [collection, ids] of touched) this.events.emit('change', { collection, ids, source: 'server' });
      for (const conflict of conflicts) this.events.emit('conflict', conflict);
      return answered.length;
    });
  }

  /** Moves one document's server state past one answered change; returns the conflict to report, if any. */
  private settle(slot: { doc: LocalDoc | null }, entry: OutboxEntry, outcome: Outcome): ConflictEvent | null {
    const { status } = outcome;
    const doc = slot.doc ?? (slot.doc = { collection: entry.collection, id: entry.id, data: null, version: null, server: null });
    if (status === 'accepted') {
      doc.server = applyChange(doc.server, entry);
      if (outcome.version) doc.version = outcome.version;
    } else if (status === 'conflict_resolved') {
      if (outcome.doc !== undefined) doc.server = outcome.doc;
      if (outcome.version) doc.version = outcome.version;
    }
    // rejected, or a duplicate whose outcome the server no longer knows: the server state stays; the next pull settles it.
    if (status !== 'conflict_resolved' && status !== 'rejected') return null;
    return {
      status,
      collection: entry.collection,
      id: entry.id,
      mutationId: entry.mutationId,
      change: entry,
      ...(outcome.doc !== undefined ? { doc: outcome.doc } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
      duplicate: outcome.duplicate,
    };
  }

  /** Stores one page of a full export (`seen` collects the keys, for `finishResync`). */
  applyFullPage(docs: readonly FullDoc[], seen: Set<string>): Promise<void> {
    return this.applyServerChanges(
      docs.map((d) => {
        seen.add(docKey(d.collection, d.id));
        return { collection: d.collection, id: d.id, op: d.deleted ? 'delete' : 'upsert', data: d.deleted ? null : d.data, version: d.version };
      }),
      null,
    );
  }

  /** After the last full page: forgets documents the server no longer has (keeping pending local ones) and stores the checkpoint. */
  finishResync(seen: Set<string>, checkpoint: string): Promise<void> {
    return this.exclusive(async () => {
      const pending = pendingByDoc(await this.store.listOutbox());
      const writes: LocalWrite[] = [];
      const touched = new Map<string, string[]>();
      for (const doc of await this.store.listDocs()) {
        const key = docKey(doc.collection, doc.id);
        if (seen.has(key)) continue;
        const mine = pending.get(key);
        if (mine) writes.push({ type: 'putDoc', doc: { ...doc, server: null, version: null, data: rebase(null, mine) } });
        else writes.push({ type: 'deleteDoc', collection: doc.collection, id: doc.id });
        touched.set(doc.collection, [...(touched.get(doc.collection) ?? []), doc.id]);
      }
      writes.push({ type: 'setMeta', key: 'checkpoint', value: checkpoint });
      await this.store.write(writes);
      for (const [collection, ids] of touched) this.events.emit('change', { collection, ids, source: 'server' });
    });
  }
}
