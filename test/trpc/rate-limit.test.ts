/** The rate limit seen through every face of one real server on 127.0.0.1: tRPC, REST, SSE, raw WebSocket and /metrics. */
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { storeCases } from '../rest/harness.js';
import { startServer, type TestServer } from './harness.js';

for (const storeCase of (await storeCases()).filter((c) => c.name !== 'memory')) {
  describe(`on ${storeCase.name}`, () => {
    describe('rate limit on every face (3 requests per minute per user)', () => {
      let server: TestServer;
      beforeAll(async () => {
        server = await startServer(await storeCase.create(), {
          rateLimit: { requests: 3, windowMs: 60_000 },
        });
      });
      afterAll(async () => {
        await server.close();
      });

      const push = (token: string, id: string, mutationId: number) =>
        fetch(`${server.url}/sync/push`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            clientId: 'd1',
            changes: [{ mutationId, collection: 'tasks', id, op: 'upsert', data: { title: id } }],
          }),
        });

      it('REST: 429 with Retry-After and the protocol error body; nothing of the refused push is stored', async () => {
        const token = await server.token('rest-user', 'rest');
        for (let i = 1; i <= 3; i++) expect((await push(token, `t${i}`, i)).status).toBe(200);
        const refused = await push(token, 't4', 4);
        expect(refused.status).toBe(429);
        const retryAfter = Number(refused.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThanOrEqual(19);
        expect(retryAfter).toBeLessThanOrEqual(20); // one token per 20 s
        const body = (await refused.json()) as {
          error: { code: string; message: string; issues: unknown[] };
        };
        expect(body.error.code).toBe('TOO_MANY_REQUESTS');
        expect(body.error.message).toMatch(/rate limit: at most 3 requests per 60000 ms/);
        expect(body.error.issues).toEqual([]);

        // Another user of the tenant reads what was stored: t1..t3, not t4.
        const other = await server.token('rest-reader', 'rest');
        const pulled = (await (
          await fetch(`${server.url}/sync/pull`, { headers: { authorization: `Bearer ${other}` } })
        ).json()) as { changes: { id: string }[] };
        expect(pulled.changes.map((c) => c.id).sort()).toEqual(['t1', 't2', 't3']);

        // SSE: the stream is refused with 429 before it opens.
        const sse = await fetch(`${server.url}/sync/stream`, {
          headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        });
        expect(sse.status).toBe(429);
        expect(sse.headers.get('retry-after')).not.toBeNull();
        expect(((await sse.json()) as { error: { code: string } }).error.code).toBe(
          'TOO_MANY_REQUESTS',
        );
      });

      it('raw WebSocket: an error frame with TOO_MANY_REQUESTS, then close code 4429', async () => {
        const token = await server.token('ws-user', 'ws');
        for (let i = 1; i <= 3; i++) expect((await push(token, `w${i}`, i)).status).toBe(200);
        const ws = new WebSocket(
          `ws://127.0.0.1:${server.port}/sync/stream?token=${encodeURIComponent(token)}`,
        );
        const frames: { type: string; error?: { code: string } }[] = [];
        ws.on('message', (data) => frames.push(JSON.parse(String(data))));
        await new Promise((resolve, reject) => {
          ws.once('open', resolve);
          ws.once('error', reject);
        });
        ws.send(JSON.stringify({ type: 'subscribe' }));
        const [code] = (await new Promise((resolve) =>
          ws.once('close', (c, r) => resolve([c, String(r)])),
        )) as [number, string];
        expect(code).toBe(4429);
        expect(frames).toEqual([
          { type: 'error', error: expect.objectContaining({ code: 'TOO_MANY_REQUESTS' }) },
        ]);
      });

      it('tRPC: TOO_MANY_REQUESTS with data.sync.retryAfterMs; the limit is counted in /metrics', async () => {
        const token = await server.token('trpc-user', 'trpc');
        const client = server.client(token);
        for (let i = 1; i <= 3; i++) await client.trpc.sync.pull.query({});
        let caught: unknown;
        try {
          await client.trpc.sync.push.mutate({
            clientId: 'c1',
            changes: [
              { mutationId: 1, collection: 'tasks', id: 'x', op: 'upsert', data: { title: 'x' } },
            ],
          });
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(TRPCClientError);
        const data = (caught as TRPCClientError<any>).data as {
          code: string;
          httpStatus: number;
          sync: { code: string; retryAfterMs?: number };
        };
        expect(data.code).toBe('TOO_MANY_REQUESTS');
        expect(data.httpStatus).toBe(429);
        expect(data.sync.code).toBe('TOO_MANY_REQUESTS');
        expect(data.sync.retryAfterMs).toBeGreaterThan(19_000);
        expect(data.sync.retryAfterMs).toBeLessThanOrEqual(20_000);

        const metrics = await (await fetch(`${server.url}/metrics`)).text();
        const count = (op: string) =>
          Number(
            new RegExp(`^sync_rate_limited_total\\{op="${op}",kind="user"\\} (\\d+)`, 'm').exec(
              metrics,
            )?.[1] ?? 0,
          );
        expect(count('push')).toBeGreaterThanOrEqual(2); // the REST push above and this one
        expect(count('stream')).toBeGreaterThanOrEqual(2); // SSE and the raw WebSocket
      });
    });
  });
}
