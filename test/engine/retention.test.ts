/**
 * Configured retention and the scheduled prune, on every store: `engine.prune()` without `before`
 * removes only history older than `retention.maxAgeMs`, and the timer prunes by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncEngine } from '../../server/engine/engine.js';
import type { EngineEvent } from '../../server/engine/types.js';
import type { Store } from '../../server/stores/store.js';
import { newActor, testSchema } from '../conformance/fixture.js';
import { storeCases } from '../rest/harness.js';

const cases = await storeCases();

describe.each(cases)('retention on $name', ({ create }) => {
  let store: Store;
  beforeAll(async () => {
    store = await create();
  });
  afterAll(async () => store?.close());

  it('prune() without `before` keeps history younger than retention.maxAgeMs and removes what is older', async () => {
    const engine = createSyncEngine({
      store,
      schema: testSchema,
      retention: { maxAgeMs: 3_600_000, pruneIntervalMs: 0 },
    });
    const actor = newActor('keep');
    await engine.push(actor, {
      clientId: 'd',
      changes: [
        { mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'young' } },
      ],
    });
    await engine.prune();
    expect(await store.readOplog(actor.scopeId, { afterSeq: 0 })).toHaveLength(1);
    expect((await engine.pull(actor, {})).changes.map((c) => c.id)).toEqual(['t1']);
    await engine.close();

    // One millisecond of retention: the same history is now old.
    const strict = createSyncEngine({
      store,
      schema: testSchema,
      retention: { maxAgeMs: 1, pruneIntervalMs: 0 },
    });
    const head = await store.head(actor.scopeId);
    for (
      let i = 0;
      i < 200 && (await store.readOplog(actor.scopeId, { afterSeq: 0 })).length > 0;
      i++
    ) {
      await strict.prune();
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await store.readOplog(actor.scopeId, { afterSeq: 0 })).toEqual([]);
    expect(await store.head(actor.scopeId)).toEqual({ seq: head.seq, horizon: head.seq });
    await strict.close();
  });

  it('the scheduled prune runs by itself every retention.pruneIntervalMs', async () => {
    const events: EngineEvent[] = [];
    const engine = createSyncEngine({
      store,
      schema: testSchema,
      retention: { maxAgeMs: 1, pruneIntervalMs: 20 },
      onEvent: (e) => events.push(e),
    });
    const actor = newActor('timer');
    await engine.push(actor, {
      clientId: 'd',
      changes: [
        {
          mutationId: 1,
          collection: 'tasks',
          id: 't1',
          op: 'upsert',
          data: { title: 'soon pruned' },
        },
      ],
    });
    const deadline = Date.now() + 20_000;
    while ((await store.head(actor.scopeId)).horizon === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect((await store.head(actor.scopeId)).horizon).toBe(1);
    expect(events.some((e) => e.type === 'prune')).toBe(true);
    await engine.close();
    // Closed: no timer keeps running (nothing more is pruned once closed, and the process may exit).
    const count = events.filter((e) => e.type === 'prune').length;
    await engine.push(actor, {
      clientId: 'd',
      changes: [
        { mutationId: 2, collection: 'tasks', id: 't2', op: 'upsert', data: { title: 'kept' } },
      ],
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(events.filter((e) => e.type === 'prune').length).toBe(count);
  });
});
