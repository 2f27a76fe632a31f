/** A prune that runs while a pull reads the oplog: the pull answers RESYNC_REQUIRED, never a page with the pruned changes silently missing (fault injected between the engine's head read and its oplog read; kills the pull.ts re-check mutants). */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSyncSchema } from '../../shared/schema.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import { memoryStore } from '../../server/stores/memory.js';
import type { Store } from '../../server/stores/store.js';

const schema = defineSyncSchema({ tasks: z.object({ title: z.string() }) });

describe('pull during a prune', () => {
  it('answers RESYNC_REQUIRED when history after the checkpoint was pruned between its reads', async () => {
    const inner = memoryStore();
    await inner.init();
    let pruneOnNextRead: (() => Promise<unknown>) | null = null;
    // The real store, with one fault: the next oplog read first lets a prune run to completion.
    const store: Store = Object.create(inner, {
      readOplog: {
        value: async (...args: Parameters<Store['readOplog']>) => {
          const prune = pruneOnNextRead;
          pruneOnNextRead = null;
          if (prune) await prune();
          return inner.readOplog(...args);
        },
      },
    });
    const engine = createSyncEngine({ store, schema });
    const actor = { userId: 'u', scopeId: 's' };
    const write = (id: string) =>
      engine.write('s', [{ collection: 'tasks', id, op: 'upsert', data: { title: id } }]);
    await write('a');
    const { checkpoint } = await engine.pull(actor, {});
    await write('b');
    await write('c');
    pruneOnNextRead = () => engine.prune({ before: new Date(Date.now() + 60_000) });
    await expect(engine.pull(actor, { since: checkpoint })).rejects.toMatchObject({
      code: 'RESYNC_REQUIRED',
    });
    // Without the race, the same pull is answered normally.
    const rebuilt = (await engine.full(actor, {})).checkpoint;
    await write('d');
    const after = await engine.pull(actor, { since: rebuilt });
    expect(after.changes.map((c) => c.id)).toEqual(['d']);
    await engine.close();
    await inner.close();
  });
});
