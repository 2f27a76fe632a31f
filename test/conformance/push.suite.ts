/** Conformance: push statuses, exactly-once retries, server clock and server-side writes. */
import { describe, expect, it } from 'vitest';
import { expectSyncError, newActor, type useStore } from './fixture.js';

type Ctx = ReturnType<typeof useStore>;

export function pushSuite(ctx: Ctx): void {
  describe('push', () => {
    it('accepts new documents and reports each version', async () => {
      const actor = newActor();
      const res = await ctx.engine().push(actor, {
        clientId: 'd1',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: 't1',
            op: 'upsert',
            data: { title: 'Buy milk' },
          },
          { mutationId: 2, collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'hello' } },
        ],
      });
      expect(res.results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
      expect(res.results[0]!.version).toMatch(/^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{4}-/);
      const page = await ctx.engine().pull(actor, {});
      expect(page.changes.find((c) => c.id === 't1')!.data).toEqual({
        title: 'Buy milk',
        done: false,
      });
    });

    it('applies a push retried three times exactly once and answers the original outcome', async () => {
      const actor = newActor();
      const push = {
        clientId: 'd1',
        changes: [
          {
            mutationId: 7,
            collection: 'tasks',
            id: 't1',
            op: 'upsert' as const,
            data: { title: 'a' },
          },
          {
            mutationId: 8,
            collection: 'tasks',
            id: 't1',
            op: 'patch' as const,
            data: { done: true },
          },
        ],
      };
      const first = await ctx.engine().push(actor, push);
      const retries = await Promise.all([
        ctx.engine().push(actor, push),
        ctx.engine().push(actor, push),
        ctx.engine().push(actor, push),
      ]);
      for (const retry of retries) {
        expect(retry.results.map((r) => r.status)).toEqual(['duplicate', 'duplicate']);
        expect(retry.results.map((r) => r.original)).toEqual(['accepted', 'accepted']);
        expect(retry.results.map((r) => r.version)).toEqual(first.results.map((r) => r.version));
      }
      const head = await ctx.store().head(actor.scopeId);
      expect(head.seq).toBe(1);
      const oplog = await ctx.store().readOplog(actor.scopeId, { afterSeq: 0 });
      expect(oplog).toHaveLength(2);
    });

    it('answers a repeated mutation id duplicate only for the same change; a different change under it is CLIENT_ID_CONFLICT', async () => {
      const actor = newActor();
      const sent = {
        mutationId: 10,
        collection: 'tasks',
        id: 't1',
        op: 'upsert' as const,
        data: { title: 'v1' },
      };
      await ctx.engine().push(actor, { clientId: 'd1', changes: [sent] });
      // The same change again (a retry) next to a new one: duplicate, and the new one applies.
      const retry = await ctx.engine().push(actor, {
        clientId: 'd1',
        changes: [
          sent,
          { mutationId: 11, collection: 'tasks', id: 't2', op: 'upsert', data: { title: 'new' } },
        ],
      });
      expect(retry.results.map((r) => r.status)).toEqual(['duplicate', 'accepted']);
      const head = await ctx.store().head(actor.scopeId);
      // A different change under id 10 (a copied device), or under an id never recorded (5): refused whole.
      for (const changes of [
        [
          { ...sent, data: { title: 'same id, other change' } },
          {
            mutationId: 12,
            collection: 'tasks',
            id: 't3',
            op: 'upsert' as const,
            data: { title: 'x' },
          },
        ],
        [
          {
            mutationId: 5,
            collection: 'tasks',
            id: 't1',
            op: 'upsert' as const,
            data: { title: 'older id' },
          },
          sent,
        ],
      ]) {
        const error = await expectSyncError(
          ctx.engine().push(actor, { clientId: 'd1', changes }),
          'CLIENT_ID_CONFLICT',
        );
        expect(error.status).toBe(409);
        expect(error.issues[0]!.path).toBe('changes.0.mutationId');
        // `recorded`: the ids of the push that the ledger holds as these very changes.
        expect(error.recorded).toEqual(changes[1] === sent ? [10] : []);
      }
      expect(await ctx.store().head(actor.scopeId)).toEqual(head);
      const { changes } = await ctx.engine().pull(actor, {});
      expect(changes.map((c) => [c.id, c.data?.title]).sort()).toEqual([
        ['t1', 'v1'],
        ['t2', 'new'],
      ]);
      // Nothing was recorded: id 12 is still free, and another client's ids are its own.
      const next = await ctx.engine().push(actor, {
        clientId: 'd1',
        changes: [
          {
            mutationId: 12,
            collection: 'tasks',
            id: 't4',
            op: 'upsert',
            data: { title: 'after' },
          },
        ],
      });
      expect(next.results[0]!.status).toBe('accepted');
      const other = await ctx.engine().push(actor, {
        clientId: 'd2',
        changes: [
          { mutationId: 1, collection: 'tasks', id: 't3', op: 'upsert', data: { title: 'x' } },
        ],
      });
      expect(other.results[0]!.status).toBe('accepted');
    });

    it('records nothing for another user pushing under a client id: refused, and the owner is unaffected', async () => {
      const owner = newActor();
      const intruder = { userId: `${owner.userId}-other`, scopeId: owner.scopeId };
      const first = {
        mutationId: 1,
        collection: 'tasks',
        id: 't1',
        op: 'upsert' as const,
        data: { title: 'mine' },
      };
      await ctx.engine().push(owner, { clientId: 'dev-a', changes: [first] });
      const head = await ctx.store().head(owner.scopeId);
      for (const mutationId of [2, Number.MAX_SAFE_INTEGER]) {
        const error = await expectSyncError(
          ctx.engine().push(intruder, {
            clientId: 'dev-a',
            changes: [
              {
                mutationId,
                collection: 'tasks',
                id: 't9',
                op: 'upsert',
                data: { title: 'theirs' },
              },
            ],
          }),
          'CLIENT_ID_CONFLICT',
        );
        expect(error.issues[0]!.path).toBe('clientId');
      }
      expect(await ctx.store().head(owner.scopeId)).toEqual(head);
      // The owner's next ids still apply, and its retry is still a duplicate.
      const next = await ctx.engine().push(owner, {
        clientId: 'dev-a',
        changes: [
          first,
          {
            mutationId: 2,
            collection: 'tasks',
            id: 't2',
            op: 'upsert',
            data: { title: 'mine too' },
          },
        ],
      });
      expect(next.results.map((r) => r.status)).toEqual(['duplicate', 'accepted']);
    });

    it('refuses mutation ids more than limits.maxMutationIdGap past the last recorded one, recording nothing', async () => {
      const actor = newActor();
      const error = await expectSyncError(
        ctx.engine().push(actor, {
          clientId: 'd1',
          changes: [
            {
              mutationId: Number.MAX_SAFE_INTEGER,
              collection: 'tasks',
              id: 't1',
              op: 'upsert',
              data: { title: 'x' },
            },
          ],
        }),
        'BAD_REQUEST',
      );
      expect(error.issues[0]!.path).toBe('changes.0.mutationId');
      expect(error.message).toContain('maxMutationIdGap');
      const res = await ctx.engine().push(actor, {
        clientId: 'd1',
        changes: [
          { mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'x' } },
        ],
      });
      expect(res.results[0]!.status).toBe('accepted');
      // Measured from the last recorded id, not from 0.
      const gap = ctx.engine().limits.maxMutationIdGap;
      const far = await ctx.engine().push(actor, {
        clientId: 'd1',
        changes: [
          {
            mutationId: 1 + gap,
            collection: 'tasks',
            id: 't2',
            op: 'upsert',
            data: { title: 'y' },
          },
        ],
      });
      expect(far.results[0]!.status).toBe('accepted');
    });

    it('checks a non-atomic push against the ledger first: a conflict applies none of it', async () => {
      const actor = newActor();
      await ctx.engine().push(actor, {
        clientId: 'd1',
        changes: [
          { mutationId: 3, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'v1' } },
        ],
      });
      const head = await ctx.store().head(actor.scopeId);
      await expectSyncError(
        ctx.engine().push(actor, {
          clientId: 'd1',
          atomic: false,
          changes: [
            {
              mutationId: 4,
              collection: 'tasks',
              id: 't2',
              op: 'upsert',
              data: { title: 'would apply' },
            },
            {
              mutationId: 3,
              collection: 'tasks',
              id: 't3',
              op: 'upsert',
              data: { title: 'not what 3 was' },
            },
          ].reverse(),
        }),
        'CLIENT_ID_CONFLICT',
      );
      expect(await ctx.store().head(actor.scopeId)).toEqual(head);
    });

    it('reports conflict_resolved with the stored document when a newer write wins', async () => {
      const actor = newActor();
      await ctx.engine().push(actor, {
        clientId: 'd1',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: 't1',
            op: 'upsert',
            data: { title: 'new' },
            hlc: '20260502T120000.000Z-0000-aaaa',
          },
        ],
      });
      const res = await ctx.engine().push(actor, {
        clientId: 'd2',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: 't1',
            op: 'patch',
            data: { title: 'old', done: true },
            hlc: '20260501T120000.000Z-0000-bbbb',
          },
        ],
      });
      expect(res.results[0]!.status).toBe('conflict_resolved');
      expect(res.results[0]!.doc).toEqual({ title: 'new', done: false });
    });

    it('stamps a change whose clock is too far ahead with the server clock', async () => {
      const actor = newActor();
      const future = '20990101T000000.000Z-0000-fut1';
      const res = await ctx.engine().push(actor, {
        clientId: 'd1',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: 't1',
            op: 'upsert',
            data: { title: 'x' },
            hlc: future,
          },
        ],
      });
      expect(res.results[0]!.version).not.toBe(future);
      expect(res.results[0]!.version! < '2099').toBe(true);
      expect(res.serverTime < '2099').toBe(true);
    });

    it('restamps a change whose HLC is not above an earlier change of the same push to the same document', async () => {
      const actor = newActor();
      const hlc = '20260502T120000.000Z-0000-same';
      const res = await ctx.engine().push(actor, {
        clientId: 'd1',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: 't1',
            op: 'upsert',
            data: { title: 'first' },
            hlc,
          },
          {
            mutationId: 2,
            collection: 'tasks',
            id: 't1',
            op: 'patch',
            data: { title: 'second' },
            hlc,
          },
        ],
      });
      expect(res.results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
      expect(res.results[0]!.version).toBe(hlc);
      expect(res.results[1]!.version! > hlc).toBe(true);
      expect((await ctx.engine().full(actor, {})).docs[0]!.data).toEqual({
        title: 'second',
        done: false,
      });
    });

    it('writes from the server get versions, oplog entries and reach pulls', async () => {
      const actor = newActor();
      const res = await ctx.engine().write(actor.scopeId, [
        { collection: 'tasks', id: 'job-1', op: 'upsert', data: { title: 'from a job' } },
        { collection: 'tasks', id: 'job-1', op: 'patch', data: { priority: 2 } },
      ]);
      expect(res.results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
      const { changes } = await ctx.engine().pull(actor, {});
      expect(changes).toEqual([
        expect.objectContaining({
          id: 'job-1',
          data: { title: 'from a job', done: false, priority: 2 },
        }),
      ]);
    });
  });
}
