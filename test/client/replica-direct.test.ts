/**
 * The replica driven directly, with scripted but protocol-valid server answers, on the memory local
 * store, with integrity checksums on and off: the stored rows, meta, events and return values the
 * client suites reach only through a server (and often only after a later pull rewrites them).
 * Each block names the step it pins down: local writes, settling push answers, server pages over
 * newer copies, audits and recomputes, view sweeps, the resync sweep.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SyncError } from '../../shared/errors.js';
import { HlcClock } from '../../shared/hlc.js';
import type { ChangeOut, PushResponse, PushResult } from '../../shared/protocol.js';
import { defineSyncSchema } from '../../shared/schema.js';
import { Emitter } from '../../client/emitter.js';
import type { ConflictEvent, SyncClientEvents } from '../../client/events.js';
import { Integrity, localHash } from '../../client/integrity.js';
import type { LocalDoc, LocalStore, LocalWrite } from '../../client/local-store.js';
import { memoryLocalStore } from '../../client/memory-local-store.js';
import { Replica } from '../../client/replica.js';
import { addSum, checksumHex } from '../../shared/checksum.js';

const schema = defineSyncSchema({
  tasks: z.object({ title: z.string(), note: z.string().optional(), n: z.number().optional() }),
  notes: z.object({ body: z.string() }),
});
const V1 = '20260502T120000.000Z-0000-srv1';
const V2 = '20260502T120001.000Z-0000-srv1';
const V3 = '20260502T120002.000Z-0000-srv1';
const SERVER_TIME = '20260502T120005.000Z-0000-srv1';

function setup(integrityOn: boolean) {
  const store = memoryLocalStore();
  const events = new Emitter<SyncClientEvents>();
  const changes: { collection: string; ids: string[]; source: string }[] = [];
  const conflicts: ConflictEvent[] = [];
  events.on('change', (e) => changes.push({ ...e, ids: [...e.ids].sort() }));
  events.on('conflict', (e) => conflicts.push(e));
  const integrity = integrityOn ? new Integrity({ auditIntervalMs: 0 }) : null;
  const clock = new HlcClock({ node: 'dev1', now: () => Date.parse('2026-05-02T12:00:00.000Z') });
  const replica = new Replica(store, schema, clock, events, integrity);
  return { store, replica, changes, conflicts, integrity };
}

const upsert = (id: string, data: Record<string, unknown>, version = V1): ChangeOut => ({
  collection: 'tasks',
  id,
  op: 'upsert',
  data,
  version,
});

/** The checksum of a collection recomputed from the stored rows. */
async function sumOf(store: LocalStore, collection: string): Promise<string> {
  let sum = 0n;
  for (const doc of await store.listDocs(collection, { limit: 10_000 }))
    sum = addSum(sum, localHash(doc));
  return checksumHex(sum);
}

function answer(results: Partial<PushResult>[]): PushResponse {
  return {
    results: results.map((r) => ({
      collection: 'tasks',
      id: 'a',
      status: 'accepted',
      ...r,
    })) as PushResult[],
    serverTime: SERVER_TIME,
  };
}

/** A subscription's stored state (a view of `tasks`, ready, nothing under way). */
const view = (key: string, extra: Record<string, unknown> = {}) => ({
  key,
  rule: 'r',
  params: null,
  collection: 'tasks',
  checkpoint: null,
  rebuild: null,
  ready: true,
  leaving: false,
  at: '',
  ...extra,
});

/** Writes a task row straight into the local store, behind the replica (its kept sums do not move). */
const putTask = (store: LocalStore, doc: Omit<LocalDoc, 'collection'>) =>
  store.write([{ type: 'putDoc', doc: { collection: 'tasks', ...doc } }]);

/** A local patch of a task. */
const patch = (replica: Replica, id: string, data: Record<string, unknown>) =>
  replica.write({ collection: 'tasks', id, op: 'patch', data });

/** Settles `entry` with one push result about it. */
const settle = (replica: Replica, entry: { mutationId: number }, result: Partial<PushResult>) =>
  replica.applyPushResults([entry as never], answer([{ mutationId: entry.mutationId, ...result }]));

async function thrown(p: Promise<unknown>): Promise<SyncError> {
  const e = await p.then(
    () => null,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(SyncError);
  return e as SyncError;
}

describe.each([
  ['on', true],
  ['off', false],
] as const)('replica, integrity checksums %s', (_name, integrityOn) => {
  describe('local writes', () => {
    it('an empty batch returns [] and writes nothing (the stored HLC stays)', async () => {
      const { store, replica } = setup(integrityOn);
      await replica.write({ collection: 'tasks', id: 'a', op: 'upsert', data: { title: 'A' } });
      const hlc = await store.getMeta('hlc');
      const next = await store.getMeta('nextMutationId');
      expect(await replica.writeMany([])).toEqual([]);
      expect(await store.getMeta('hlc')).toBe(hlc);
      expect(await store.getMeta('nextMutationId')).toBe(next);
    });

    it('an unknown collection or a bad id: BAD_REQUEST naming the field, nothing written', async () => {
      const { store, replica } = setup(integrityOn);
      const unknown = await thrown(
        replica.write({ collection: 'gone', id: 'a', op: 'delete' } as never),
      );
      expect(unknown.code).toBe('BAD_REQUEST');
      expect(unknown.message).toBe('unknown collection "gone"');
      expect(unknown.issues).toEqual([{ path: 'collection', message: 'unknown collection' }]);
      for (const id of [5, '', 'x'.repeat(257), ['x']]) {
        const e = await thrown(
          replica.write({ collection: 'tasks', id, op: 'upsert', data: { title: 'A' } } as never),
        );
        expect(e.code).toBe('BAD_REQUEST');
        expect(e.issues).toEqual([
          { path: 'id', message: 'must be a string of 1 to 256 characters' },
        ]);
      }
      // In a batch, the bad change is named by its index, and nothing of the batch is written.
      const batch = await thrown(
        replica.writeMany([
          { collection: 'tasks', id: 'ok', op: 'upsert', data: { title: 'A' } },
          { collection: 'tasks', id: '', op: 'upsert', data: { title: 'B' } },
        ]),
      );
      expect(batch.message).toMatch(/^\[1\] id: /);
      expect(await store.countOutbox()).toBe(0);
      expect(await store.getDoc('tasks', 'ok')).toBeNull();
      expect(
        await replica.write({ collection: 'tasks', id: 'x'.repeat(256), op: 'delete' }),
      ).toMatchObject({ op: 'delete' });
    });

    it('a patch is validated and stripped before it is stored; two patches of one document in a batch both apply', async () => {
      const { store, replica } = setup(integrityOn);
      await replica.write({ collection: 'tasks', id: 'a', op: 'upsert', data: { title: 'A' } });
      const [entry] = await replica.writeMany([
        { collection: 'tasks', id: 'a', op: 'patch', data: { note: 'x', unknownKey: 1 } },
        { collection: 'tasks', id: 'a', op: 'patch', data: { n: 2 } },
      ]);
      expect(entry!.data).toEqual({ note: 'x' });
      expect((await store.getDoc('tasks', 'a'))!.data).toEqual({ title: 'A', note: 'x', n: 2 });
      const removal = await thrown(
        replica.write({ collection: 'tasks', id: 'a', op: 'patch', data: { title: null } }),
      );
      expect(removal.message).toBe(
        'patch tasks/a: title: a required field cannot be removed (null)',
      );
      // Bad data is refused before the document is looked up.
      const bad = await thrown(
        replica.write({ collection: 'tasks', id: 'missing', op: 'patch', data: { n: 'x' } }),
      );
      expect(bad.code).toBe('BAD_REQUEST');
    });

    it('a local write keeps the views that delivered the document', async () => {
      const { store, replica } = setup(integrityOn);
      await putTask(store, {
        id: 'a',
        data: { title: 'A' },
        server: { title: 'A' },
        version: V1,
        views: { mine: '' },
      });
      await replica.write({ collection: 'tasks', id: 'a', op: 'patch', data: { note: 'n' } });
      expect((await store.getDoc('tasks', 'a'))!.views).toEqual({ mine: '' });
    });
  });

  describe('settling push answers', () => {
    it('only the first of two pending changes answered: the document still shows the second, pending', async () => {
      const { store, replica } = setup(integrityOn);
      const first = await replica.write({
        collection: 'tasks',
        id: 'a',
        op: 'upsert',
        data: { title: 'one' },
      });
      await replica.write({ collection: 'tasks', id: 'a', op: 'patch', data: { note: 'two' } });
      await settle(replica, first, { version: V1 });
      const doc = (await store.getDoc('tasks', 'a'))!;
      expect(doc).toMatchObject({
        data: { title: 'one', note: 'two' },
        server: { title: 'one' },
        version: V1,
        pending: true,
      });
      expect(await store.countOutbox()).toBe(1);
    });

    it('accepted: server state and version move at once (before any pull), nothing pending', async () => {
      const { store, replica, changes } = setup(integrityOn);
      await replica.applyServerChanges([upsert('a', { title: 'A' }, V1)], 'c1');
      const entry = await patch(replica, 'a', { note: 'mine' });
      expect(entry.baseVersion).toBe(V1);
      changes.length = 0;
      expect(await settle(replica, entry, { version: V2 })).toBe(1);
      expect(await store.getDoc('tasks', 'a')).toMatchObject({
        server: { title: 'A', note: 'mine' },
        data: { title: 'A', note: 'mine' },
        version: V2,
        pending: false,
      });
      expect(changes).toEqual([{ collection: 'tasks', ids: ['a'], source: 'server' }]);
      expect(await store.countOutbox()).toBe(0);
      if (integrityOn)
        expect((await store.getMeta('checksums'))!.tasks).toBe(await sumOf(store, 'tasks'));
      else expect(await store.getMeta('checksums')).toBeNull();
      // The server clock is received: later local HLCs are above it.
      expect(replica.clock.now() > SERVER_TIME).toBe(true);
    });

    it('accepted without a version keeps the version held', async () => {
      const { store, replica } = setup(integrityOn);
      await replica.applyServerChanges([upsert('a', { title: 'A' }, V1)], 'c1');
      const entry = await patch(replica, 'a', { note: 'x' });
      await settle(replica, entry, {});
      expect(await store.getDoc('tasks', 'a')).toMatchObject({
        version: V1,
        server: { title: 'A', note: 'x' },
      });
    });

    it('an answer older than the state held (a later commit came first) keeps the later state', async () => {
      const { store, replica } = setup(integrityOn);
      await replica.applyServerChanges([upsert('a', { title: 'A' }, V1)], 'c1');
      const entry = await patch(replica, 'a', { note: 'x' });
      await replica.applyServerChanges([upsert('a', { title: 'later', note: 'x' }, V3)], 'c2');
      await settle(replica, entry, { version: V2 });
      expect(await store.getDoc('tasks', 'a')).toMatchObject({
        version: V3,
        server: { title: 'later', note: 'x' },
      });
      // Equal versions (the stream delivered this very commit first): the change applies on the state held.
      const again = await patch(replica, 'a', { n: 1 });
      await settle(replica, again, { version: V3 });
      expect((await store.getDoc('tasks', 'a'))!.server).toEqual({
        title: 'later',
        note: 'x',
        n: 1,
      });
    });

    it('conflict_resolved adopts the stored document and version at once, and reports the conflict', async () => {
      const { store, replica, conflicts } = setup(integrityOn);
      await replica.applyServerChanges([upsert('a', { title: 'A' }, V1)], 'c1');
      const entry = await patch(replica, 'a', { title: 'mine' });
      await settle(replica, entry, {
        status: 'conflict_resolved',
        version: V2,
        doc: { title: 'theirs' },
      });
      expect(await store.getDoc('tasks', 'a')).toMatchObject({
        data: { title: 'theirs' },
        server: { title: 'theirs' },
        version: V2,
        pending: false,
      });
      expect(conflicts).toHaveLength(1);
      expect(conflicts[0]).toMatchObject({
        status: 'conflict_resolved',
        id: 'a',
        doc: { title: 'theirs' },
        duplicate: false,
      });
      // Without doc and version: the state held stays.
      const next = await patch(replica, 'a', { title: 'again' });
      await settle(replica, next, { status: 'conflict_resolved' });
      expect(await store.getDoc('tasks', 'a')).toMatchObject({
        server: { title: 'theirs' },
        version: V2,
      });
      expect(conflicts[1]).not.toHaveProperty('doc');
    });

    it('rejected: the server state stays (even if the answer names a doc), the change is recorded with a default error', async () => {
      const { store, replica, conflicts } = setup(integrityOn);
      await replica.applyServerChanges([upsert('a', { title: 'A' }, V1)], 'c1');
      const entry = await patch(replica, 'a', { title: 'no' });
      await settle(replica, entry, { status: 'rejected', version: V2, doc: { title: 'other' } });
      expect(await store.getDoc('tasks', 'a')).toMatchObject({
        data: { title: 'A' },
        server: { title: 'A' },
        version: V1,
      });
      const [rejected] = await replica.rejected();
      expect(rejected).toMatchObject({
        change: { mutationId: entry.mutationId },
        error: { code: 'REJECTED', message: 'rejected by the server' },
        kind: 'result',
      });
      expect(conflicts[0]).toMatchObject({
        status: 'rejected',
        id: 'a',
        duplicate: false,
        error: { code: 'REJECTED', message: 'rejected by the server' },
      });
      const refused = await patch(replica, 'a', { title: 'big' });
      await replica.applyRefusal(refused, {
        code: 'PAYLOAD_TOO_LARGE',
        message: 'too big',
        issues: [],
      } as never);
      expect(conflicts[1]).toMatchObject({
        status: 'rejected',
        duplicate: false,
        error: { code: 'PAYLOAD_TOO_LARGE', message: 'too big' },
      });
      expect('doc' in conflicts[1]!).toBe(false);
      expect((await replica.rejected()).map((r) => r.kind)).toEqual(['result', 'request']);
    });

    it('answers settle once: repeated results, an answer about another document, or no answer change nothing more', async () => {
      const { store, replica, conflicts } = setup(integrityOn);
      const entry = await replica.write({
        collection: 'tasks',
        id: 'a',
        op: 'upsert',
        data: { title: 'A' },
      });
      const hlc = await store.getMeta('hlc');
      expect(
        await replica.applyPushResults([entry], { results: [], serverTime: SERVER_TIME }),
      ).toBe(0);
      expect(await store.getMeta('hlc')).toBe(hlc);
      // The same id in another collection: not this entry.
      expect(await settle(replica, entry, { collection: 'notes', version: V1 })).toBe(0);
      expect(await store.countOutbox()).toBe(1);
      expect(
        await replica.applyPushResults(
          [entry],
          answer([
            { mutationId: entry.mutationId, status: 'rejected' },
            { mutationId: entry.mutationId, status: 'rejected' },
          ]),
        ),
      ).toBe(1);
      expect(conflicts).toHaveLength(1);
      expect(await replica.rejected()).toHaveLength(1);
    });

    it('an answered document whose row went missing is written back from the answer', async () => {
      const { store, replica } = setup(integrityOn);
      const entry = await replica.write({
        collection: 'tasks',
        id: 'a',
        op: 'upsert',
        data: { title: 'A' },
      });
      await store.write([{ type: 'deleteDoc', collection: 'tasks', id: 'a' }]);
      await settle(replica, entry, { version: V1 });
      expect(await store.getDoc('tasks', 'a')).toMatchObject({
        collection: 'tasks',
        id: 'a',
        data: { title: 'A' },
        version: V1,
        pending: false,
      });
    });

    it('in a collection served through views: a new document at one of its own HLCs stays, even when a later change of it was rejected; a view-held one stays', async () => {
      const { store, replica } = setup(integrityOn);
      await store.write([{ type: 'setMeta', key: 'viewCollections', value: ['tasks'] }]);
      const [made, later] = await replica.writeMany([
        { collection: 'tasks', id: 'mine', op: 'upsert', data: { title: 'new' } },
        { collection: 'tasks', id: 'mine', op: 'patch', data: { note: 'refused' } },
      ]);
      await replica.applyPushResults([made!, later!], {
        results: [
          {
            mutationId: made!.mutationId,
            collection: 'tasks',
            id: 'mine',
            status: 'accepted',
            version: made!.hlc,
          },
          {
            mutationId: later!.mutationId,
            collection: 'tasks',
            id: 'mine',
            status: 'rejected',
            error: { code: 'FORBIDDEN', message: 'no' },
          },
        ],
        serverTime: SERVER_TIME,
      });
      expect(await store.getDoc('tasks', 'mine')).toMatchObject({
        data: { title: 'new' },
        version: made!.hlc,
      });
      // Delivered by a view, then lost to another writer: the view speaks for it, it stays.
      await putTask(store, {
        id: 'held',
        data: { title: 'h' },
        server: { title: 'h' },
        version: V1,
        views: { v: '' },
      });
      // Written behind the replica: its kept sum is recomputed to include it.
      if (integrityOn) await replica.recompute('tasks');
      const lost = await patch(replica, 'held', { title: 'mine' });
      await settle(replica, lost, {
        id: 'held',
        status: 'conflict_resolved',
        version: V2,
        doc: { title: 'theirs' },
      });
      expect(await store.getDoc('tasks', 'held')).toMatchObject({
        data: { title: 'theirs' },
        views: { v: '' },
      });
      // Another writer's state on a document no read delivered: it leaves the device.
      const other = await replica.write({
        collection: 'tasks',
        id: 'x',
        op: 'upsert',
        data: { title: 'x' },
      });
      await settle(replica, other, {
        id: 'x',
        status: 'conflict_resolved',
        version: V2,
        doc: { title: 'theirs' },
      });
      expect(await store.getDoc('tasks', 'x')).toBeNull();
      if (integrityOn)
        expect((await store.getMeta('checksums'))!.tasks).toBe(await sumOf(store, 'tasks'));
      // A rejected new document (no version): kept as the local row it is, nothing pending.
      const refused = await replica.write({
        collection: 'tasks',
        id: 'r',
        op: 'upsert',
        data: { title: 'r' },
      });
      await settle(replica, refused, { id: 'r', status: 'rejected' });
      expect(await store.getDoc('tasks', 'r')).toMatchObject({
        version: null,
        server: null,
        pending: false,
      });
    });
  });

  describe('server pages', () => {
    it('a view page with an older version than the copy held keeps the copy and tags it with the view', async () => {
      const { store, replica } = setup(integrityOn);
      await store.write([
        { type: 'setMeta', key: 'views', value: { v: view('v', { checkpoint: 'c1' }) } },
      ]);
      // A document of this device's own, pushed and accepted: no view has delivered it.
      const entry = await replica.write({
        collection: 'tasks',
        id: 'a',
        op: 'upsert',
        data: { title: 'mine' },
      });
      await settle(replica, entry, { version: V2 });
      await replica.applyServerChanges(
        [upsert('a', { title: 'old' }, V1)],
        'c2',
        [],
        null,
        {},
        { key: 'v', pass: '' },
      );
      expect(await store.getDoc('tasks', 'a')).toMatchObject({
        data: { title: 'mine' },
        version: V2,
        views: { v: '' },
      });
      // Already tagged: nothing is written again.
      let writes = 0;
      const write = store.write.bind(store);
      store.write = (w: LocalWrite[]) => (
        (writes += w.filter((x) => x.type === 'putDoc').length),
        write(w)
      );
      await replica.applyServerChanges(
        [upsert('a', { title: 'old' }, V1)],
        'c3',
        [],
        null,
        {},
        { key: 'v', pass: '' },
      );
      expect(writes).toBe(0);
    });

    it('a default page older than a copy held is not compared with the server sums (they predate the copy)', async () => {
      const { store, replica, integrity } = setup(integrityOn);
      await replica.applyServerChanges([upsert('a', { title: 'new' }, V2)], 'c2');
      // A page read before the newer commit arrived, with the sums of its own checkpoint.
      await replica.applyServerChanges([upsert('a', { title: 'old' }, V1)], 'c3', [], null, {
        expected: { tasks: '0000000000000001' },
      });
      expect((await store.getDoc('tasks', 'a'))!.version).toBe(V2);
      if (integrity) expect(integrity.counters.mismatches).toBe(0);
    });
  });

  describe('server pages, views and resync passes', () => {
    it('a resync pass takes the export even over a newer copy, and keeps what it marked', async () => {
      const { store, replica } = setup(integrityOn);
      await replica.applyServerChanges([upsert('a', { title: 'newer' }, V2)], 'c1');
      await replica.applyFullPage(
        [{ collection: 'tasks', id: 'a', data: { title: 'export' }, version: V1, deleted: false }],
        {
          mark: 'pass',
          checkpoint: 'c9',
          cursor: null,
        } as never,
      );
      expect(await store.getDoc('tasks', 'a')).toMatchObject({
        version: V1,
        data: { title: 'export' },
        mark: 'pass',
      });
      expect(await store.getMeta('resync')).toMatchObject({ mark: 'pass' });
      expect(await replica.sweep('tasks', 'pass')).toBe(0);
      // The checkpoint is the pass's to store (at its end), not the page's.
      expect(await store.getMeta('checkpoint')).toBe('c1');
      if (integrityOn)
        expect((await store.getMeta('checksums'))!.tasks).toBe(await sumOf(store, 'tasks'));
    });

    it('a page of a view that is gone or leaving writes nothing', async () => {
      const { store, replica } = setup(integrityOn);
      await store.write([
        { type: 'setMeta', key: 'views', value: { bye: view('bye', { leaving: true }) } },
      ]);
      for (const key of ['bye', 'unknown'])
        expect(
          await replica.applyServerChanges(
            [upsert('a', { title: 'A' })],
            'c1',
            [],
            null,
            {},
            { key, pass: '' },
          ),
        ).toBe(0);
      expect(await store.getDoc('tasks', 'a')).toBeNull();
      expect(await store.getMeta('views')).toEqual({ bye: view('bye', { leaving: true }) });
    });

    it('a view page stores its own checkpoint, collection and rebuild state, tags what it delivers and keeps a resync mark; the default checkpoint stays', async () => {
      const { store, replica } = setup(integrityOn);
      await store.write([
        { type: 'setMeta', key: 'views', value: { v: view('v', { collection: null }) } },
        { type: 'setMeta', key: 'checkpoint', value: 'd1' },
      ]);
      await replica.applyServerChanges([upsert('a', { title: 'A' })], null, [], 'defaultPass');
      const rebuild = { mark: 'vp', checkpoint: 'v0', cursor: null } as never;
      await replica.applyServerChanges(
        [upsert('a', { title: 'A2' }, V2), upsert('b', { title: 'B' })],
        'v5',
        [],
        null,
        {},
        { key: 'v', pass: 'vp', rebuild },
      );
      expect((await store.getMeta('views'))!.v).toMatchObject({
        checkpoint: 'v5',
        collection: 'tasks',
        rebuild,
      });
      expect(await store.getMeta('checkpoint')).toBe('d1');
      expect(await store.getDoc('tasks', 'a')).toMatchObject({
        views: { '': '', v: 'vp' },
        mark: 'defaultPass',
        version: V2,
      });
      expect(await store.getDoc('tasks', 'b')).toMatchObject({ views: { v: 'vp' }, mark: null });
      expect(await store.getMeta('viewCollections')).toEqual(['tasks']);
      // The rebuild ends: `null` is stored, a page without a checkpoint keeps the one held.
      await replica.applyServerChanges(
        [],
        null,
        [],
        null,
        {},
        { key: 'v', pass: '', rebuild: null },
      );
      expect((await store.getMeta('views'))!.v).toMatchObject({ checkpoint: 'v5', rebuild: null });
    });

    it('`left` from one view keeps a document another view holds, removes one no view holds, and keeps a pending one', async () => {
      const { store, replica, changes } = setup(integrityOn);
      await store.write([{ type: 'setMeta', key: 'views', value: { v: view('v'), w: view('w') } }]);
      await replica.applyServerChanges(
        [
          upsert('both', { title: 'b' }),
          upsert('one', { title: 'o' }),
          upsert('mine', { title: 'm' }),
        ],
        'v1',
        [],
        null,
        {},
        { key: 'v', pass: '' },
      );
      await replica.applyServerChanges(
        [upsert('both', { title: 'b' })],
        'w1',
        [],
        null,
        {},
        { key: 'w', pass: '' },
      );
      await replica.write({ collection: 'tasks', id: 'mine', op: 'patch', data: { note: 'n' } });
      changes.length = 0;
      const left = (id: string): ChangeOut => ({
        collection: 'tasks',
        id,
        op: 'delete',
        data: null,
        version: V2,
        left: true,
      });
      await replica.applyServerChanges(
        [left('both'), left('one'), left('mine'), left('never-held')],
        'v2',
        [],
        null,
        {},
        { key: 'v', pass: '' },
      );
      expect(await store.getDoc('tasks', 'both')).toMatchObject({ views: { w: '' } });
      expect(await store.getDoc('tasks', 'one')).toBeNull();
      expect(await store.getDoc('tasks', 'mine')).toMatchObject({ views: {}, pending: true });
      expect(await store.getDoc('tasks', 'never-held')).toBeNull();
      expect(changes).toEqual([
        { collection: 'tasks', ids: ['both', 'mine', 'one'], source: 'server' },
      ]);
      if (integrityOn)
        expect((await store.getMeta('checksums'))!.tasks).toBe(await sumOf(store, 'tasks'));
      else expect(await store.getMeta('checksums')).toBeNull();
      // `left` of the default request teaches that the collection is served through views.
      const fresh = setup(integrityOn);
      await fresh.replica.applyServerChanges([left('x')], 'c1');
      expect(await fresh.store.getMeta('viewCollections')).toEqual(['tasks']);
      expect(await fresh.store.getMeta('checkpoint')).toBe('c1');
    });

    it('a server change over a pending document keeps the local change on top, still pending; a version ahead of the clock moves it', async () => {
      const { store, replica } = setup(integrityOn);
      await replica.write({ collection: 'tasks', id: 'a', op: 'upsert', data: { title: 'mine' } });
      await replica.write({ collection: 'tasks', id: 'a', op: 'patch', data: { note: 'n' } });
      const FAR = '20260502T120030.000Z-0000-srv1'; // 30 s ahead of the device's clock
      await replica.applyServerChanges([upsert('a', { title: 'server', n: 1 }, FAR)], 'c1');
      expect(await store.getDoc('tasks', 'a')).toMatchObject({
        server: { title: 'server', n: 1 },
        data: { title: 'mine', note: 'n' },
        pending: true,
        version: FAR,
      });
      expect(replica.clock.now() > FAR).toBe(true);
    });

    it('the last change of a document in a page wins, in page order for the change event', async () => {
      const { store, replica } = setup(integrityOn);
      const seen: string[][] = [];
      const events = (replica as unknown as { events: Emitter<SyncClientEvents> }).events;
      events.on('change', (e) => seen.push([...e.ids]));
      await replica.applyServerChanges(
        [
          upsert('a', { title: '1' }, V1),
          upsert('b', { title: 'b' }, V1),
          upsert('a', { title: '2' }, V2),
        ],
        'c1',
      );
      expect((await store.getDoc('tasks', 'a'))!.data).toEqual({ title: '2' });
      expect(seen).toEqual([['b', 'a']]);
    });

    it('compares only collections of its schema, not served by a view, with nothing pending and no repair under way', async () => {
      const { store, replica, integrity } = setup(integrityOn);
      if (!integrity) return;
      await replica.applyServerChanges([upsert('a', { title: 'A' })], 'c1');
      const wrong = '00000000000000aa';
      // Not in the schema: ignored.
      await replica.applyServerChanges([], 'c2', [], null, { expected: { cats: wrong } });
      expect(integrity.counters).toMatchObject({ checks: 0, mismatches: 0 });
      // A repair of tasks under way: checked later.
      integrity.marks.set('tasks', 'repair');
      await replica.applyServerChanges([], 'c3', [], null, { expected: { tasks: wrong } });
      integrity.marks.clear();
      // Pending local changes of tasks: checked later.
      const entry = await replica.write({
        collection: 'tasks',
        id: 'p',
        op: 'upsert',
        data: { title: 'p' },
      });
      await replica.applyServerChanges([], 'c4', [], null, { expected: { tasks: wrong } });
      expect(integrity.counters).toMatchObject({ checks: 0, mismatches: 0 });
      await settle(replica, entry, { id: 'p', version: V2 });
      // Served by a view: its sums cover views, not the default request.
      await store.write([{ type: 'setMeta', key: 'views', value: { v: view('v') } }]);
      await replica.applyServerChanges([], 'c5', [], null, { expected: { tasks: wrong } });
      expect(integrity.counters).toMatchObject({ checks: 0, mismatches: 0 });
      await store.write([{ type: 'setMeta', key: 'views', value: {} }]);
      // Now it is compared: a mismatch is flagged with both sums and the checkpoint.
      await replica.applyServerChanges([], 'c6', [], null, { expected: { tasks: wrong } });
      expect(integrity.counters).toMatchObject({ checks: 1, mismatches: 1, audits: 0 });
      expect(integrity.pending.get('tasks')).toEqual({
        collection: 'tasks',
        expected: wrong,
        actual: await sumOf(store, 'tasks'),
        checkpoint: 'c6',
      });
      // A collection never written here compares as empty.
      await replica.applyServerChanges([], 'c7', [], null, {
        expected: { notes: '0000000000000000' },
      });
      expect(integrity.counters).toMatchObject({ checks: 2, mismatches: 1 });
    });
  });

  describe('re-identification', () => {
    it('renumbers every outbox entry above every id handed out, in order, and takes the new ids', async () => {
      const { store, replica } = setup(integrityOn);
      const sent = await replica.writeMany([
        { collection: 'tasks', id: 'a', op: 'upsert', data: { title: 'a' } },
        { collection: 'tasks', id: 'b', op: 'upsert', data: { title: 'b' } },
        { collection: 'tasks', id: 'c', op: 'upsert', data: { title: 'c' } },
      ]);
      // Entry 1 was applied as this very change: settled; 2 and 3 are renumbered after 3.
      const result = await replica.reidentify(sent, [sent[0]!.mutationId], {
        clientId: 'new-id',
        nodeId: 'newnode',
      });
      expect(result).toEqual({ renumbered: 2, recorded: 1 });
      expect((await store.listOutbox()).map((e) => [e.id, e.mutationId])).toEqual([
        ['b', 4],
        ['c', 5],
      ]);
      expect(await store.getMeta('nextMutationId')).toBe(6);
      expect(await store.getMeta('clientId')).toBe('new-id');
      expect(await store.getMeta('nodeId')).toBe('newnode');
      expect(replica.clock.now().endsWith('newnode')).toBe(true);
      expect(await store.getDoc('tasks', 'a')).toMatchObject({ pending: false });
      // Nothing recorded: nothing settled, all renumbered.
      const again = await replica.reidentify([], [], { clientId: 'third', nodeId: 'n3' });
      expect(again).toEqual({ renumbered: 2, recorded: 0 });
      expect((await store.listOutbox()).map((e) => e.mutationId)).toEqual([6, 7]);
    });
  });

  describe('audits and recomputes', () => {
    it.runIf(integrityOn)(
      'an audit that finds the kept sums wrong stores the right ones and keeps the other collections',
      async () => {
        const { store, replica, integrity } = setup(integrityOn);
        await replica.applyServerChanges(
          [
            upsert('a', { title: 'A' }),
            { collection: 'notes', id: 'n', op: 'upsert', data: { body: 'b' }, version: V1 },
          ],
          'c1',
        );
        const kept = (await store.getMeta('checksums'))!;
        await store.write([
          { type: 'setMeta', key: 'checksums', value: { ...kept, tasks: '00000000000000ff' } },
        ]);
        await replica.applyServerChanges([], 'c2', [], null, {
          expected: { tasks: kept.tasks! },
          audit: true,
        });
        expect(await store.getMeta('checksums')).toEqual(kept);
        expect(integrity!.counters).toMatchObject({ audits: 1, checks: 1, mismatches: 0 });
        // recompute stores a drifted sum and leaves the others.
        await store.write([
          { type: 'setMeta', key: 'checksums', value: { ...kept, tasks: '00000000000000ff' } },
        ]);
        expect(await replica.recompute('tasks')).toBe(kept.tasks);
        expect(await store.getMeta('checksums')).toEqual(kept);
      },
    );
  });

  it('clearRejected on a store that holds none', async () => {
    const { replica } = setup(integrityOn);
    await replica.clearRejected([1]);
    await replica.clearRejected();
    expect(await replica.rejected()).toEqual([]);
  });

  it('writeRemovals: a change event per document written, deleted ones leave the kept sums', async () => {
    const { store, replica, changes } = setup(integrityOn);
    await replica.applyServerChanges(
      [upsert('a', { title: 'A' }), upsert('b', { title: 'B' })],
      'c1',
    );
    const a = (await store.getDoc('tasks', 'a'))!;
    const b = (await store.getDoc('tasks', 'b'))!;
    changes.length = 0;
    await replica.exclusive(() =>
      replica.writeRemovals(
        [
          { type: 'deleteDoc', collection: 'tasks', id: 'a' },
          { type: 'putDoc', doc: { ...b, views: { w: '' } } },
        ],
        [a],
      ),
    );
    expect(changes).toEqual([{ collection: 'tasks', ids: ['a', 'b'], source: 'server' }]);
    expect(await store.getDoc('tasks', 'a')).toBeNull();
    if (integrityOn)
      expect((await store.getMeta('checksums'))!.tasks).toBe(await sumOf(store, 'tasks'));
    else expect(await store.getMeta('checksums')).toBeNull();
  });

  describe('more answers and pages', () => {
    it('collections served through views are learned from view pages and mixed pages with `left`, added to those known', async () => {
      const { store, replica } = setup(integrityOn);
      await store.write([
        { type: 'setMeta', key: 'viewCollections', value: ['notes'] },
        { type: 'setMeta', key: 'views', value: { v: view('v') } },
      ]);
      await replica.applyServerChanges(
        [upsert('a', { title: 'A' })],
        'v1',
        [],
        null,
        {},
        { key: 'v', pass: '' },
      );
      expect(await store.getMeta('viewCollections')).toEqual(['notes', 'tasks']);
      const other = setup(integrityOn);
      await other.store.write([{ type: 'setMeta', key: 'viewCollections', value: ['notes'] }]);
      await other.replica.applyServerChanges(
        [
          upsert('a', { title: 'A' }),
          { collection: 'tasks', id: 'b', op: 'delete', data: null, version: V1, left: true },
        ],
        'c1',
      );
      expect(await other.store.getMeta('viewCollections')).toEqual(['notes', 'tasks']);
    });

    it('`left` from a view that never delivered the document leaves it as it is', async () => {
      const { store, replica } = setup(integrityOn);
      await store.write([{ type: 'setMeta', key: 'views', value: { v: view('v'), w: view('w') } }]);
      await replica.applyServerChanges(
        [upsert('a', { title: 'A' })],
        'w1',
        [],
        null,
        {},
        { key: 'w', pass: '' },
      );
      await replica.applyServerChanges(
        [{ collection: 'tasks', id: 'a', op: 'delete', data: null, version: V2, left: true }],
        'v1',
        [],
        null,
        {},
        { key: 'v', pass: '' },
      );
      expect(await store.getDoc('tasks', 'a')).toMatchObject({
        views: { w: '' },
        data: { title: 'A' },
      });
    });

    it.runIf(integrityOn)('an audit finds a collection emptied behind the client', async () => {
      const { store, replica, integrity } = setup(integrityOn);
      await replica.applyServerChanges([upsert('a', { title: 'A' })], 'c1');
      const server = (await store.getMeta('checksums'))!.tasks!;
      await store.write([{ type: 'deleteDoc', collection: 'tasks', id: 'a' }]);
      await replica.applyServerChanges([], 'c2', [], null, {
        expected: { tasks: server },
        audit: true,
      });
      expect(integrity!.counters.mismatches).toBe(1);
      expect(integrity!.pending.get('tasks')).toMatchObject({
        expected: server,
        actual: '0000000000000000',
      });
    });

    it('duplicates settle as their original outcome; every push answer counts as a settle for view checks', async () => {
      const { store, replica, conflicts, integrity } = setup(integrityOn);
      await replica.applyServerChanges([upsert('a', { title: 'A' })], 'c1');
      const accepted = await patch(replica, 'a', { note: 'x' });
      await settle(replica, accepted, { status: 'duplicate', original: 'accepted', version: V2 });
      expect(await store.getDoc('tasks', 'a')).toMatchObject({
        version: V2,
        server: { title: 'A', note: 'x' },
        pending: false,
      });
      expect(conflicts).toEqual([]);
      const rejected = await patch(replica, 'a', { note: 'no' });
      await settle(replica, rejected, {
        status: 'duplicate',
        original: 'rejected',
        error: { code: 'FORBIDDEN', message: 'no' },
      });
      expect(conflicts).toMatchObject([
        { status: 'rejected', duplicate: true, error: { code: 'FORBIDDEN' } },
      ]);
      expect((await replica.rejected()).map((r) => r.error.code)).toEqual(['FORBIDDEN']);
      // Its outcome forgotten by the server: the state stays, nothing reported.
      const unknown = await patch(replica, 'a', { n: 1 });
      await settle(replica, unknown, { status: 'duplicate' });
      expect(await store.getDoc('tasks', 'a')).toMatchObject({
        version: V2,
        server: { title: 'A', note: 'x' },
        data: { title: 'A', note: 'x' },
      });
      expect(conflicts).toHaveLength(1);
      if (integrity) expect(integrity.settles).toBe(3);
    });

    it('a document that left every view stays while later changes of it are pending, and leaves once they are answered', async () => {
      const { store, replica } = setup(integrityOn);
      await putTask(store, {
        id: 'a',
        data: { title: 'A' },
        server: { title: 'A' },
        version: V1,
        views: {},
      });
      if (integrityOn) await replica.recompute('tasks');
      const first = await patch(replica, 'a', { note: '1' });
      const second = await patch(replica, 'a', { n: 2 });
      await settle(replica, first, { version: V2 });
      expect(await store.getDoc('tasks', 'a')).toMatchObject({
        data: { title: 'A', note: '1', n: 2 },
        pending: true,
      });
      await settle(replica, second, { version: V3 });
      expect(await store.getDoc('tasks', 'a')).toBeNull();
      if (integrityOn)
        expect((await store.getMeta('checksums'))!.tasks).toBe(await sumOf(store, 'tasks'));
    });

    it('re-identification after the top entries were recorded keeps numbering above every id handed out', async () => {
      const { store, replica } = setup(integrityOn);
      const sent = await replica.writeMany(
        ['a', 'b', 'c'].map((id) => ({
          collection: 'tasks',
          id,
          op: 'upsert' as const,
          data: { title: id },
        })),
      );
      await replica.reidentify(sent, [sent[1]!.mutationId, sent[2]!.mutationId], {
        clientId: 'n',
        nodeId: 'nn',
      });
      expect((await store.listOutbox()).map((e) => [e.id, e.mutationId])).toEqual([['a', 4]]);
      expect(await store.getMeta('nextMutationId')).toBe(5);
    });
  });

  describe('the resync sweep', () => {
    async function held(store: LocalStore, docs: Partial<LocalDoc>[]) {
      await store.write(
        docs.map((d) => ({
          type: 'putDoc' as const,
          doc: {
            collection: 'tasks',
            data: { title: d.id! },
            server: { title: d.id! },
            version: V1,
            ...d,
          } as LocalDoc,
        })),
      );
    }

    it('forgets unmarked documents, keeps pending ones as local-only, and only drops the default claim of view-held ones', async () => {
      const { store, replica, changes } = setup(integrityOn);
      await replica.applyServerChanges(
        [upsert('plain', { title: 'p' }), upsert('kept', { title: 'k' })],
        'c1',
        [],
        'old',
      );
      await held(store, [
        { id: 'default-only', views: { '': '' }, mark: 'old' },
        { id: 'both', views: { '': '', v: '' }, mark: 'old' },
        { id: 'view-only', views: { v: '' }, mark: 'old' },
      ]);
      const local = await patch(replica, 'kept', { note: 'mine' });
      // This pass marked `marked` only.
      await replica.applyServerChanges([upsert('marked', { title: 'm' })], null, [], 'new');
      if (integrityOn) await replica.recompute('tasks');
      changes.length = 0;
      expect(await replica.sweep('tasks', 'new')).toBe(3);
      expect(await store.getDoc('tasks', 'plain')).toBeNull();
      expect(await store.getDoc('tasks', 'default-only')).toBeNull();
      expect(await store.getDoc('tasks', 'both')).toMatchObject({ views: { v: '' }, mark: 'new' });
      expect(await store.getDoc('tasks', 'view-only')).toMatchObject({
        views: { v: '' },
        mark: 'old',
      });
      expect(await store.getDoc('tasks', 'kept')).toMatchObject({
        server: null,
        version: null,
        // The server no longer holds it: only what this device wrote is left.
        data: { note: 'mine' },
        pending: true,
        mark: 'new',
      });
      expect(await store.getDoc('tasks', 'marked')).toMatchObject({ mark: 'new' });
      expect(changes).toEqual([
        { collection: 'tasks', ids: ['default-only', 'kept', 'plain'], source: 'server' },
      ]);
      expect((await store.listOutbox()).map((e) => e.mutationId)).toEqual([local.mutationId]);
      if (integrityOn)
        expect((await store.getMeta('checksums'))!.tasks).toBe(await sumOf(store, 'tasks'));
      else expect(await store.getMeta('checksums')).toBeNull();
    });

    it('goes through every page: unmarked documents past the first 500 are forgotten too, one change event per page', async () => {
      const { store, replica, changes } = setup(integrityOn);
      const ids = Array.from({ length: 620 }, (_, i) => `d${String(i).padStart(4, '0')}`);
      await replica.applyServerChanges(
        ids.map((id) => upsert(id, { title: id })),
        'c1',
        [],
        'old',
      );
      await replica.applyServerChanges(
        ids.slice(0, 10).map((id) => upsert(id, { title: id })),
        null,
        [],
        'new',
      );
      changes.length = 0;
      expect(await replica.sweep('tasks', 'new')).toBe(610);
      expect(await store.countDocs('tasks')).toBe(10);
      expect(changes.map((c) => c.ids.length)).toEqual([490, 120]);
      if (integrityOn)
        expect((await store.getMeta('checksums'))!.tasks).toBe(await sumOf(store, 'tasks'));
    });
  });
});
