/** `useSubscription` and `useQuery(…, { view })`: the subscription's status renders, and a view's query holds only its documents. */
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSyncClient, memoryLocalStore } from '../../client/index.js';
import { SyncProvider, useSubscription } from '../../react/index.js';
import { defineSyncSchema } from '../../shared/schema.js';
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

describe('react: useSubscription', () => {
  it("answers the client's subscription for the rule and params with its status; the view's query holds only its documents", async () => {
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
    const sub = client.subscribe('project', { projectId: 'p1' });
    await Promise.all([sub.ready, client.subscribe('project', { projectId: 'p2' }).ready]);
    let seen: unknown;
    function View() {
      const { subscription, status } = useSubscription('project', { projectId: 'p1' });
      seen = subscription;
      return createElement('p', null, `${subscription.key} ${status}`);
    }
    expect(renderToString(createElement(SyncProvider, { client }, createElement(View)))).toBe(
      '<p>project{&quot;projectId&quot;:&quot;p1&quot;} ready</p>',
    );
    expect(seen).toBe(sub);
    // What useQuery(…, { view }) reads:
    expect(
      (await client.collection('tasks').query(undefined, { view: sub })).map((r) => r.id),
    ).toEqual(['a']);
    expect(
      (await client.collection('tasks').query(undefined, { view: sub.key, limit: 5 })).map(
        (r) => r.id,
      ),
    ).toEqual(['a']);
    expect((await client.collection('tasks').query()).map((r) => r.id)).toEqual(['a', 'b']);
    await client.close();
  });
});
