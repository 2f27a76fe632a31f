/** `syncCollectionOptions({ subscription })`: a TanStack DB collection of one view's documents, ready with the view, following its moves. */
import { createCollection } from '@tanstack/db';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSyncClient, memoryLocalStore } from '../../client/index.js';
import { defineSyncSchema } from '../../shared/schema.js';
import { syncCollectionOptions } from '../../tanstack-db/index.js';
import { fakeConnectivity } from '../client/fake-connectivity.js';
import { fakeViewServer } from '../client/fake-view-api.js';

const schema = defineSyncSchema({
  tasks: z.object({ title: z.string(), projectId: z.string().optional() }),
});
const rules = {
  project: {
    collection: 'tasks',
    params: ['projectId'],
    where: (p: Record<string, unknown>) => ({ projectId: p.projectId }),
  },
};

describe('tanstack-db collection options with a subscription', () => {
  it("holds only the view's documents, is ready with the view, and drops a document that leaves it", async () => {
    const server = fakeViewServer({ rules });
    server.write('tasks', 'a', { title: 'A', projectId: 'p1' });
    server.write('tasks', 'b', { title: 'B', projectId: 'p2' });
    const client = createSyncClient({
      api: server.api,
      schema,
      store: memoryLocalStore(),
      connectivity: fakeConnectivity(true),
      ping: false,
    });
    const p1 = client.subscribe('project', { projectId: 'p1' });
    const p2 = client.subscribe('project', { projectId: 'p2' });
    const tasks = createCollection(
      syncCollectionOptions({ client, collection: 'tasks', subscription: p1 }),
    );
    await tasks.preload();
    expect(p1.status).toBe('ready');
    await p2.ready;
    await tasks.utils.flush();
    expect(tasks.toArray.map((r) => r.id)).toEqual(['a']);
    server.write('tasks', 'a', { title: 'A', projectId: 'p2' }); // leaves p1, stays on the device through p2
    server.write('tasks', 'c', { title: 'C', projectId: 'p1' });
    await client.sync();
    await tasks.utils.flush();
    expect(tasks.toArray.map((r) => r.id).sort()).toEqual(['c']);
    expect(await client.collection('tasks').get('a')).toEqual({ title: 'A', projectId: 'p2' });
    await client.close();
  });
});
