/** Static types of `client.sync.*`: checked by `tsc --noEmit -p .` (`@ts-expect-error` lines must be errors). */
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { initTRPC } from '@trpc/server';
import superjson from 'superjson';
import { describe, expectTypeOf, it } from 'vitest';
import type { AppRouter } from '../../server/demo/app-router.js';
import type { DemoSchema } from '../../server/demo/schema.js';
import { createSyncRouter, syncErrorFormatter, type EngineFor, type SyncErrorData } from '../../server/trpc/index.js';
import type { FullPage, PullResponse, PushResponse, StreamEvent } from '../../shared/protocol.js';

const trpc = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: 'http://127.0.0.1:1/trpc', transformer: superjson })] });
const push = (input: Parameters<typeof trpc.sync.push.mutate>[0]) => input;

describe('sync router types', () => {
  it('types push input by collection and op', () => {
    push({ clientId: 'd', changes: [{ mutationId: 1, collection: 'tasks', id: 't', op: 'upsert', data: { title: 'x', priority: 2, tags: ['a'] } }] });
    push({ clientId: 'd', changes: [{ mutationId: 2, collection: 'tasks', id: 't', op: 'patch', data: { done: true, priority: null } }] });
    push({ clientId: 'd', changes: [{ mutationId: 3, collection: 'notes', id: 'n', op: 'delete' }] });
    // @ts-expect-error unknown collection
    push({ clientId: 'd', changes: [{ mutationId: 1, collection: 'users', id: 'u', op: 'upsert', data: { title: 'x' } }] });
    // @ts-expect-error a task needs a string title
    push({ clientId: 'd', changes: [{ mutationId: 1, collection: 'tasks', id: 't', op: 'upsert', data: { title: 1 } }] });
    // @ts-expect-error a note has no title
    push({ clientId: 'd', changes: [{ mutationId: 1, collection: 'notes', id: 'n', op: 'upsert', data: { title: 'x' } }] });
    // @ts-expect-error unknown op
    push({ clientId: 'd', changes: [{ mutationId: 1, collection: 'notes', id: 'n', op: 'merge', data: {} }] });
  });

  it('types outputs and stream events', () => {
    expectTypeOf(trpc.sync.push.mutate).returns.resolves.toEqualTypeOf<PushResponse>();
    expectTypeOf(trpc.sync.pull.query).returns.resolves.toEqualTypeOf<PullResponse>();
    expectTypeOf(trpc.sync.full.query).returns.resolves.toEqualTypeOf<FullPage>();
    void (() => trpc.sync.stream.subscribe({ since: null }, { onData: (e) => expectTypeOf(e).toEqualTypeOf<{ id: string; data: StreamEvent }>() }));
    // @ts-expect-error since is a checkpoint string
    void (() => trpc.sync.pull.query({ since: 5 }));
  });

  it('uses the app procedure and its context', () => {
    const t = initTRPC.context<{ user: { id: string; org: string } | null }>().create({ errorFormatter: syncErrorFormatter });
    const engine = null as unknown as EngineFor<DemoSchema>;
    const sync = createSyncRouter({
      engine,
      procedure: t.procedure,
      authenticate: (ctx) => {
        expectTypeOf(ctx.user).toEqualTypeOf<{ id: string; org: string } | null>();
        return ctx.user && { userId: ctx.user.id, scopeId: ctx.user.org };
      },
    });
    const router = t.router({ sync });
    type Shape = ReturnType<typeof router._def._config.errorFormatter>;
    expectTypeOf<Shape['data']['sync']>().toEqualTypeOf<SyncErrorData | null>();
    // @ts-expect-error the context has no `session`
    createSyncRouter({ engine, procedure: t.procedure, authenticate: (ctx) => ctx.session });
  });
});
