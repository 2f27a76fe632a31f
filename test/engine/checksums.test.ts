/**
 * The server's integrity checksums on the memory store (the conformance suite and
 * test/client/integrity.test.ts run the same on PGlite and PostgreSQL): `verifyChecksums` over
 * more than one scan page, finding and resetting drift written behind the engine, starting over
 * when a commit lands during the scan, and `checksumsAt` leaving out what is not exact.
 */
import { describe, expect, it } from 'vitest';
import { checksumHex, docHash, EMPTY_CHECKSUM } from '../../shared/checksum.js';
import { checksumsAt, storedHash, verifyChecksums } from '../../server/engine/checksums.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import type { Store, StoredDoc } from '../../server/stores/store.js';
import { memoryStore } from '../../server/stores/memory.js';
import { newActor, testSchema } from '../conformance/fixture.js';

async function setup() {
  const store = memoryStore();
  await store.init();
  const engine = createSyncEngine({ store, schema: testSchema, retention: { pruneIntervalMs: 0 } });
  return { store, engine };
}

/** Writes a document straight into the store, as a database administrator would: no sums move. */
async function behindTheEngine(store: Store, scope: string, doc: StoredDoc): Promise<void> {
  await store.transaction(scope, async (tx) => tx.putDocs([doc]));
}

describe('verifyChecksums', () => {
  it('recomputes over every scan page, counts live documents only, collections sorted', async () => {
    const { store, engine } = await setup();
    const scope = newActor('verify').scopeId;
    const ids = Array.from({ length: 1200 }, (_, i) => `t${i}`);
    for (let i = 0; i < ids.length; i += 600)
      await engine.write(
        scope,
        ids
          .slice(i, i + 600)
          .map((id) => ({ collection: 'tasks', id, op: 'upsert', data: { title: id } })),
      );
    await engine.write(scope, [
      { collection: 'tasks', id: 't0', op: 'delete' },
      { collection: 'notes', id: 'n', op: 'upsert', data: { body: 'b' } },
    ]);
    const report = await verifyChecksums(store, scope);
    expect(report).toMatchObject({
      scope,
      seq: (await store.head(scope)).seq,
      mismatches: 0,
      reset: false,
    });
    expect(report.collections.map((c) => [c.collection, c.docs, c.ok])).toEqual([
      ['notes', 1, true],
      ['tasks', 1199, true],
    ]);
    expect(report.collections.every((c) => c.kept === c.computed)).toBe(true);
    // Only the asked collections.
    expect(
      (await verifyChecksums(store, scope, { collections: ['notes'] })).collections.map(
        (c) => c.collection,
      ),
    ).toEqual(['notes']);
  });

  it('finds a document changed behind the engine, and with reset sets the kept sum to the recomputed one', async () => {
    const { store, engine } = await setup();
    const scope = newActor('drift').scopeId;
    await engine.write(scope, [
      { collection: 'tasks', id: 'a', op: 'upsert', data: { title: 'A' } },
      { collection: 'notes', id: 'n', op: 'upsert', data: { body: 'b' } },
    ]);
    const [doc] = await store.scanDocs(scope, { collections: ['tasks'], after: null, limit: 10 });
    await behindTheEngine(store, scope, { ...doc!, data: { title: 'fixed by hand' } });
    const found = await verifyChecksums(store, scope);
    expect(found.mismatches).toBe(1);
    const tasks = found.collections.find((c) => c.collection === 'tasks')!;
    expect(tasks).toMatchObject({ docs: 1, ok: false });
    expect(tasks.computed).toBe(
      checksumHex(docHash('a', doc!.version, { title: 'fixed by hand' })),
    );
    expect(found.collections.find((c) => c.collection === 'notes')).toMatchObject({ ok: true });
    // Found, not reset: the kept sums are unchanged.
    expect((await verifyChecksums(store, scope)).mismatches).toBe(1);
    const reset = await verifyChecksums(store, scope, { reset: true });
    expect(reset).toMatchObject({ mismatches: 1, reset: true });
    expect(await verifyChecksums(store, scope)).toMatchObject({ mismatches: 0, reset: false });
    // Nothing drifted: a reset changes nothing and says so.
    expect(await verifyChecksums(store, scope, { reset: true })).toMatchObject({
      mismatches: 0,
      reset: false,
    });
    // A collection whose only document was deleted behind the engine: kept sum left, computed empty.
    await behindTheEngine(store, scope, {
      ...(await store.scanDocs(scope, { collections: ['notes'], after: null, limit: 1 }))[0]!,
      deleted: true,
    });
    const gone = await verifyChecksums(store, scope);
    expect(gone.collections.find((c) => c.collection === 'notes')).toMatchObject({
      docs: 0,
      computed: EMPTY_CHECKSUM,
      ok: false,
    });
  });

  it('a collection whose rows are gone from the database (no tombstone) is found: kept sum left, computed empty', async () => {
    const { store, engine } = await setup();
    const scope = newActor('gone').scopeId;
    await engine.write(scope, [
      { collection: 'tasks', id: 'a', op: 'upsert', data: { title: 'A' } },
      { collection: 'notes', id: 'n', op: 'upsert', data: { body: 'b' } },
    ]);
    // The store's scan no longer sees any note, as after a DELETE in the database.
    const deleted = Object.create(store) as Store;
    deleted.scanDocs = async (s, o) =>
      (await store.scanDocs(s, o)).filter((d) => d.collection !== 'notes');
    const report = await verifyChecksums(deleted, scope);
    expect(report.collections.find((c) => c.collection === 'notes')).toEqual({
      collection: 'notes',
      kept: expect.not.stringMatching(/^0+$/),
      computed: EMPTY_CHECKSUM,
      docs: 0,
      ok: false,
    });
    expect(report.mismatches).toBe(1);
    // Sorted by name, whichever side named it first.
    expect(report.collections.map((c) => c.collection)).toEqual(['notes', 'tasks']);
  });

  it('starts over when a commit lands during the scan, and gives up after `attempts`', async () => {
    const { store, engine } = await setup();
    const scope = newActor('busy').scopeId;
    await engine.write(scope, [
      { collection: 'tasks', id: 'a', op: 'upsert', data: { title: 'A' } },
    ]);
    let scans = 0;
    const busy = Object.create(store) as Store;
    busy.scanDocs = async (s, o) => {
      scans++;
      // A commit lands during the first two scans.
      if (scans <= 2)
        await engine.write(scope, [
          { collection: 'tasks', id: `x${scans}`, op: 'upsert', data: { title: 'x' } },
        ]);
      return store.scanDocs(s, o);
    };
    const report = await verifyChecksums(busy, scope);
    expect(scans).toBe(3);
    expect(report).toMatchObject({ mismatches: 0, seq: (await store.head(scope)).seq });
    expect(report.collections[0]).toMatchObject({ collection: 'tasks', docs: 3 });

    let tries = 0;
    const always = Object.create(store) as Store;
    always.scanDocs = async (s, o) => {
      tries++;
      await engine.write(scope, [
        { collection: 'tasks', id: `y${tries}`, op: 'upsert', data: { title: 'y' } },
      ]);
      return store.scanDocs(s, o);
    };
    await expect(verifyChecksums(always, scope, { attempts: 2 })).rejects.toThrow(
      `verifyChecksums: scope "${scope}" kept changing during 2 attempts; retry when it is quieter`,
    );
    expect(tries).toBe(2);
  });

  it('a reset whose scope moved before its transaction starts over and resets at the new seq', async () => {
    const { store, engine } = await setup();
    const scope = newActor('moved').scopeId;
    await engine.write(scope, [
      { collection: 'tasks', id: 'a', op: 'upsert', data: { title: 'A' } },
    ]);
    const [doc] = await store.scanDocs(scope, { collections: ['tasks'], after: null, limit: 1 });
    await behindTheEngine(store, scope, { ...doc!, data: { title: 'drift' } });
    let transactions = 0;
    const moving = Object.create(store) as Store;
    moving.transaction = async (s, fn) => {
      transactions++;
      if (transactions === 1)
        await engine.write(scope, [
          { collection: 'notes', id: 'n', op: 'upsert', data: { body: 'b' } },
        ]);
      return store.transaction(s, fn);
    };
    const report = await verifyChecksums(moving, scope, { reset: true });
    expect(transactions).toBe(2);
    expect(report).toMatchObject({
      reset: true,
      mismatches: 1,
      seq: (await store.head(scope)).seq,
    });
    expect((await verifyChecksums(store, scope)).mismatches).toBe(0);
  });

  it('refuses a store that keeps no checksums', async () => {
    const { store } = await setup();
    const none = Object.create(store) as Store;
    Object.defineProperty(none, 'checksums', { value: undefined });
    await expect(verifyChecksums(none, 's')).rejects.toThrow(
      'memory store: keeps no integrity checksums',
    );
  });
});

describe('checksumsAt and storedHash', () => {
  it('a tombstone or a document without data adds nothing', () => {
    const doc = {
      scope: 's',
      collection: 'tasks',
      id: 'a',
      data: { title: 'A' },
      fields: {},
      version: 'v1',
      deleted: false,
    } as unknown as StoredDoc;
    expect(storedHash(doc)).toBe(docHash('a', 'v1', { title: 'A' }));
    expect(storedHash({ ...doc, deleted: true })).toBe(0n);
    expect(storedHash({ ...doc, data: null })).toBe(0n);
  });

  it('exact sums only: a collection changed after `through` is left out, one never written is empty', async () => {
    const { store, engine } = await setup();
    const scope = newActor('at').scopeId;
    await engine.write(scope, [
      { collection: 'tasks', id: 'a', op: 'upsert', data: { title: 'A' } },
    ]);
    const first = (await store.head(scope)).seq;
    await engine.write(scope, [
      { collection: 'notes', id: 'n', op: 'upsert', data: { body: 'b' } },
    ]);
    const at = await checksumsAt(store, scope, ['tasks', 'notes', 'items'], first);
    expect(Object.keys(at!).sort()).toEqual(['items', 'tasks']);
    expect(at!.items).toBe(EMPTY_CHECKSUM);
    expect(at!.tasks).not.toBe(EMPTY_CHECKSUM);
    const later = await checksumsAt(store, scope, ['tasks', 'notes'], first + 1);
    expect(Object.keys(later!).sort()).toEqual(['notes', 'tasks']);
    expect(await checksumsAt(store, scope, [], first)).toBeUndefined();
    // Sums read with the head are exact at the head's seq only.
    const head = await store.head(scope, { checksums: ['tasks'] });
    expect(await checksumsAt(store, scope, ['tasks'], head.seq - 1, head)).toBeUndefined();
    expect(await checksumsAt(store, scope, ['tasks'], head.seq, head)).toEqual({
      tasks: at!.tasks,
    });
  });
});
