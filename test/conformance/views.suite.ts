/**
 * Conformance: what read rules need of a store — oplog pre-images kept exactly as written (an
 * object, `null`, or none), filtered document reads (`scanDocs` with `match`) answered like the
 * engine's own filter, and `ensureIndexes` idempotent.
 */
import { describe, expect, it } from 'vitest';
import type { OplogEntry, StoredDoc } from '../../server/stores/store.js';
import { newActor, type useStore } from './fixture.js';

type Ctx = ReturnType<typeof useStore>;

const doc = (
  scope: string,
  id: string,
  data: Record<string, unknown>,
  seq: number,
  deleted = false,
): StoredDoc => ({
  scope,
  collection: 'tasks',
  id,
  data,
  fields: {},
  version: `20260101T000000.000Z-000${seq}-test`,
  seq,
  deleted,
  actor: 'u',
});

export function viewsSuite(ctx: Ctx): void {
  describe('read rules (pre-images, filtered reads)', () => {
    it("keeps each oplog entry's pre-image as written: an object, null, or none", async () => {
      const { scopeId: scope } = newActor('pre');
      const at = new Date();
      const base = {
        scope,
        seq: 1,
        collection: 'tasks',
        op: 'upsert' as const,
        version: '20260101T000000.000Z-0001-test',
        actor: 'u',
        clientId: null,
        mutationId: null,
        at,
      };
      const entries: OplogEntry[] = [
        { ...base, idx: 0, id: 'a', data: { owner: 'ann' }, before: { owner: 'bob', n: 1 } },
        { ...base, idx: 1, id: 'b', data: { owner: 'ann' }, before: null },
        { ...base, idx: 2, id: 'c', data: { owner: 'ann' } },
      ];
      await ctx.store().transaction(scope, async (tx) => {
        await tx.appendOplog(entries);
        await tx.setHead(1);
      });
      const read = await ctx.store().readOplog(scope, { afterSeq: 0 });
      expect(read.map((e) => [e.id, e.before])).toEqual([
        ['a', { owner: 'bob', n: 1 }],
        ['b', null],
        ['c', undefined],
      ]);
      expect('before' in read[2]!).toBe(false);
    });

    it('readOplog with match: entries of a filtered collection only when before or after matches, or no pre-image is kept; others whole', async () => {
      const { scopeId: scope } = newActor('opmatch');
      const at = new Date();
      const base = {
        scope,
        seq: 1,
        op: 'upsert' as const,
        version: '20260101T000000.000Z-0001-test',
        actor: 'u',
        clientId: null,
        mutationId: null,
        at,
      };
      const entries: OplogEntry[] = [
        { ...base, idx: 0, collection: 'tasks', id: 'in', data: { owner: 'ann' }, before: null },
        {
          ...base,
          idx: 1,
          collection: 'tasks',
          id: 'left',
          data: { owner: 'bob' },
          before: { owner: 'ann' },
        },
        {
          ...base,
          idx: 2,
          collection: 'tasks',
          id: 'never',
          data: { owner: 'bob' },
          before: { owner: 'carl' },
        },
        { ...base, idx: 3, collection: 'tasks', id: 'unknown', data: { owner: 'bob' } },
        {
          ...base,
          idx: 4,
          collection: 'tasks',
          id: 'deleted',
          op: 'delete',
          data: null,
          before: { owner: 'ann' },
        },
        {
          ...base,
          idx: 5,
          collection: 'tasks',
          id: 'gone',
          op: 'delete',
          data: null,
          before: { owner: 'bob' },
        },
        { ...base, idx: 6, collection: 'notes', id: 'n', data: { body: 'x' } },
      ];
      await ctx.store().transaction(scope, async (tx) => {
        await tx.appendOplog(entries);
        await tx.setHead(1);
      });
      const read = await ctx.store().readOplog(scope, {
        afterSeq: 0,
        collections: ['tasks', 'notes'],
        match: new Map([['tasks', [{ owner: ['ann'] }]]]),
      });
      expect(read.map((e) => e.id)).toEqual(['in', 'left', 'unknown', 'deleted', 'n']);
      const limited = await ctx.store().readOplog(scope, {
        afterSeq: 0,
        limit: 2,
        match: new Map([['tasks', [{ owner: ['ann'] }]]]),
      });
      expect(limited.map((e) => e.id)).toEqual(['in', 'left']);
    });

    it('scanDocs with match: live documents whose fields equal one of the values (missing = null), keyset pages', async () => {
      const { scopeId: scope } = newActor('match');
      const docs = [
        doc(scope, 'd1', { owner: 'ann', n: 1 }, 1),
        doc(scope, 'd2', { owner: 'bob', n: 1.0 }, 1),
        doc(scope, 'd3', { owner: 'ann', n: '1' }, 1),
        doc(scope, 'd4', { n: 2 }, 1),
        doc(scope, 'd5', { owner: null, n: 2 }, 1),
        doc(scope, 'd6', { owner: 'ann', n: 1 }, 1, true),
        doc(scope, 'd7', { owner: 'ann', n: true }, 1),
        doc(scope, 'd8', { owner: ['ann'], n: 1 }, 1),
      ];
      await ctx.store().transaction(scope, async (tx) => {
        await tx.putDocs(docs);
        await tx.setHead(1);
      });
      await ctx.store().ensureIndexes?.([{ collection: 'tasks', fields: ['n', 'owner'] }]);
      await ctx.store().ensureIndexes?.([{ collection: 'tasks', fields: ['owner'] }]);
      const ids = async (
        match: Record<string, readonly (string | number | boolean | null)[]>[],
        after: string | null = null,
        limit = 100,
      ) =>
        (
          await ctx.store().scanDocs(scope, {
            collections: ['tasks'],
            match,
            after: after ? { collection: 'tasks', id: after } : null,
            limit,
          })
        ).map((d) => d.id);
      expect(await ids([{ owner: ['ann'] }])).toEqual(['d1', 'd3', 'd7']);
      expect(await ids([{ owner: ['ann'], n: [1] }])).toEqual(['d1']);
      expect(await ids([{ n: [1] }])).toEqual(['d1', 'd2', 'd8']);
      expect(await ids([{ owner: ['ann', 'bob'] }])).toEqual(['d1', 'd2', 'd3', 'd7']);
      expect(await ids([{ owner: [null] }])).toEqual(['d4', 'd5']);
      expect(await ids([{ owner: ['bob'] }, { n: [2] }])).toEqual(['d2', 'd4', 'd5']);
      expect(await ids([{ n: [true] }])).toEqual(['d7']);
      expect(await ids([{ owner: [] }])).toEqual([]);
      expect(await ids([])).toEqual([]);
      expect(await ids([{}])).toEqual(['d1', 'd2', 'd3', 'd4', 'd5', 'd7', 'd8']);
      expect(await ids([{ owner: ['ann', 'bob'] }], 'd1', 2)).toEqual(['d2', 'd3']);
      expect(await ids([{ owner: ['ann'] }], 'd3')).toEqual(['d7']);
      // Another scope sees none of them.
      expect(
        (
          await ctx
            .store()
            .scanDocs(newActor('other').scopeId, { collections: ['tasks'], match: [{}], limit: 10 })
        ).length,
      ).toBe(0);
    });

    it('scanDocs with match on $writer: the last writer kept with the document, not a data field, indexed', async () => {
      const { scopeId: scope } = newActor('writer');
      const docs = [
        { ...doc(scope, 'w1', { owner: 'ann' }, 1), actor: 'ann' },
        { ...doc(scope, 'w2', { owner: 'ann', $writer: 'ann' }, 1), actor: 'bob' },
        { ...doc(scope, 'w3', { owner: 'bob' }, 1), actor: 'ann' },
        { ...doc(scope, 'w4', { owner: 'ann' }, 1, true), actor: 'ann' },
      ];
      await ctx.store().transaction(scope, async (tx) => {
        // A data key named `$writer` is refused by MongoDB; the others keep it as data.
        await tx.putDocs(ctx.store().kind === 'mongodb' ? docs.filter((d) => d.id !== 'w2') : docs);
        await tx.setHead(1);
      });
      await ctx.store().ensureIndexes?.([{ collection: 'tasks', fields: ['$writer', 'owner'] }]);
      await ctx.store().ensureIndexes?.([{ collection: 'tasks', fields: ['$writer'] }]);
      const ids = async (match: Record<string, readonly (string | number | boolean | null)[]>[]) =>
        (await ctx.store().scanDocs(scope, { collections: ['tasks'], match, limit: 100 })).map(
          (d) => d.id,
        );
      expect(await ids([{ $writer: ['ann'] }])).toEqual(['w1', 'w3']);
      expect(await ids([{ $writer: ['ann'], owner: ['ann'] }])).toEqual(['w1']);
      expect(await ids([{ $writer: ['bob'] }])).toEqual(
        ctx.store().kind === 'mongodb' ? [] : ['w2'],
      );
      expect(await ids([{ $writer: ['ann', 'bob'] }, { owner: ['bob'] }])).toEqual(
        ctx.store().kind === 'mongodb' ? ['w1', 'w3'] : ['w1', 'w2', 'w3'],
      );
      expect(await ids([{ $writer: [] }])).toEqual([]);
    });
  });
}
