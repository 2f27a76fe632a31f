/**
 * End-to-end typing of views: a real router built from `createSyncEngine({ rules })`, its
 * `AppRouter` type, a tRPC client proxy and `createSyncClient({ api: trpc.sync })`, so that
 * `client.subscribe` accepts only the rules the server declares, with their zod params. Checked
 * by `tsc --noEmit -p .` in test/types/typecheck.test.ts (`@ts-expect-error` lines must be
 * errors). Never run.
 */
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { z } from 'zod';
import { createSyncClient, memoryLocalStore, type Subscription } from '../../client/index.js';
import { createSyncAppRouter, createSyncEngine, memoryStore } from '../../server/index.js';
import { defineSyncSchema } from '../../shared/schema.js';
import { syncTransformer } from '../../server/trpc/index.js';

const schema = defineSyncSchema({
  tasks: z.object({ title: z.string(), assignee: z.string().optional(), projectId: z.string() }),
  parts: z.object({ name: z.string() }),
});

const engine = createSyncEngine({
  store: memoryStore(),
  schema,
  rules: {
    mine: {
      collection: 'tasks',
      fields: ['assignee'],
      where: ({ actor }) => ({ assignee: actor.userId }),
    },
    project: {
      collection: 'tasks',
      fields: ['projectId'],
      params: z.object({ projectId: z.string(), limit: z.number().int().optional() }),
      where: ({ params }) => ({ projectId: params.projectId }),
    },
    catalogue: { collection: 'parts' },
  },
  defaultViews: ['mine'],
});
const _appRouter = createSyncAppRouter(engine);
type AppRouter = typeof _appRouter;

/** Never called: tsc checks its body. */
export function endToEnd(): Subscription[] {
  const url = 'http://127.0.0.1:1/trpc';
  const trpc = createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url, transformer: syncTransformer })],
  });
  const client = createSyncClient({ api: trpc.sync, schema, store: memoryLocalStore() });
  const mine = client.subscribe('mine');
  const catalogue = client.subscribe('catalogue');
  const project = client.subscribe('project', { projectId: 'p1' });
  const limited = client.subscribe('project', { projectId: 'p1', limit: 10 });
  const rule: 'project' = project.rule;
  const projectId: string = project.params.projectId;
  // @ts-expect-error: no rule of that name
  client.subscribe('nope');
  // @ts-expect-error: project needs its params
  client.subscribe('project');
  // @ts-expect-error: projectId is a string
  client.subscribe('project', { projectId: 1 });
  // @ts-expect-error: limit is a number
  client.subscribe('project', { projectId: 'p1', limit: '10' });
  // @ts-expect-error: not a param of project
  client.subscribe('project', { projectId: 'p1', other: true });
  // @ts-expect-error: mine takes no params
  client.subscribe('mine', { projectId: 'p1' });
  // The same view names on the wire: a pull with an undeclared view does not compile either.
  // @ts-expect-error: no rule of that name
  void trpc.sync.pull.query({ view: { rule: 'nope' } });
  void trpc.sync.full.query({ view: { rule: 'project', params: { projectId: 'p1' } } });
  void rule;
  void projectId;
  return [mine, catalogue, project, limited];
}
