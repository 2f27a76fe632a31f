/**
 * Static types of `client.sync.*`: checked by `tsc --noEmit -p .` in test/types/typecheck.test.ts
 * (`@ts-expect-error` lines must be errors). Never run: each check is a function tsc reads.
 */
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { initTRPC } from '@trpc/server';
import superjson from 'superjson';
import { expectTypeOf } from 'vitest';
import type { AppRouter } from '../../server/demo/app-router.js';
import type { DemoSchema } from '../../server/demo/schema.js';
import {
  createSyncRouter,
  syncErrorFormatter,
  type EngineFor,
  type SyncErrorData,
} from '../../server/trpc/index.js';
import type { FullPage, PullResponse, PushResponse, StreamEvent } from '../../shared/protocol.js';

const trpc = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: 'http://127.0.0.1:1/trpc', transformer: superjson })],
});
/** Holds type checks for tsc; never called. */
function check(_name: string, _fn: () => unknown): void {}

const push = (input: Parameters<typeof trpc.sync.push.mutate>[0]) => input;

check('sync router types', () => {
  check('types push input by collection and op', () => {
    push({
      clientId: 'd',
      changes: [
        {
          mutationId: 1,
          collection: 'tasks',
          id: 't',
          op: 'upsert',
          data: { title: 'x', priority: 2, tags: ['a'] },
        },
      ],
    });
    push({
      clientId: 'd',
      changes: [
        {
          mutationId: 2,
          collection: 'tasks',
          id: 't',
          op: 'patch',
          data: { done: true, priority: null },
        },
      ],
    });
    push({
      clientId: 'd',
      changes: [{ mutationId: 3, collection: 'notes', id: 'n', op: 'delete' }],
    });
    push({
      clientId: 'd',
      changes: [
        // @ts-expect-error unknown collection
        { mutationId: 1, collection: 'users', id: 'u', op: 'upsert', data: { title: 'x' } },
      ],
    });
    push({
      clientId: 'd',
      // @ts-expect-error a task needs a string title
      changes: [{ mutationId: 1, collection: 'tasks', id: 't', op: 'upsert', data: { title: 1 } }],
    });
    push({
      clientId: 'd',
      changes: [
        // @ts-expect-error a note has no title
        { mutationId: 1, collection: 'notes', id: 'n', op: 'upsert', data: { title: 'x' } },
      ],
    });
    push({
      clientId: 'd',
      // @ts-expect-error unknown op
      changes: [{ mutationId: 1, collection: 'notes', id: 'n', op: 'merge', data: {} }],
    });
  });

  check('types outputs and stream events', () => {
    expectTypeOf(trpc.sync.push.mutate).returns.resolves.toEqualTypeOf<PushResponse>();
    // Answers are the wire shapes, typed by the schema (and still assignable to the untyped ones).
    expectTypeOf(trpc.sync.pull.query).returns.resolves.toMatchTypeOf<PullResponse>();
    expectTypeOf(trpc.sync.full.query).returns.resolves.toMatchTypeOf<FullPage>();
    void (() =>
      trpc.sync.stream.subscribe(
        { since: null },
        { onData: (e) => expectTypeOf(e).toMatchTypeOf<{ id: string; data: StreamEvent }>() },
      ));
  });

  check(
    "types pull, full and stream answers by collection: data is that collection's document type",
    async () => {
      type Task = {
        title: string;
        done: boolean;
        priority?: number | undefined;
        tags?: string[] | undefined;
        assignee?: string | undefined;
      };
      const page = await trpc.sync.pull.query({ schemaVersion: 1 }).catch(() => null);
      for (const change of page?.changes ?? []) {
        expectTypeOf(change.collection).toEqualTypeOf<'tasks' | 'notes'>();
        if (change.collection === 'tasks' && change.op === 'upsert') {
          expectTypeOf(change.data).toEqualTypeOf<Task>();
          expectTypeOf(change.data.done).toEqualTypeOf<boolean>();
          // @ts-expect-error a task has no body
          void change.data.body;
        }
        if (change.collection === 'notes' && change.op === 'upsert')
          expectTypeOf(change.data).toEqualTypeOf<{ body: string }>();
        if (change.op === 'delete') expectTypeOf(change.data).toEqualTypeOf<null>();
        // @ts-expect-error data may be null (a delete) until narrowed by op
        void change.data.title;
        // @ts-expect-error no such collection
        if (change.collection === 'users') void 0;
      }
      const full = await trpc.sync.full.query().catch(() => null);
      for (const doc of full?.docs ?? []) {
        if (doc.collection === 'notes' && !doc.deleted)
          expectTypeOf(doc.data).toEqualTypeOf<{ body: string }>();
        if (doc.deleted) expectTypeOf(doc.data).toEqualTypeOf<null>();
      }
      void (() =>
        trpc.sync.stream.subscribe(
          { since: null },
          {
            onData: ({ data }) => {
              if (data.type !== 'changes') return;
              for (const c of data.changes)
                if (c.collection === 'tasks' && c.op === 'upsert')
                  expectTypeOf(c.data).toEqualTypeOf<Task>();
            },
          },
        ));
      // @ts-expect-error since is a checkpoint string
      void (() => trpc.sync.pull.query({ since: 5 }));
    },
  );

  check('uses the app procedure and its context', () => {
    const t = initTRPC
      .context<{ user: { id: string; org: string } | null }>()
      .create({ errorFormatter: syncErrorFormatter });
    const engine = null as unknown as EngineFor<DemoSchema>;
    const sync = createSyncRouter({
      engine,
      procedure: t.procedure,
      authenticate: (ctx) => {
        expectTypeOf(ctx.user).toEqualTypeOf<{ id: string; org: string } | null>();
        return ctx.user && { userId: ctx.user.id, scopeId: ctx.user.org };
      },
    });
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- only its type is checked
    const router = t.router({ sync });
    type Shape = ReturnType<typeof router._def._config.errorFormatter>;
    expectTypeOf<Shape['data']['sync']>().toEqualTypeOf<SyncErrorData | null>();
    // @ts-expect-error the context has no `session`
    createSyncRouter({ engine, procedure: t.procedure, authenticate: (ctx) => ctx.session });
  });
});
