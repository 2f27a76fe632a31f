/**
 * Issue 15 items 7–9 on the SQL stores (PGlite, and PostgreSQL when TEST_DATABASE_URL is set), where
 * a lone surrogate or a NUL reaches the database: identity claims are checked like ids (401), forged
 * full cursors and superjson BigInts are 400, the compat face refuses a top-level `__proto__` key.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCheckpoint, encodeCursor } from '../../shared/checkpoint.js';
import type { Actor } from '../../shared/protocol.js';
import { pgliteStore } from '../../server/stores/postgres/index.js';
import type { Store } from '../../server/stores/store.js';
import { throwawayPostgresStore } from '../rest/harness.js';
import {
  rest,
  startHostileServer,
  trpc,
  trpcError,
  trpcWs,
  type Answer,
  type HostileServer,
} from './harness.js';

const COMPAT = '/compat/fastapi-offline-sync';

/** The app's own authenticate hook, not a JWT one: the token is a base64url JSON actor, taken as it is. */
const tokenOf = (actor: Partial<Actor>): string =>
  Buffer.from(JSON.stringify(actor)).toString('base64url');
const rawActorHook = (token: string | null): Actor | null =>
  token ? (JSON.parse(Buffer.from(token, 'base64url').toString()) as Actor) : null;

const stores: { name: string; create: () => Promise<Store> }[] = [
  { name: 'pglite', create: async () => pgliteStore() },
  ...(process.env.TEST_DATABASE_URL
    ? [
        {
          name: 'postgres',
          create: async () => throwawayPostgresStore(process.env.TEST_DATABASE_URL!, 'claims'),
        },
      ]
    : []),
];

const issuePaths = (a: Answer): string[] =>
  (
    (a.json?.error?.issues ?? a.json?.error?.json?.data?.sync?.issues ?? []) as { path: string }[]
  ).map((i) => i.path);

/** The close code (or first frame) a raw `WS /sync/stream` subscription with `token` gets. */
async function wsSubscribe(
  port: number,
  token: string,
): Promise<{ code: number | null; frames: any[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/sync/stream`);
  const frames: any[] = [];
  return new Promise((resolve) => {
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', token })));
    ws.on('message', (d) => {
      frames.push(JSON.parse(d.toString()));
      if (frames[0]?.type === 'changes' || frames[0]?.type === 'heartbeat') ws.close();
    });
    ws.on('error', () => undefined);
    ws.on('close', (code) => resolve({ code, frames }));
  });
}

for (const storeCase of stores) {
  describe(`claims, cursors and compat keys on ${storeCase.name}`, () => {
    let s: HostileServer;
    const owner = tokenOf({ userId: 'u1', scopeId: 'S\ufffd' });
    const surrogate = tokenOf({ userId: 'u2', scopeId: 'S\ud800' });
    const nulScope = tokenOf({ userId: 'u3', scopeId: 'a\u0000b' });
    const nulUser = tokenOf({ userId: 'u\u0000', scopeId: 'fine' });
    const c1User = tokenOf({ userId: 'u\u0085', scopeId: 'fine' });
    const longScope = tokenOf({ userId: 'u4', scopeId: 'x'.repeat(257) });

    beforeAll(async () => {
      s = await startHostileServer(await storeCase.create(), {}, { authenticate: rawActorHook });
      const a = await rest(s.url, '/sync/push', {
        token: owner,
        body: {
          clientId: 'c1',
          changes: [
            {
              mutationId: 1,
              collection: 'tasks',
              id: 'secret',
              op: 'upsert',
              data: { title: 'owner only' },
            },
          ],
        },
      });
      expect(a.status, a.text).toBe(200);
    });
    afterAll(() => s?.close());

    describe('item 7: claims are checked like ids', () => {
      it('a lone-surrogate tenant never reaches the U+FFFD tenant: 401 on REST, tRPC and compat reads', async () => {
        const restPull = await rest(s.url, '/sync/pull', { token: surrogate });
        expect(restPull.status, restPull.text).toBe(401);
        expect(restPull.text).not.toContain('owner only');
        const restFull = await rest(s.url, '/sync/full', { token: surrogate });
        expect(restFull.status).toBe(401);
        expect(restFull.text).not.toContain('owner only');
        const trpcPull = await trpc(s.url, 'pull', {}, surrogate);
        expect(trpcPull.status, trpcPull.text).toBe(401);
        expect(trpcPull.text).not.toContain('owner only');
        const compatPull = await rest(s.url, `${COMPAT}/sync/pull`, { token: surrogate });
        expect(compatPull.status).toBe(401);
        expect(compatPull.text).not.toContain('owner only');
        const ws = await wsSubscribe(s.port, surrogate);
        expect(JSON.stringify(ws.frames)).not.toContain('owner only');
        expect(ws.frames.some((f) => f.type === 'changes')).toBe(false);
        expect(ws.frames[0]?.error?.code).toBe('UNAUTHORIZED');
        expect(ws.code).toBe(4401);
        const overTrpcWs = await trpcWs(
          s.port,
          surrogate,
          JSON.stringify({
            id: 1,
            method: 'query',
            params: { path: 'sync.pull', input: { json: {} } },
          }),
        );
        expect(JSON.stringify(overTrpcWs)).not.toContain('owner only');
        expect(overTrpcWs?.error?.json?.data?.code).toBe('UNAUTHORIZED');
      });

      it('a lone-surrogate tenant cannot write into the U+FFFD tenant (REST, tRPC, compat)', async () => {
        const change = {
          mutationId: 1,
          collection: 'tasks',
          id: 'secret',
          op: 'upsert',
          data: { title: 'overwritten' },
        };
        expect(
          (
            await rest(s.url, '/sync/push', {
              token: surrogate,
              body: { clientId: 'evil', changes: [change] },
            })
          ).status,
        ).toBe(401);
        expect(
          (await trpc(s.url, 'push', { clientId: 'evil', changes: [change] }, surrogate)).status,
        ).toBe(401);
        const compat = await rest(s.url, `${COMPAT}/sync/push`, {
          token: surrogate,
          body: {
            client_id: 'evil',
            changes: [
              {
                collection: 'tasks',
                doc_id: 'secret',
                operation: 'upsert',
                data: { title: 'overwritten' },
              },
            ],
          },
        });
        expect(compat.status).toBe(401);
        const mine = await rest(s.url, '/sync/pull', { token: owner });
        expect(mine.json.changes.map((c: { data: unknown }) => c.data)).toEqual([
          { title: 'owner only', done: false },
        ]);
      });

      it('a NUL, a C1 control or an overlong claim is 401, never 500', async () => {
        for (const token of [nulScope, nulUser, c1User, longScope]) {
          const pull = await rest(s.url, '/sync/pull', { token });
          expect(pull.status, pull.text).toBe(401);
          expect(pull.json.error.code).toBe('UNAUTHORIZED');
          expect(
            (
              await rest(s.url, '/sync/push', {
                token,
                body: {
                  clientId: 'c',
                  changes: [
                    {
                      mutationId: 1,
                      collection: 'tasks',
                      id: 'n',
                      op: 'upsert',
                      data: { title: 'x' },
                    },
                  ],
                },
              })
            ).status,
          ).toBe(401);
          expect((await trpc(s.url, 'pull', {}, token)).status).toBe(401);
          expect((await trpc(s.url, 'full', {}, token)).status).toBe(401);
          expect((await rest(s.url, `${COMPAT}/sync/full`, { token })).status).toBe(401);
          expect(
            (await fetch(`${s.url}/sync/status`, { headers: { authorization: `Bearer ${token}` } }))
              .status,
          ).toBe(401);
        }
        expect(s.unexpected).toEqual([]);
      });
    });

    describe('item 8: malformed input is 400, not 500', () => {
      const checkpoint = () => encodeCheckpoint({ epoch: s.store.epoch(), seq: 0 });
      const forged = (id: string, collection = 'tasks') =>
        encodeCursor({ checkpoint: checkpoint(), collection, id });
      const bad = () => [
        forged('a\u0000b'),
        forged('\ud800x'),
        forged('x'.repeat(300)),
        forged('a', 'tasks\u0000'),
        forged('a', 'no such; collection'),
      ];

      it('a forged full cursor (NUL, lone surrogate, overlong) is 400 naming cursor on REST, compat and tRPC', async () => {
        for (const cursor of bad()) {
          const q = `?cursor=${encodeURIComponent(cursor)}`;
          const r = await rest(s.url, `/sync/full${q}`, { token: owner });
          expect(r.status, r.text).toBe(400);
          expect(issuePaths(r)).toContain('cursor');
          const c = await rest(s.url, `${COMPAT}/sync/full${q}`, { token: owner });
          expect(c.status, c.text).toBe(400);
          expect(issuePaths(c)).toContain('cursor');
          const t = await trpc(s.url, 'full', { cursor }, owner);
          expect(t.status, t.text).toBe(400);
          expect(trpcError(t).sync?.issues.map((i) => i.path)).toContain('cursor');
        }
        expect(s.unexpected).toEqual([]);
      });

      it('a well-formed cursor still pages', async () => {
        const r = await rest(s.url, `/sync/full?cursor=${encodeURIComponent(forged('a'))}`, {
          token: owner,
        });
        expect(r.status, r.text).toBe(200);
        expect(r.text).toContain('secret');
      });

      it('a superjson BigInt (mutationId, data value, pull limit) a Map or NaN is 400 naming the path', async () => {
        const body = (
          meta: Record<string, string[]>,
          data: unknown = { title: 'x' },
          mutationId: unknown = 5,
        ) =>
          JSON.stringify({
            json: {
              clientId: 'c2',
              changes: [{ mutationId, collection: 'loose', id: 'big', op: 'upsert', data }],
            },
            meta: { values: meta },
          });
        const cases: [string, string][] = [
          [
            body({ 'changes.0.mutationId': ['bigint'] }, { title: 'x' }, '5'),
            'changes.0.mutationId',
          ],
          [
            body({ 'changes.0.data.n': ['bigint'] }, { title: 'x', n: '12345678901234567890' }),
            'changes.0.data.n',
          ],
          [
            body({ 'changes.0.data.m': ['map'] }, { title: 'x', m: [['k', 1]] }),
            'changes.0.data.m',
          ],
          [
            body({ 'changes.0.data.nan': ['number'] }, { title: 'x', nan: 'NaN' }),
            'changes.0.data.nan',
          ],
        ];
        for (const [raw, path] of cases) {
          const a = await trpc(s.url, 'push', null, owner, raw);
          expect(a.status, a.text).toBe(400);
          expect(trpcError(a).sync?.issues.map((i) => i.path)).toContain(path);
        }
        const pull = await trpc(
          s.url,
          'pull',
          null,
          owner,
          JSON.stringify({ json: { limit: '10' }, meta: { values: { limit: ['bigint'] } } }),
        );
        expect(pull.status, pull.text).toBe(400);
        expect(trpcError(pull).sync?.issues.map((i) => i.path)).toContain('limit');
        expect(s.unexpected).toEqual([]);
      });
    });

    describe('item 9: the compat face refuses a top-level __proto__ data key like every face', () => {
      it('compat push with data {"__proto__": …} is 400 naming the key, nothing written', async () => {
        const before = await s.store.head('S\ufffd');
        const raw =
          '{"client_id":"c9","changes":[{"collection":"loose","doc_id":"p1","operation":"upsert","data":{"title":"t","__proto__":{"polluted":true}}}]}';
        const a = await rest(s.url, `${COMPAT}/sync/push`, { token: owner, body: raw });
        expect(a.status, a.text).toBe(400);
        expect(issuePaths(a)).toContain('changes.0.data.__proto__');
        expect((await s.store.head('S\ufffd')).seq).toBe(before.seq);
        // The same body on REST, for comparison: the faces agree.
        const restRaw =
          '{"clientId":"c9","changes":[{"mutationId":1,"collection":"loose","id":"p1","op":"upsert","data":{"title":"t","__proto__":{"polluted":true}}}]}';
        expect((await rest(s.url, '/sync/push', { token: owner, body: restRaw })).status).toBe(400);
      });
    });
  });
}
