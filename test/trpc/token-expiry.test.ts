/** Expiring tokens on live connections (server on PGlite and PostgreSQL): SSE, the raw WebSocket and the tRPC subscription end with UNAUTHORIZED at expiry; a fresh token resumes without loss or duplicates. */
import { createTRPCClient, createWSClient, wsLink, type TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signDevToken } from '../../server/auth/jwt.js';
import type { AppRouter } from '../../server/demo/app-router.js';
import { storeCases } from '../rest/harness.js';
import { openSse } from '../rest/sse-client.js';
import { SECRET, startServer, type TestServer } from './harness.js';

const TENANT = 'expiry';
const RUN_MS = 15_000;
const shortToken = () => signDevToken(SECRET, { sub: 'live', tenant: TENANT, expiresIn: 5 });

type ChangesEvent = { type: 'changes'; checkpoint: string; changes: { id: string }[] };
interface FaceResult {
  ids: string[];
  ends: string[];
}

/** Runs one face until `deadline`: each connection uses a fresh 5 s token and resumes from the last position. */
async function runFace(
  connect: (
    token: string,
    from: string | null,
    seen: (e: ChangesEvent | { type: string; checkpoint?: string }) => void,
  ) => Promise<string>,
  deadline: number,
): Promise<FaceResult> {
  const result: FaceResult = { ids: [], ends: [] };
  let from: string | null = null;
  while (Date.now() < deadline) {
    const end = await connect(await shortToken(), from, (event) => {
      if (event.type === 'changes')
        for (const c of (event as ChangesEvent).changes) result.ids.push(c.id);
      if (event.checkpoint) from = event.checkpoint;
    });
    result.ends.push(end);
    if (end !== 'UNAUTHORIZED') break;
  }
  return result;
}

for (const storeCase of (await storeCases()).filter((c) => c.name !== 'memory')) {
  describe(`on ${storeCase.name}`, () => {
    describe('token expiry on live connections (5 s tokens, 15 s of writes)', () => {
      let server: TestServer;
      beforeAll(async () => {
        server = await startServer(await storeCase.create(), {
          stream: { heartbeatMs: 1000, pollMs: 200 },
        });
      });
      afterAll(async () => {
        await server.close();
      });

      it('each face is closed with UNAUTHORIZED at expiry and resumes with a fresh token: every write once, in order', async () => {
        const deadline = Date.now() + RUN_MS;
        const sse = runFace(async (token, from, seen) => {
          const abort = new AbortController();
          const headers: Record<string, string> = { authorization: `Bearer ${token}` };
          if (from) headers['last-event-id'] = from;
          const { res, events } = await openSse(`${server.url}/sync/stream`, headers, abort.signal);
          if (res.status !== 200) return `status ${res.status}`;
          for await (const event of events) {
            if (event.event === 'error') {
              abort.abort();
              return event.data.error.code === 'UNAUTHORIZED' &&
                event.data.error.message === 'token expired'
                ? 'UNAUTHORIZED'
                : JSON.stringify(event.data);
            }
            seen(event.data);
          }
          abort.abort();
          return 'ended';
        }, deadline);

        const raw = runFace(
          (token, from, seen) =>
            new Promise<string>((resolve) => {
              const ws = new WebSocket(`ws://127.0.0.1:${server.port}/sync/stream`);
              let error: string | null = null;
              ws.on('open', () =>
                ws.send(JSON.stringify({ type: 'subscribe', token, lastEventId: from })),
              );
              ws.on('message', (d) => {
                const frame = JSON.parse(d.toString());
                if (frame.type === 'error') error = frame.error.code;
                else seen(frame);
              });
              ws.on('close', (code) =>
                resolve(
                  code === 4401 && error === 'UNAUTHORIZED'
                    ? 'UNAUTHORIZED'
                    : `close ${code} ${error}`,
                ),
              );
            }),
          deadline,
        );

        const trpcFace = runFace(
          (token, from, seen) =>
            new Promise<string>((resolve) => {
              const wsClient = createWSClient({
                url: `ws://127.0.0.1:${server.port}/trpc`,
                WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
                connectionParams: async () => ({ token }),
                retryDelayMs: () => 50,
              });
              const trpc = createTRPCClient<AppRouter>({
                links: [wsLink({ client: wsClient, transformer: superjson })],
              });
              const sub = trpc.sync.stream.subscribe(from ? { lastEventId: from } : {}, {
                onData: ({ id, data }) => seen({ ...data, checkpoint: id }),
                onError: (err) => {
                  const e = err as TRPCClientError<AppRouter>;
                  sub.unsubscribe();
                  void wsClient.close();
                  resolve(
                    e.data?.code === 'UNAUTHORIZED' && e.data?.sync?.code === 'UNAUTHORIZED'
                      ? 'UNAUTHORIZED'
                      : `error ${e.message}`,
                  );
                },
                onComplete: () => {
                  void wsClient.close();
                  resolve('completed');
                },
              });
            }),
          deadline,
        );

        // The writer: one commit every 500 ms for the whole run.
        const written: string[] = [];
        for (let i = 1; Date.now() < deadline - 500; i++) {
          const id = `t${String(i).padStart(3, '0')}`;
          await server.engine.write(TENANT, [
            { collection: 'tasks', id, op: 'upsert', data: { title: id } },
          ]);
          written.push(id);
          await new Promise((r) => setTimeout(r, 500));
        }
        // Stop the faces after the last write reached them: their next connection sees the deadline passed.
        const results = await Promise.all([sse, raw, trpcFace]);
        for (const [name, result] of [
          ['sse', results[0]],
          ['ws', results[1]],
          ['trpc', results[2]],
        ] as const) {
          expect(
            result.ends.filter((e) => e === 'UNAUTHORIZED').length,
            `${name} ends ${result.ends.join(',')}`,
          ).toBeGreaterThanOrEqual(2);
          expect(
            result.ends.every((e) => e === 'UNAUTHORIZED'),
            `${name} ends ${result.ends.join(',')}`,
          ).toBe(true);
          expect(result.ids, name).toEqual(written.slice(0, result.ids.length));
          expect(new Set(result.ids).size, name).toBe(result.ids.length);
          expect(result.ids.length, name).toBe(written.length);
        }
        expect(written.length).toBeGreaterThanOrEqual(25);
      }, 120_000);

      it('a tRPC WebSocket whose connection token has expired refuses queries with UNAUTHORIZED (the context is built once per connection)', async () => {
        const token = await signDevToken(SECRET, { sub: 'q', tenant: TENANT, expiresIn: 2 });
        const wsClient = createWSClient({
          url: `ws://127.0.0.1:${server.port}/trpc`,
          WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
          connectionParams: async () => ({ token }),
        });
        const trpc = createTRPCClient<AppRouter>({
          links: [wsLink({ client: wsClient, transformer: superjson })],
        });
        await expect(trpc.sync.pull.query({})).resolves.toMatchObject({ hasMore: false });
        // Asked again until the 2 s token has expired: then the same connection answers UNAUTHORIZED.
        await expect
          .poll(
            () =>
              trpc.sync.pull.query({}).then(
                () => 'served',
                (e: unknown) => e,
              ),
            { timeout: 15_000, interval: 200 },
          )
          .toMatchObject({
            data: { code: 'UNAUTHORIZED', sync: { code: 'UNAUTHORIZED' } },
            message: 'token expired',
          });
        await wsClient.close();
      }, 30_000);
    });
  });
}
