/**
 * Static types of `client.subscribe`: the view union is read from the `api`'s `pull` input, so only
 * declared rule names and their params compile. Checked by `tsc --noEmit -p .` in
 * test/types/typecheck.test.ts (`@ts-expect-error` lines must be errors). Never run.
 */
import {
  createSyncClient,
  memoryLocalStore,
  type Subscription,
  type SyncApi,
  type ViewsOf,
} from '../../client/index.js';
import type { FullPage, PullInput, PullResponse } from '../../shared/protocol.js';
import { demoSchema } from '../../server/demo/schema.js';

/** The views a server with rules `mine` (no params), `project` ({ projectId }) and `catalogue` declares, as its input type gives them. */
type Declared =
  | { rule: 'mine'; params?: undefined }
  | { rule: 'project'; params: { projectId: string } }
  | { rule: 'catalogue'; params?: undefined };

/** The shape of a tRPC proxy's `sync` (properties, not methods; an options argument), with `view` typed by the server. */
type TypedApi = Omit<SyncApi, 'pull' | 'full'> & {
  pull: {
    query: (
      input: Omit<PullInput, 'view'> & { view?: Declared },
      opts?: { signal?: AbortSignal; context?: Record<string, unknown> },
    ) => Promise<PullResponse>;
  };
  full: { query: (input: { view?: Declared; cursor?: string | null }) => Promise<FullPage> };
};

/** Never called: tsc checks its body. */
export function subscribeTypes(api: TypedApi): Subscription[] {
  const client = createSyncClient({ api, schema: demoSchema, store: memoryLocalStore() });
  const declared: ViewsOf<TypedApi> = { rule: 'project', params: { projectId: 'p1' } };
  const mine = client.subscribe('mine');
  const project = client.subscribe('project', { projectId: 'p1' });
  const rule: 'project' = project.rule;
  const params: { projectId: string } = project.params;
  // @ts-expect-error: no rule of that name
  client.subscribe('nope');
  // @ts-expect-error: project needs its params
  client.subscribe('project');
  // @ts-expect-error: projectId is a string
  client.subscribe('project', { projectId: 1 });
  // @ts-expect-error: not a param of project
  client.subscribe('project', { projectId: 'p1', other: true });
  // @ts-expect-error: mine takes no params
  client.subscribe('mine', { projectId: 'p1' });
  void declared;
  void rule;
  void params;
  return [mine, project];
}

/** An `api` typed only as `SyncApi` (or a server without rules): any name and params object. */
export function untypedSubscribe(api: SyncApi): Subscription {
  const client = createSyncClient({ api, schema: demoSchema });
  // @ts-expect-error: params are an object
  client.subscribe('anything', 'p1');
  return client.subscribe('anything', { any: 1 });
}
