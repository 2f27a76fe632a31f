/**
 * The local replica: every read-modify-write of the local store (app writes, server changes, push
 * answers, resync pages), each one serialized and written as one atomic batch. Each costs what it
 * touches: documents are read by key, a document's pending changes by its outbox index.
 */
import { SyncError } from '../shared/errors.js';
import type { HlcClock } from '../shared/hlc.js';
import type { ChangeOut, FullDoc, PushResponse } from '../shared/protocol.js';
import type { SyncSchema } from '../shared/schema.js';
import type { Emitter } from './emitter.js';
import type { ConflictEvent, SyncClientEvents } from './events.js';
import type {
  DocData,
  LocalDoc,
  LocalStore,
  LocalWrite,
  OutboxEntry,
  RejectedChange,
  ResyncState,
  ViewState,
} from './local-store.js';
import {
  DEFAULT_VIEW,
  leftEveryView,
  withoutView,
  withView,
  type ViewTarget,
} from './view-tags.js';
import { applyChange, docKey, mergePatch, rebase } from './rebase.js';
import { isBehind, versionBehind } from './checkpoint-order.js';
import type { PushRefusal } from './retry.js';
import { serial } from './serial.js';
import { ChecksumDeltas, localHash, type Integrity } from './integrity.js';
import { addSum, checksumHex, EMPTY_CHECKSUM } from '../shared/checksum.js';

/** What to compare at the checkpoint of a page of server changes (see `applyServerChanges`). */
export interface ChecksumCheck {
  /** The server's checksums at the checkpoint (absent: those the stream noted for it, if any). */
  expected?: Record<string, string>;
  /** Recompute the local sums from the documents (an audit) instead of trusting the kept ones. */
  audit?: boolean;
}

/** A local write as the app asks for it. */
export type LocalChange = { collection: string; id: string } & (
  { op: 'upsert' | 'patch'; data: DocData } | { op: 'delete' }
);

/** One answered outbox entry, whether from a push result or a refused request. */
interface Outcome {
  mutationId: number;
  /** For a push result: the change it answers (an answer naming another document settles nothing). */
  collection?: string;
  id?: string;
  /** `unknown`: a duplicate whose original outcome the server no longer has. */
  status: 'accepted' | 'conflict_resolved' | 'rejected' | 'unknown';
  version?: string;
  doc?: DocData | null;
  error?: RejectedChange['error'];
  duplicate: boolean;
  kind: RejectedChange['kind'];
}

/** Documents touched by one step, by collection, for the `change` events sent once it is stored. */
class Touched {
  private readonly byCollection = new Map<string, Set<string>>();
  add(collection: string, id: string): void {
    let ids = this.byCollection.get(collection);
    if (!ids) this.byCollection.set(collection, (ids = new Set()));
    ids.add(id);
  }
  emit(events: Emitter<SyncClientEvents>, source: 'local' | 'server'): void {
    for (const [collection, ids] of this.byCollection)
      events.emit('change', { collection, ids: [...ids], source });
  }
}

export class Replica {
  private readonly local = serial();

  constructor(
    readonly store: LocalStore,
    private readonly schema: SyncSchema,
    /** Replaced once at start-up, when the stored client id (the clock's node id) is known. */
    public clock: HlcClock,
    private readonly events: Emitter<SyncClientEvents>,
    /** Integrity checksums (`null`: off, none kept or compared). */
    readonly integrity: Integrity | null = null,
  ) {}

  /** Runs store updates one at a time: in this client, and across clients of the same data when the store can (tabs). */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const store = this.store;
    return this.local(() => (store.exclusive ? store.exclusive(task) : task()));
  }

  /** Validates and applies one app write optimistically, appending it to the outbox. */
  async write(change: LocalChange): Promise<OutboxEntry> {
    return (await this.writeMany([change]))[0]!;
  }

  /**
   * Validates every change first (nothing is written if one is bad), then applies them in order as
   * one local transaction with consecutive mutation ids.
   */
  async writeMany(changes: readonly LocalChange[]): Promise<OutboxEntry[]> {
    const checked = changes.map((change, i) =>
      this.check(change, changes.length > 1 ? `[${i}] ` : ''),
    );
    if (checked.length === 0) return [];
    return this.exclusive(async () => {
      const current = await this.readDocs(checked);
      // Read inside the exclusive section: other tabs on the same store take ids from the same counter, so no id is handed out twice.
      let mutationId = (await this.store.getMeta('nextMutationId')) ?? 1;
      if (this.store.exclusive) {
        // Another tab may have made later HLCs with the same node id: never stamp below them.
        const stored = await this.store.getMeta('hlc');
        if (stored) this.clock.receive(stored);
      }
      const writes: LocalWrite[] = [];
      const entries: OutboxEntry[] = [];
      const touched = new Touched();
      let hlc = '';
      checked.forEach((change, i) => {
        const key = docKey(change.collection, change.id);
        const existing = current.get(key) ?? null;
        const where = `${changes.length > 1 ? `[${i}] ` : ''}${change.op === 'patch' ? 'patch' : change.op === 'delete' ? 'delete' : 'put'} ${change.collection}/${change.id}`;
        let data: DocData | null = null;
        let sent: DocData | null = null;
        if (change.op === 'upsert') sent = data = change.data;
        else if (change.op === 'patch') {
          if (!existing?.data)
            throw new SyncError(
              'NOT_FOUND',
              `${where}: no such document here (put it first, or sync)`,
            );
          sent = change.data;
          data = this.parsed(
            this.schema.parseDocument(change.collection, mergePatch(existing.data, sent)),
            where,
          );
        }
        hlc = this.clock.now();
        const entry: OutboxEntry = {
          mutationId: mutationId++,
          collection: change.collection,
          id: change.id,
          op: change.op,
          data: sent,
          baseVersion: existing?.version ?? null,
          hlc,
        };
        const doc: LocalDoc = {
          collection: change.collection,
          id: change.id,
          data,
          version: existing?.version ?? null,
          server: existing?.server ?? null,
          pending: true,
          mark: existing?.mark ?? null,
          ...(existing?.views != null ? { views: existing.views } : {}),
        };
        current.set(key, doc);
        writes.push({ type: 'putDoc', doc }, { type: 'appendOutbox', entry });
        entries.push(entry);
        touched.add(change.collection, change.id);
      });
      writes.push(
        { type: 'setMeta', key: 'nextMutationId', value: mutationId },
        { type: 'setMeta', key: 'hlc', value: hlc },
      );
      await this.store.write(writes);
      touched.emit(this.events, 'local');
      return entries;
    });
  }

  /** Checks collection, id and (for puts and patches) the data against the schema, before any store access. */
  private check(change: LocalChange, prefix: string): LocalChange {
    const { collection, id } = change;
    if (!this.schema.has(collection))
      throw new SyncError('BAD_REQUEST', `${prefix}unknown collection "${collection}"`, [
        { path: 'collection', message: 'unknown collection' },
      ]);
    if (typeof id !== 'string' || id.length === 0 || id.length > 256)
      throw new SyncError('BAD_REQUEST', `${prefix}id: must be a string of 1 to 256 characters`, [
        { path: 'id', message: 'must be a string of 1 to 256 characters' },
      ]);
    if (change.op === 'upsert')
      return {
        ...change,
        data: this.parsed(
          this.schema.parseDocument(collection, change.data),
          `${prefix}put ${collection}/${id}`,
        ),
      };
    if (change.op === 'patch')
      return {
        ...change,
        data: this.parsed(
          this.schema.parsePatch(collection, change.data),
          `${prefix}patch ${collection}/${id}`,
        ),
      };
    return change;
  }

  private parsed(result: ReturnType<SyncSchema['parseDocument']>, what: string): DocData {
    if (result.ok) return result.data;
    const first = result.issues[0];
    throw new SyncError(
      'BAD_REQUEST',
      `${what}: ${first ? `${first.path || '(root)'}: ${first.message}` : 'invalid'}`,
      result.issues,
    );
  }

  /** The stored documents of these keys, one `getDocs` per collection. */
  private async readDocs(
    keys: readonly { collection: string; id: string }[],
  ): Promise<Map<string, LocalDoc | null>> {
    const byCollection = new Map<string, Set<string>>();
    for (const { collection, id } of keys) {
      let ids = byCollection.get(collection);
      if (!ids) byCollection.set(collection, (ids = new Set()));
      ids.add(id);
    }
    const out = new Map<string, LocalDoc | null>();
    for (const [collection, idSet] of byCollection) {
      const ids = [...idSet];
      const docs = await this.store.getDocs(collection, ids);
      ids.forEach((id, i) => out.set(docKey(collection, id), docs[i] ?? null));
    }
    return out;
  }

  /** A document's changes still in the outbox (after dropping `gone`). */
  private async pendingOf(
    collection: string,
    id: string,
    gone?: ReadonlySet<number>,
  ): Promise<OutboxEntry[]> {
    const entries = await this.store.listOutbox({ collection, id });
    return gone ? entries.filter((e) => !gone.has(e.mutationId)) : entries;
  }

  /**
   * Applies one page of pulled, streamed or exported changes as one write (server state wins;
   * pending local changes are re-applied on top) and stores the checkpoint. With an empty outbox
   * and integrity checksums off no document is read at all. With checksums on, the write also
   * moves the kept sums, and at the checkpoint they are compared with the server's (`check`, or
   * those the stream noted for this checkpoint). Returns how many documents' server state changed
   * (counted with checksums on only).
   */
  applyServerChanges(
    changes: readonly ChangeOut[],
    checkpoint: string | null,
    extra: LocalWrite[] = [],
    mark: string | null = null,
    check: ChecksumCheck = {},
    target: ViewTarget = { key: DEFAULT_VIEW, pass: '' },
  ): Promise<number> {
    return this.exclusive(async () => {
      const isView = target.key !== DEFAULT_VIEW;
      // Not during a resync pass (`mark`) or a view's rebuild: their pages rebuild whatever was held.
      const ordered = mark === null && target.pass === '';
      let views: Record<string, ViewState> | null = null;
      let view: ViewState | undefined;
      if (isView) {
        views = (await this.store.getMeta('views')) ?? {};
        view = views[target.key];
        // A page of a view unsubscribed meanwhile (or leaving) is dropped: it must not bring documents back.
        if (!view || view.leaving) return 0;
      }
      const held = isView ? view!.checkpoint : await this.store.getMeta('checkpoint');
      // A page or event older than the stored checkpoint (a pull read before a stream event, events out of order) holds nothing new.
      if (ordered && checkpoint !== null && isBehind(checkpoint, held)) return 0;
      const latest = new Map<string, ChangeOut>();
      for (const change of changes) {
        this.clock.receive(change.version);
        const key = docKey(change.collection, change.id);
        latest.delete(key); // keep page order for the last change of each document
        latest.set(key, change);
      }
      const integrity = this.integrity;
      const current = latest.size > 0 ? await this.readDocs([...latest.values()]) : null;
      const writes: LocalWrite[] = [];
      const touched = new Touched();
      const deltas = integrity ? new ChecksumDeltas() : null;
      let changed = 0;
      /** Changes older than the copy already held (e.g. this client's acknowledged push is newer): kept as held. */
      let skipped = 0;
      let collection: string | null = view?.collection ?? null;
      // Only a view's page or a `left` removal teaches which collections views serve: other pages read nothing more.
      const teaches =
        isView || changes.some((c) => (c as ChangeOut & { left?: boolean }).left === true);
      const known = new Set(teaches ? ((await this.store.getMeta('viewCollections')) ?? []) : []);
      const learned = new Set<string>();
      for (const [key, change] of latest) {
        collection ??= change.collection;
        const server = change.op === 'delete' ? null : (change.data ?? {});
        const before = current?.get(key) ?? null;
        const left = (change as ChangeOut & { left?: boolean }).left === true;
        if ((isView || left) && !known.has(change.collection)) learned.add(change.collection);
        if (left) {
          // Left this view: a local removal once no other view holds it and nothing of it is pending (never pushed).
          const rest = before ? withoutView(before.views, target.key) : null;
          if (!before || (rest === null && before.views != null)) continue;
          const remaining = rest ?? {};
          if (Object.keys(remaining).length > 0 || before.pending)
            writes.push({ type: 'putDoc', doc: { ...before, views: remaining } });
          else {
            writes.push({ type: 'deleteDoc', collection: change.collection, id: change.id });
            if (deltas?.change(change.collection, before, null)) changed++;
          }
          touched.add(change.collection, change.id);
          continue;
        }
        const tags = withView(before?.views, target.key, target.pass);
        // A view's pages never move a document back (another view may have brought a newer copy during its rebuild).
        if ((ordered || isView) && versionBehind(change.version, before?.version)) {
          // The copy held is newer: it stays, but this view now covers it too.
          if (before && before.views?.[target.key] !== target.pass)
            writes.push({ type: 'putDoc', doc: { ...before, views: tags } });
          if (!isView) skipped++;
          continue;
        }
        const pending = before?.pending ? await this.pendingOf(change.collection, change.id) : [];
        // A document a repair of its collection has not swept yet keeps the repair's mark; a view's
        // delivery keeps the default resync's mark (that pass sweeps only what the default request sent).
        const docMark = isView
          ? (before?.mark ?? null)
          : (mark ?? integrity?.marks.get(change.collection) ?? null);
        const doc: LocalDoc = {
          collection: change.collection,
          id: change.id,
          server,
          version: change.version,
          data: rebase(server, pending),
          pending: pending.length > 0,
          mark: docMark,
          views: tags,
        };
        writes.push({ type: 'putDoc', doc });
        if (deltas?.change(change.collection, before, doc)) changed++;
        touched.add(change.collection, change.id);
      }
      if (learned.size > 0)
        writes.push({ type: 'setMeta', key: 'viewCollections', value: [...known, ...learned] });
      let sums: Record<string, string> | null = null;
      if (deltas && deltas.size > 0) {
        sums = deltas.applyTo(await this.store.getMeta('checksums'));
        writes.push({ type: 'setMeta', key: 'checksums', value: sums });
      }
      if (isView) {
        const next: ViewState = {
          ...view!,
          collection,
          ...(checkpoint !== null ? { checkpoint } : {}),
          ...(target.rebuild !== undefined ? { rebuild: target.rebuild } : {}),
        };
        if (JSON.stringify(next) !== JSON.stringify(view))
          writes.push({ type: 'setMeta', key: 'views', value: { ...views, [target.key]: next } });
      } else if (checkpoint !== null)
        writes.push({ type: 'setMeta', key: 'checkpoint', value: checkpoint });
      writes.push(...extra);
      if (writes.length > 0) {
        await this.store.write(writes);
        touched.emit(this.events, 'server');
      }
      // Integrity checksums are the default request's: a view's pages are not compared (views have none yet).
      const expected =
        integrity && checkpoint !== null && !isView
          ? (check.expected ?? integrity.take(checkpoint))
          : undefined;
      // With a document newer than the page here, the sums at the page's checkpoint cannot match: compared at a later one.
      if (integrity && expected && checkpoint !== null && skipped === 0)
        await this.compare(integrity, expected, checkpoint, sums, check.audit === true);
      return changed;
    });
  }

  /**
   * Compares the local checksums with the server's at `checkpoint` (inside the exclusive section
   * that stored it, so nothing moved in between), for the collections without pending local
   * changes; an audit first recomputes them from the documents (and keeps what it found).
   */
  private async compare(
    integrity: Integrity,
    expected: Record<string, string>,
    checkpoint: string,
    known: Record<string, string> | null,
    audit: boolean,
  ): Promise<void> {
    let sums = known ?? (await this.store.getMeta('checksums')) ?? {};
    // A collection some subscription delivers is ruled on the server: its sums cover views, not the default request.
    const viewed = new Set(
      Object.values((await this.store.getMeta('views')) ?? {}).map((v) => v.collection),
    );
    for (const [collection, hex] of Object.entries(expected)) {
      if (!this.schema.has(collection) || viewed.has(collection)) continue;
      // Pending local changes of it, or its repair under way: checked at a later checkpoint.
      if (
        integrity.marks.has(collection) ||
        (await this.store.listOutbox({ collection, limit: 1 })).length > 0
      )
        continue;
      if (audit) {
        integrity.counters.audits++;
        const recomputed = await this.sumOf(collection);
        if (recomputed !== (sums[collection] ?? EMPTY_CHECKSUM)) {
          sums = { ...sums, [collection]: recomputed };
          await this.store.write([{ type: 'setMeta', key: 'checksums', value: sums }]);
        }
      }
      integrity.counters.checks++;
      const actual = sums[collection] ?? EMPTY_CHECKSUM;
      if (actual !== hex) integrity.flag({ collection, expected: hex, actual, checkpoint });
    }
  }

  /** A collection's checksum recomputed from its documents (one paged scan; call inside `exclusive`). */
  private async sumOf(collection: string): Promise<string> {
    let sum = 0n;
    let after: string | undefined;
    for (;;) {
      const docs = await this.store.listDocs(collection, { after, limit: 500 });
      for (const doc of docs) sum = addSum(sum, localHash(doc));
      if (docs.length < 500) return checksumHex(sum);
      after = docs.at(-1)!.id;
    }
  }

  /** Recomputes a collection's kept checksum from its documents (after a repair or a full resync); returns it. */
  recompute(collection: string): Promise<string> {
    return this.exclusive(async () => {
      const sum = await this.sumOf(collection);
      const stored = (await this.store.getMeta('checksums')) ?? {};
      if (stored[collection] !== sum)
        await this.store.write([
          { type: 'setMeta', key: 'checksums', value: { ...stored, [collection]: sum } },
        ]);
      return sum;
    });
  }

  /**
   * Takes a push answer: removes the answered outbox entries, moves each document's server state
   * forward (accepted: the change as sent; conflict_resolved: the stored document), records
   * rejected changes and reports conflicts.
   */
  applyPushResults(sent: readonly OutboxEntry[], response: PushResponse): Promise<number> {
    if (this.integrity) this.integrity.settles++; // a view's sums taken meanwhile may predate these answers
    const outcomes = response.results.map((result): Outcome => {
      const duplicate = result.status === 'duplicate';
      return {
        mutationId: result.mutationId,
        collection: result.collection,
        id: result.id,
        // a duplicate whose outcome the server no longer knows: the server state stays, the next pull settles it
        status: duplicate ? (result.original ?? 'unknown') : (result.status as Outcome['status']),
        ...(result.version !== undefined ? { version: result.version } : {}),
        ...(result.doc !== undefined ? { doc: result.doc } : {}),
        ...(result.error
          ? { error: { code: result.error.code, message: result.error.message } }
          : {}),
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
    return this.settleAll(
      [entry],
      [
        {
          mutationId: entry.mutationId,
          status: 'rejected',
          error,
          duplicate: false,
          kind: 'request',
        },
      ],
      null,
    );
  }

  /**
   * After CLIENT_ID_CONFLICT: settles the entries of `sent` the server holds as these very changes
   * (`recorded`, answered like duplicates), then, in one atomic write, takes a new client id and HLC
   * node id and renumbers every outbox entry under the new id, in order and above every id handed
   * out so far. Returns the new id and how many entries were renumbered.
   */
  async reidentify(
    sent: readonly OutboxEntry[],
    recorded: readonly number[],
    newIds: { clientId: string; nodeId: string },
  ): Promise<{ renumbered: number; recorded: number }> {
    const held = new Set(recorded);
    const done = sent.filter((e) => held.has(e.mutationId));
    const settled =
      done.length > 0
        ? await this.settleAll(
            done,
            done.map((e) => ({
              mutationId: e.mutationId,
              status: 'unknown',
              duplicate: true,
              kind: 'result',
            })),
            null,
          )
        : 0;
    return this.exclusive(async () => {
      const entries = await this.store.listOutbox();
      let next = Math.max(
        (await this.store.getMeta('nextMutationId')) ?? 1,
        ...entries.map((e) => e.mutationId + 1),
      );
      const writes: LocalWrite[] = [
        { type: 'removeOutbox', mutationIds: entries.map((e) => e.mutationId) },
      ];
      for (const entry of entries)
        writes.push({ type: 'appendOutbox', entry: { ...entry, mutationId: next++ } });
      const clock = this.clock.withNode(newIds.nodeId);
      writes.push(
        { type: 'setMeta', key: 'nextMutationId', value: next },
        { type: 'setMeta', key: 'clientId', value: newIds.clientId },
        { type: 'setMeta', key: 'nodeId', value: newIds.nodeId },
        { type: 'setMeta', key: 'hlc', value: clock.now() },
      );
      await this.store.write(writes);
      this.clock = clock;
      return { renumbered: entries.length, recorded: settled };
    });
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
      if (kept.length !== current.length)
        await this.store.write([{ type: 'setMeta', key: 'rejected', value: kept }]);
    });
  }

  /** Settles answered outbox entries in one atomic write; events go out once it is stored. */
  private settleAll(
    sent: readonly OutboxEntry[],
    outcomes: readonly Outcome[],
    serverTime: string | null,
  ): Promise<number> {
    return this.exclusive(async () => {
      if (serverTime) this.clock.receive(serverTime);
      const byId = new Map(sent.map((e) => [e.mutationId, e]));
      const answered: { entry: OutboxEntry; outcome: Outcome }[] = [];
      for (const outcome of outcomes) {
        const entry = byId.get(outcome.mutationId);
        if (!entry) continue;
        // Never drop an outbox entry on an answer that is not about what it holds.
        if (
          outcome.collection !== undefined &&
          (outcome.collection !== entry.collection || outcome.id !== entry.id)
        )
          continue;
        byId.delete(outcome.mutationId); // answered once, even if the server repeats it
        answered.push({ entry, outcome });
      }
      if (answered.length === 0) return 0;
      const docs = await this.readDocs(answered.map((a) => a.entry));
      // Before `settle` moves them: the checksums follow each document's server state.
      const before = new Map<string, LocalDoc | null>(
        [...docs].map(([key, doc]) => [key, doc ? { ...doc } : null]),
      );
      const conflicts: ConflictEvent[] = [];
      const rejected: RejectedChange[] = [];
      const at = new Date().toISOString();
      for (const { entry, outcome } of answered) {
        const key = docKey(entry.collection, entry.id);
        const doc = docs.get(key) ?? {
          collection: entry.collection,
          id: entry.id,
          data: null,
          version: null,
          server: null,
        };
        docs.set(key, doc);
        // A rejection without an error (the protocol allows it) gets one, the same in the record and the event.
        const settled: Outcome =
          outcome.status === 'rejected' && !outcome.error
            ? { ...outcome, error: { code: 'REJECTED', message: 'rejected by the server' } }
            : outcome;
        const conflict = this.settle(doc, entry, settled);
        if (conflict) conflicts.push(conflict);
        if (settled.status === 'rejected')
          rejected.push({ change: entry, error: settled.error!, kind: settled.kind, at });
      }
      const gone = new Set(answered.map((a) => a.entry.mutationId));
      const othersPending = (await this.store.countOutbox()) > gone.size;
      // The HLCs of the changes answered now, by document: a server state at one of them is this device's own write.
      const stamps = new Map<string, Set<string>>();
      for (const { entry } of answered) {
        const key = docKey(entry.collection, entry.id);
        if (!stamps.has(key)) stamps.set(key, new Set());
        stamps.get(key)!.add(entry.hlc);
      }
      const viewCollections = new Set((await this.store.getMeta('viewCollections')) ?? []);
      const writes: LocalWrite[] = [
        { type: 'removeOutbox', mutationIds: [...gone] },
        { type: 'setMeta', key: 'hlc', value: this.clock.now() },
      ];
      if (rejected.length > 0)
        writes.push({
          type: 'setMeta',
          key: 'rejected',
          value: [...((await this.store.getMeta('rejected')) ?? []), ...rejected],
        });
      const touched = new Touched();
      const deltas = this.integrity ? new ChecksumDeltas() : null;
      for (const [key, doc] of docs) {
        if (!doc) continue;
        const pending = othersPending ? await this.pendingOf(doc.collection, doc.id, gone) : [];
        touched.add(doc.collection, doc.id);
        // Answered with another writer's state (this write lost, or changed nothing) in a collection
        // served through views, on a document no read delivered: no read will speak of it (the
        // server sends a reader's own writes outside its views as removals, and this write made
        // none), so it leaves the device; a view that holds it delivers it (tagged) as any change.
        const othersState =
          doc.views == null &&
          viewCollections.has(doc.collection) &&
          doc.version !== null &&
          !stamps.get(key)?.has(doc.version);
        if (pending.length === 0 && (leftEveryView(doc) || othersState)) {
          // It left every view while these writes waited, or is another writer's state no read
          // delivered: now that they are answered, it leaves the device.
          writes.push({ type: 'deleteDoc', collection: doc.collection, id: doc.id });
          deltas?.change(doc.collection, before.get(key), null);
          continue;
        }
        writes.push({
          type: 'putDoc',
          doc: { ...doc, data: rebase(doc.server, pending), pending: pending.length > 0 },
        });
        deltas?.change(doc.collection, before.get(key), doc);
      }
      if (deltas && deltas.size > 0)
        writes.push({
          type: 'setMeta',
          key: 'checksums',
          value: deltas.applyTo(await this.store.getMeta('checksums')),
        });
      await this.store.write(writes);
      touched.emit(this.events, 'server');
      for (const conflict of conflicts) this.events.emit('conflict', conflict);
      return answered.length;
    });
  }

  /** Moves one document's server state past one answered change; returns the conflict to report, if any. */
  private settle(doc: LocalDoc, entry: OutboxEntry, outcome: Outcome): ConflictEvent | null {
    const { status } = outcome;
    // The server state held is already past this change (a later commit arrived first, e.g. by the
    // stream): a document's version never decreases, so that state includes the change's effect.
    const passed =
      outcome.version !== undefined && doc.version !== null && doc.version > outcome.version;
    if (passed) {
      // keep it: re-applying the change on top would move the server state back to an older version
    } else if (status === 'accepted') {
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

  /**
   * Stores a view sweep's writes (call inside `exclusive`): `gone` are the documents it deletes,
   * whose server state leaves the kept checksums; a `change` event names every document written.
   */
  async writeRemovals(writes: LocalWrite[], gone: readonly LocalDoc[]): Promise<void> {
    const touched = new Touched();
    for (const w of writes) {
      if (w.type === 'putDoc') touched.add(w.doc.collection, w.doc.id);
      else if (w.type === 'deleteDoc') touched.add(w.collection, w.id);
    }
    if (this.integrity && gone.length > 0) {
      const deltas = new ChecksumDeltas();
      for (const doc of gone) deltas.change(doc.collection, doc, null);
      if (deltas.size > 0)
        writes = [
          ...writes,
          {
            type: 'setMeta',
            key: 'checksums',
            value: deltas.applyTo(await this.store.getMeta('checksums')),
          },
        ];
    }
    await this.store.write(writes);
    touched.emit(this.events, 'server');
  }

  /**
   * Stores one page of a full export and, in the same write, how far the resync got (none for a
   * repair: `state` null). Returns how many documents' server state changed (see `applyServerChanges`).
   */
  applyFullPage(
    docs: readonly FullDoc[],
    state: ResyncState | null,
    mark = state?.mark ?? null,
  ): Promise<number> {
    const changes = docs.map((d): ChangeOut => ({
      collection: d.collection,
      id: d.id,
      op: d.deleted ? 'delete' : 'upsert',
      data: d.deleted ? null : d.data,
      version: d.version,
    }));
    return this.applyServerChanges(
      changes,
      null,
      state ? [{ type: 'setMeta', key: 'resync', value: state }] : [],
      mark,
    );
  }

  /**
   * After the last full page: forgets, page by page, documents the export did not hold (keeping
   * pending local ones), then stores the checkpoint and clears the resync state in one write. A
   * crash part way leaves the resync state in place, so the next sync finishes the sweep. (The
   * checksums moved with every page and sweep; the pull that follows a resync compares them, and a
   * store whose rows were changed behind its back is then repaired collection by collection.)
   */
  async finishResync(state: ResyncState, collections: readonly string[]): Promise<void> {
    for (const collection of collections) await this.sweep(collection, state.mark);
    await this.exclusive(() =>
      this.store.write([
        { type: 'setMeta', key: 'checkpoint', value: state.checkpoint },
        { type: 'setMeta', key: 'resync', value: null },
      ]),
    );
  }

  /**
   * Forgets, page by page, the documents of `collection` not marked `mark` (those with pending
   * local changes stay, as documents the server does not hold). Returns how many it changed.
   */
  async sweep(collection: string, mark: string): Promise<number> {
    const page = 500;
    let after: string | undefined;
    let swept = 0;
    for (;;) {
      const done = await this.exclusive(async () => {
        const docs = await this.store.listDocs(collection, { after, limit: page });
        const writes: LocalWrite[] = [];
        const touched = new Touched();
        const deltas = this.integrity ? new ChecksumDeltas() : null;
        for (const doc of docs) {
          if (doc.mark === mark) continue;
          const rest = withoutView(doc.views, DEFAULT_VIEW) ?? doc.views ?? {};
          if (Object.keys(rest).length > 0) {
            // Other views deliver it: only the default request's claim goes.
            if (rest !== doc.views)
              writes.push({ type: 'putDoc', doc: { ...doc, views: rest, mark } });
            continue;
          }
          const mine = doc.pending ? await this.pendingOf(doc.collection, doc.id) : [];
          if (mine.length > 0)
            writes.push({
              type: 'putDoc',
              doc: {
                ...doc,
                server: null,
                version: null,
                data: rebase(null, mine),
                pending: true,
                mark,
              },
            });
          else writes.push({ type: 'deleteDoc', collection: doc.collection, id: doc.id });
          deltas?.change(collection, doc, null);
          touched.add(doc.collection, doc.id);
          swept++;
        }
        if (deltas && deltas.size > 0)
          writes.push({
            type: 'setMeta',
            key: 'checksums',
            value: deltas.applyTo(await this.store.getMeta('checksums')),
          });
        if (writes.length > 0) await this.store.write(writes);
        touched.emit(this.events, 'server');
        after = docs.at(-1)?.id;
        return docs.length < page;
      });
      if (done) return swept;
    }
  }
}
