/** Regression for the stream freeze found by the PostgreSQL restart test: a subscribe made while the database is down must not leave the scope's live feed stuck. */
import { describe, expect, it } from 'vitest';
import { createSyncEngine } from '../../server/engine/engine.js';
import { demoSchema } from '../../server/demo/schema.js';
import { memoryStore } from '../../server/stores/memory.js';
import type { Store } from '../../server/stores/store.js';

/** The memory store, with `head()` failing like an unreachable database while `down` is set. */
function flakyStore(): { store: Store; setDown(down: boolean): void } {
  const inner = memoryStore();
  let down = false;
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'head') {
        return async (scope: string) => {
          if (down)
            throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
              code: 'ECONNREFUSED',
            });
          return target.head(scope);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
  return { store, setDown: (d) => void (down = d) };
}

describe('live feed after a failed subscribe', () => {
  it('a stream opened once the database is back gets live commits, although a subscribe failed while it was down', async () => {
    const { store, setDown } = flakyStore();
    await store.init();
    const engine = createSyncEngine({
      store,
      schema: demoSchema,
      retention: { maxAgeMs: 3_600_000, pruneIntervalMs: 0 },
    });
    const actor = { userId: 'u', scopeId: 'shop' };
    try {
      setDown(true);
      const failing = engine.stream(actor, {})[Symbol.asyncIterator]();
      await expect(failing.next()).rejects.toThrow(/ECONNREFUSED/);
      setDown(false);

      const abort = new AbortController();
      const events = engine.stream(actor, {}, abort.signal)[Symbol.asyncIterator]();
      const first = events.next(); // subscribes, catches up (nothing), then waits for live commits
      await expect.poll(() => engine.feedStatus().subscribers, { timeout: 15_000 }).toBe(1);
      await engine.write('shop', [
        { collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'live' } },
      ]);
      const next = await Promise.race([
        first,
        new Promise<'stuck'>((r) => setTimeout(() => r('stuck'), 2000)),
      ]);
      expect(next).not.toBe('stuck');
      expect(next).toMatchObject({
        value: { type: 'changes', changes: [{ id: 't1', op: 'upsert' }] },
      });
      abort.abort();
      await events.return?.(undefined);
    } finally {
      await engine.close();
      await store.close();
    }
  });
});
