/** Conformance: atomic batches roll back on a store failure; `atomic: false` applies one by one. */
import { describe, expect, it } from 'vitest';
import type { Store, StoreTx } from '../../server/stores/store.js';
import { makeEngine, newActor, type useStore } from './fixture.js';

type Ctx = ReturnType<typeof useStore>;

/** Wraps a store so that the n-th transaction (1-based) fails inside `appendOplog`, after docs were written. */
function failingStore(store: Store, failOn: (n: number) => boolean): Store {
  let n = 0;
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'transaction') {
        return <T>(scope: string, fn: (tx: StoreTx) => Promise<T>) => {
          const count = ++n;
          return target.transaction(scope, (tx) =>
            fn(
              failOn(count)
                ? new Proxy(tx, {
                    get(t, p) {
                      if (p === 'appendOplog')
                        return async () => {
                          throw new Error('injected store failure');
                        };
                      const v = Reflect.get(t, p, t);
                      return typeof v === 'function' ? v.bind(t) : v;
                    },
                  })
                : tx,
            ),
          );
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

const changes = [1, 2, 3].map((i) => ({
  mutationId: i,
  collection: 'tasks' as const,
  id: `t${i}`,
  op: 'upsert' as const,
  data: { title: `t${i}` },
}));

export function atomicitySuite(ctx: Ctx): void {
  describe('atomic batches', () => {
    it('rolls back the whole batch when the store fails mid-way; a retry then applies it', async () => {
      const actor = newActor();
      const engine = makeEngine(failingStore(ctx.store(), (n) => n === 1));
      await expect(engine.push(actor, { clientId: 'd', changes })).rejects.toThrow(
        /injected store failure/,
      );
      expect(await ctx.store().head(actor.scopeId)).toEqual({ seq: 0, horizon: 0 });
      expect((await engine.full(actor, {})).docs).toEqual([]);
      const retry = await engine.push(actor, { clientId: 'd', changes });
      expect(retry.results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
      await engine.close();
    });

    it('atomic: false applies changes one by one and reports each', async () => {
      const actor = newActor();
      const engine = makeEngine(ctx.store(), { deletePolicy: 'reject_update' });
      await engine.push(actor, {
        clientId: 'seed',
        changes: [
          { mutationId: 1, collection: 'tasks', id: 't2', op: 'upsert', data: { title: 'x' } },
          { mutationId: 2, collection: 'tasks', id: 't2', op: 'delete' },
        ],
      });
      const res = await engine.push(actor, { clientId: 'd', atomic: false, changes });
      expect(res.results.map((r) => r.status)).toEqual(['accepted', 'rejected', 'accepted']);
      expect((await ctx.store().head(actor.scopeId)).seq).toBe(3); // seed + one commit per applied change
      await engine.close();
    });

    it('atomic: false keeps the changes committed before a store failure; the retry answers them as duplicates', async () => {
      const actor = newActor();
      // Transaction 1 checks the whole push against the ledger; 2 applies t1, 3 (failing) t2.
      const engine = makeEngine(failingStore(ctx.store(), (n) => n === 3));
      await expect(engine.push(actor, { clientId: 'd', atomic: false, changes })).rejects.toThrow(
        /injected store failure/,
      );
      expect((await engine.full(actor, {})).docs.map((d) => d.id)).toEqual(['t1']);
      const retry = await engine.push(actor, { clientId: 'd', atomic: false, changes });
      expect(retry.results.map((r) => r.status)).toEqual(['duplicate', 'accepted', 'accepted']);
      await engine.close();
    });
  });
}
