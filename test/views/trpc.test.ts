/**
 * Views through the tRPC face on a real server (PGlite, HTTP batch and WebSocket): typed `view`
 * inputs, filtered pull/full/stream, `left` removals, per-view resync on the stream, and refusals
 * reaching the client with their code and issue path.
 */
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  splitLink,
  wsLink,
  TRPCClientError,
} from '@trpc/client';
import superjson from 'superjson';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { createSyncHttpServer } from '../../server/http/server.js';
import { pgliteStore } from '../../server/stores/postgres/index.js';
import { createSyncAppRouter, type SyncAppRouter } from '../../server/trpc/app-router.js';
import type { StreamEvent } from '../../shared/protocol.js';
import { Memberships, viewsEngine, type ViewsRules, viewsSchema } from './fixture.js';

const SECRET = 'views-test-secret-views-test-secret!';
type Router = SyncAppRouter<typeof viewsSchema, ViewsRules>;

describe('views over tRPC (PGlite, real server)', () => {
  const members = new Memberships();
  let close: () => Promise<void>;
  let url = '';
  let port = 0;
  let engine: ReturnType<typeof viewsEngine>;
  const sockets: { close(): void }[] = [];

  beforeAll(async () => {
    const store = await pgliteStore();
    await store.init();
    engine = viewsEngine(store, members, { stream: { heartbeatMs: 60_000, pollMs: 100 } });
    const router = createSyncAppRouter(engine);
    const http = createSyncHttpServer({
      engine,
      authenticate: jwtAuthenticator({ secret: SECRET }),
      router,
    });
    ({ url, port } = await http.listen(0, '127.0.0.1'));
    close = async () => {
      for (const s of sockets) s.close();
      await http.close();
      await engine.close();
      await store.close();
    };
  }, 60_000);
  afterAll(async () => close?.());

  const client = async (sub: string, tenant: string) => {
    const token = await signDevToken(SECRET, { sub, tenant, expiresIn: '1h' });
    const ws = createWSClient({
      url: `ws://127.0.0.1:${port}/trpc`,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams: async () => ({ token }),
    });
    sockets.push(ws);
    return createTRPCClient<Router>({
      links: [
        splitLink({
          condition: (op) => op.type === 'subscription',
          true: wsLink({ client: ws, transformer: superjson }),
          false: httpBatchLink({
            url: `${url}/trpc`,
            transformer: superjson,
            headers: () => ({ authorization: `Bearer ${token}` }),
          }),
        }),
      ],
    });
  };

  const refusal = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      if (error instanceof TRPCClientError) {
        const data = error.data as {
          code?: string;
          sync?: { code: string; issues: { path: string }[] } | null;
        };
        return { code: data.code, sync: data.sync?.code, path: data.sync?.issues[0]?.path };
      }
      throw error;
    }
    throw new Error('expected a refusal');
  };

  it('pull, full and stream read exactly the view; a reassignment is a left removal; refreshViews ends the stream with resync_required', async () => {
    const tenant = 'acme-trpc';
    members.grant('ann', 'p1');
    await engine.write(tenant, [
      {
        collection: 'tasks',
        id: 'a',
        op: 'upsert',
        data: { title: 'a', assignee: 'ann', projectId: 'p1' },
      },
      {
        collection: 'tasks',
        id: 'b',
        op: 'upsert',
        data: { title: 'b', assignee: 'bob', projectId: 'p2' },
      },
      { collection: 'notes', id: 'n', op: 'upsert', data: { body: 'all' } },
    ]);
    const ann = await client('ann', tenant);
    const mine = await ann.sync.pull.query({ view: { rule: 'mine' } });
    expect(mine.changes.map((c) => c.id)).toEqual(['a']);
    const byDefault = await ann.sync.pull.query({});
    expect(byDefault.changes.map((c) => `${c.collection}/${c.id}`).sort()).toEqual([
      'notes/n',
      'tasks/a',
    ]);
    const project = await ann.sync.full.query({
      view: { rule: 'project', params: { projectId: 'p1' } },
    });
    expect(project.docs.map((d) => d.id)).toEqual(['a']);

    const events: StreamEvent[] = [];
    let ended!: () => void;
    const done = new Promise<void>((r) => (ended = r));
    let wake: (() => void) | null = null;
    const sub = ann.sync.stream.subscribe(
      { view: { rule: 'mine' }, since: mine.checkpoint },
      {
        onData: (e) => {
          events.push(e.data as StreamEvent);
          wake?.();
          if ((e.data as StreamEvent).type === 'resync_required') ended();
        },
      },
    );
    const waitFor = async (n: number) => {
      while (events.length < n) await new Promise<void>((r) => (wake = r));
    };
    await engine.write(tenant, [
      { collection: 'tasks', id: 'a', op: 'patch', data: { assignee: 'bob' } },
    ]);
    await waitFor(1);
    expect(events[0]).toMatchObject({
      type: 'changes',
      changes: [{ id: 'a', op: 'delete', data: null, left: true }],
    });
    await engine.refreshViews({ scopeId: tenant, userId: 'ann' });
    await done;
    expect(events.at(-1)).toMatchObject({ type: 'resync_required' });
    sub.unsubscribe();
    expect(
      await refusal(ann.sync.pull.query({ view: { rule: 'mine' }, since: mine.checkpoint })),
    ).toMatchObject({ sync: 'RESYNC_REQUIRED' });
  });

  it('refusals reach the client: undeclared rule and bad params 400 with the issue path, allow false 403', async () => {
    const ann = await client('ann', 'acme-refusals');
    // @ts-expect-error an undeclared rule is a type error too
    expect(await refusal(ann.sync.pull.query({ view: { rule: 'everything' } }))).toEqual({
      code: 'BAD_REQUEST',
      sync: 'BAD_REQUEST',
      path: 'view.rule',
    });
    expect(
      // @ts-expect-error params are typed by the rule's zod schema
      await refusal(ann.sync.pull.query({ view: { rule: 'project', params: { projectId: 1 } } })),
    ).toEqual({ code: 'BAD_REQUEST', sync: 'BAD_REQUEST', path: 'view.params.projectId' });
    expect(
      await refusal(
        ann.sync.full.query({ view: { rule: 'project', params: { projectId: 'p9' } } }),
      ),
    ).toMatchObject({ code: 'FORBIDDEN', sync: 'FORBIDDEN' });
  });
});
