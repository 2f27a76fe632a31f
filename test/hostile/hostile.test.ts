/** Hand-written hostile requests over REST and tRPC against a real server: each answers its 4xx and writes nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deepArray,
  deepObject,
  withRaw,
  rest,
  startHostileServer,
  trpc,
  trpcError,
  trpcWs,
  upgrade,
  upsert,
  wsFrames,
  type Answer,
  type HostileServer,
} from './harness.js';
import { storeCases } from '../rest/harness.js';

for (const storeCase of await storeCases()) {
  describe(`on ${storeCase.name}`, () => {
    let s: HostileServer;
    let before: [number, number];

    beforeAll(async () => {
      s = await startHostileServer(await storeCase.create(), {
        limits: { maxBodyBytes: 256 * 1024, maxChangesPerPush: 20, maxDocumentBytes: 64 * 1024 },
      });
      // One valid write per tenant, so "nothing written" compares against non-empty oplogs.
      expect(
        (
          await rest(s.url, '/sync/push', {
            token: s.tokenA,
            body: upsert('tasks', 'a-ok', { title: 'A' }, 1),
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await rest(s.url, '/sync/push', {
            token: s.tokenB,
            body: upsert('tasks', 'b-ok', { title: 'B' }, 1),
          })
        ).status,
      ).toBe(200);
      before = await s.heads();
    });
    afterAll(() => s.close());

    /** Asserts the status, an issue path prefix when given, and that neither tenant's oplog moved. */
    async function refused(a: Answer, status: number, path?: string | RegExp) {
      expect(a.status, a.text.slice(0, 300)).toBe(status);
      if (path !== undefined) {
        const issues: { path: string }[] =
          a.json?.error?.issues ?? a.json?.error?.json?.data?.sync?.issues ?? [];
        const paths = issues.map((i) => i.path);
        if (typeof path === 'string')
          expect(
            paths.some((p) => p === path || p.startsWith(path)),
            JSON.stringify(paths),
          ).toBe(true);
        else
          expect(
            paths.some((p) => path.test(p)),
            JSON.stringify(paths),
          ).toBe(true);
      }
      expect(await s.heads()).toEqual(before);
    }

    const restPush = (body: unknown, token: string | null = s.tokenA) =>
      rest(s.url, '/sync/push', { token, body });
    const trpcPush = (input: unknown, token: string | null = s.tokenA) =>
      trpc(s.url, 'push', input, token);

    describe('hostile: nesting depth', () => {
      it('REST: a 5,000-deep array is 400 naming the path', async () => {
        await refused(
          await restPush(withRaw(upsert('free', 'd1', { tags: '@RAW@' }), deepArray(5000))),
          400,
          'changes.0.data.tags.0.0',
        );
      });
      it('REST: a 100,000-deep array is 400, not a crash', async () => {
        await refused(
          await restPush(
            `{"clientId":"c","changes":[{"mutationId":9,"collection":"free","id":"d2","op":"upsert","data":{"tags":${'['.repeat(100000)}${']'.repeat(100000)}}}]}`,
          ),
          400,
        );
      });
      it('REST: a 5,000-deep object in a patch is 400', async () => {
        const body = withRaw(
          {
            clientId: 'c',
            changes: [
              { mutationId: 9, collection: 'free', id: 'd3', op: 'patch', data: { meta: '@RAW@' } },
            ],
          },
          deepObject(5000),
        );
        await refused(await restPush(body), 400, 'changes.0.data.meta.n');
      });
      it('REST: 33 levels is refused, 32 accepted (limits.maxDepth default)', async () => {
        await refused(
          await restPush(withRaw(upsert('free', 'd4', { tags: '@RAW@' }), deepArray(32))),
          400,
          'changes.0.data.tags',
        );
        const ok = await restPush(
          withRaw(upsert('free', 'd4', { tags: '@RAW@' }, 2), deepArray(30)),
        );
        expect(ok.status).toBe(200);
        before = await s.heads();
      });
      it('tRPC: a 5,000-deep array is BAD_REQUEST naming the path', async () => {
        const a = await trpc(
          s.url,
          'push',
          null,
          s.tokenA,
          withRaw({ json: upsert('free', 'd5', { tags: '@RAW@' }, 3) }, deepArray(5000)),
        );
        await refused(a, 400, 'changes.0.data.tags.0');
        expect(trpcError(a).code).toBe('BAD_REQUEST');
      });
      it('tRPC: deep pull input is 400', async () => {
        await refused(
          await trpc(
            s.url,
            'pull',
            null,
            s.tokenA,
            withRaw({ json: { since: '@RAW@' } }, deepArray(1000)),
          ),
          400,
          'since',
        );
      });
      it('tRPC: deep full input is 400', async () => {
        await refused(
          await trpc(
            s.url,
            'full',
            null,
            s.tokenA,
            withRaw({ json: { collections: '@RAW@' } }, deepArray(1000)),
          ),
          400,
        );
      });
      it('tRPC: deep clientId is 400', async () => {
        await refused(
          await trpc(
            s.url,
            'push',
            null,
            s.tokenA,
            withRaw({ json: { clientId: '@RAW@', changes: [] } }, deepObject(5000)),
          ),
          400,
        );
      });
    });

    describe('hostile: keys', () => {
      const keyCases: [string, string, Record<string, unknown> | string][] = [
        [
          '__proto__ at the top of a passthrough document',
          'loose',
          '{"title":"x","__proto__":{"polluted":true}}',
        ],
        [
          '__proto__ deep in a z.record field',
          'free',
          '{"meta":{"a":{"b":{"__proto__":{"polluted":true}}}}}',
        ],
        ['constructor', 'loose', { title: 'x', constructor: { prototype: 1 } }],
        ['prototype deep in an array', 'free', { tags: [{ ok: 1 }, { prototype: 2 }] }],
        ['a $ operator key', 'free', { meta: { $where: 'sleep(1000)' } }],
        ['a $set key at the top', 'loose', { $set: { title: 'x' } }],
        ['a _sync_ key deep', 'free', { meta: { nested: { _sync_version: 'x' } } }],
        ['a dotted key', 'free', { meta: { 'a.b': 1 } }],
        ['a NUL in a key', 'loose', { 'ti\u0000tle': 'x' }],
      ];
      for (const [name, collection, data] of keyCases) {
        it(`REST: ${name} is 400 naming the path`, async () => {
          const body =
            typeof data === 'string'
              ? `{"clientId":"c","changes":[{"mutationId":10,"collection":"${collection}","id":"k1","op":"upsert","data":${data}}]}`
              : upsert(collection, 'k1', data, 10);
          await refused(await restPush(body), 400, 'changes.0.data');
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        });
      }
      it('tRPC: a $ key deep in a record is BAD_REQUEST naming the path', async () => {
        await refused(
          await trpcPush(upsert('free', 'k2', { meta: { x: [{ $gt: 1 }] } }, 11)),
          400,
          'changes.0.data.meta.x.0.$gt',
        );
      });
      it('tRPC: an own __proto__ key (raw JSON) is BAD_REQUEST naming the path (superjson no longer drops it unseen)', async () => {
        const raw =
          '{"json":{"clientId":"c","changes":[{"mutationId":12,"collection":"loose","id":"k3","op":"upsert","data":{"__proto__":{"admin":true}}}]}}';
        const a = await trpc(s.url, 'push', null, s.tokenA, raw);
        await refused(a, 400, 'changes.0.data.__proto__');
        expect(trpcError(a).sync?.code).toBe('BAD_REQUEST');
        expect(a.json.error.json.message).toContain('changes.0.data.__proto__');
        expect(({} as Record<string, unknown>).admin).toBeUndefined();
      });
      it('tRPC: a patch with a dotted key is BAD_REQUEST', async () => {
        await refused(
          await trpcPush({
            clientId: 'c',
            changes: [
              {
                mutationId: 13,
                collection: 'free',
                id: 'a-ok',
                op: 'patch',
                data: { meta: { 'x.y': 1 } },
              },
            ],
          }),
          400,
          'changes.0.data.meta',
        );
      });
      it('a batch with one bad key writes none of its good changes', async () => {
        const body = {
          clientId: 'c',
          changes: [
            {
              mutationId: 14,
              collection: 'tasks',
              id: 'g1',
              op: 'upsert',
              data: { title: 'good' },
            },
            {
              mutationId: 15,
              collection: 'free',
              id: 'g2',
              op: 'upsert',
              data: { meta: { $ne: null } },
            },
          ],
        };
        await refused(await restPush(body), 400, 'changes.1.data.meta.$ne');
      });
    });

    describe('hostile: strings and ids', () => {
      it('REST: NUL inside a string value is 400', async () => {
        await refused(
          await restPush(upsert('tasks', 'n1', { title: 'a\u0000b' }, 20)),
          400,
          'changes.0.data.title',
        );
      });
      it('REST: a lone surrogate in a string value is 400', async () => {
        await refused(
          await restPush(
            '{"clientId":"c","changes":[{"mutationId":21,"collection":"tasks","id":"n2","op":"upsert","data":{"title":"\\ud800"}}]}',
          ),
          400,
          'changes.0.data.title',
        );
      });
      it('REST: an id with a control character is 400', async () => {
        await refused(
          await restPush(upsert('tasks', 'bad\nid', { title: 'x' }, 22)),
          400,
          'changes.0.id',
        );
      });
      it('REST: an id over 256 characters is 400', async () => {
        await refused(
          await restPush(upsert('tasks', 'x'.repeat(257), { title: 'x' }, 23)),
          400,
          'changes.0.id',
        );
      });
      it('REST: an empty id is 400', async () => {
        await refused(await restPush(upsert('tasks', '', { title: 'x' }, 24)), 400, 'changes.0.id');
      });
      it('tRPC: a clientId with NUL is 400', async () => {
        await refused(await trpcPush({ clientId: 'c\u0000', changes: [] }), 400, 'clientId');
      });
      it('tRPC: a collection name with a dot is 400', async () => {
        await refused(
          await trpcPush(upsert('tasks.x', 'c1', { title: 'x' }, 25)),
          400,
          'changes.0.collection',
        );
      });
      it('REST: a collection name that is a prototype key is 400', async () => {
        await refused(
          await restPush(upsert('constructor', 'c2', { title: 'x' }, 26)),
          400,
          'changes.0.collection',
        );
      });
      it('REST: __proto__ as the collection is 400', async () => {
        await refused(
          await restPush(upsert('__proto__', 'c3', { title: 'x' }, 27)),
          400,
          'changes.0.collection',
        );
      });
    });

    describe('hostile: sizes and limits', () => {
      it('REST: a body over maxBodyBytes by Content-Length is 413', async () => {
        await refused(
          await restPush(
            JSON.stringify(upsert('tasks', 's1', { title: 'x'.repeat(300 * 1024) }, 30)),
          ),
          413,
        );
      });
      it('tRPC: a body over maxBodyBytes is 413', async () => {
        await refused(
          await trpcPush(upsert('tasks', 's2', { title: 'x'.repeat(300 * 1024) }, 31)),
          413,
        );
      });
      it('REST: a document over maxDocumentBytes is 413 naming it', async () => {
        await refused(
          await restPush(upsert('tasks', 's3', { title: 'x'.repeat(100 * 1024) }, 32)),
          413,
          'changes.0.data',
        );
      });
      it('REST: more changes than maxChangesPerPush is 413', async () => {
        const changes = Array.from({ length: 21 }, (_, i) => ({
          mutationId: 40 + i,
          collection: 'tasks',
          id: `m${i}`,
          op: 'upsert',
          data: { title: 't' },
        }));
        await refused(await restPush({ clientId: 'c', changes }), 413, 'changes');
      });
      it('REST: a pull limit above the maximum is 400', async () => {
        await refused(
          await rest(s.url, '/sync/pull?limit=100000', { token: s.tokenA }),
          400,
          'limit',
        );
      });
      it('REST: a 5 kB since is 400', async () => {
        await refused(
          await rest(s.url, `/sync/pull?since=${'x'.repeat(5_000)}`, { token: s.tokenA }),
          400,
          'since',
        );
      });
      it('REST: 200 collections in a filter is 400', async () => {
        await refused(
          await rest(s.url, `/sync/pull?collections=${Array(200).fill('tasks').join(',')}`, {
            token: s.tokenA,
          }),
          400,
          'collections',
        );
      });
      it('REST: an unknown query parameter is 400', async () => {
        await refused(
          await rest(s.url, '/sync/full?__proto__=1', { token: s.tokenA }),
          400,
          '__proto__',
        );
      });
    });

    describe('hostile: shapes and types', () => {
      it('REST: malformed JSON is 400', async () => {
        await refused(await restPush('{"clientId": "c", "changes": [}'), 400);
      });
      it('REST: a JSON array body is 400', async () => {
        await refused(await restPush('[1,2,3]'), 400);
      });
      it('REST: text/plain is 415', async () => {
        await refused(
          await rest(s.url, '/sync/push', {
            token: s.tokenA,
            body: '{}',
            headers: { 'content-type': 'text/plain' },
          }),
          415,
        );
      });
      it('REST: mutationId as a string is 400', async () => {
        await refused(
          await restPush({
            clientId: 'c',
            changes: [
              {
                mutationId: '50',
                collection: 'tasks',
                id: 'x',
                op: 'upsert',
                data: { title: 'x' },
              },
            ],
          }),
          400,
          'changes.0.mutationId',
        );
      });
      it('REST: mutationId 1e300 is 400', async () => {
        await refused(
          await restPush(
            '{"clientId":"c","changes":[{"mutationId":1e300,"collection":"tasks","id":"x","op":"upsert","data":{"title":"x"}}]}',
          ),
          400,
          'changes.0.mutationId',
        );
      });
      it('REST: data as an array is 400', async () => {
        await refused(
          await restPush({
            clientId: 'c',
            changes: [{ mutationId: 51, collection: 'tasks', id: 'x', op: 'upsert', data: [1, 2] }],
          }),
          400,
          'changes.0.data',
        );
      });
      it('REST: an unknown op is 400', async () => {
        await refused(
          await restPush({
            clientId: 'c',
            changes: [{ mutationId: 52, collection: 'tasks', id: 'x', op: 'drop', data: {} }],
          }),
          400,
          'changes.0.op',
        );
      });
      it('REST: a wrong field type in a strict collection is 400', async () => {
        await refused(
          await restPush(upsert('tasks', 'x', { title: 42 }, 53)),
          400,
          'changes.0.data.title',
        );
      });
      it('tRPC: push input null is 400', async () => {
        await refused(await trpcPush(null), 400);
      });
      it('tRPC: a non-superjson body is answered 4xx', async () => {
        const a = await trpc(s.url, 'push', null, s.tokenA, 'not json at all');
        expect(a.status).toBeGreaterThanOrEqual(400);
        expect(a.status).toBeLessThan(500);
        expect(await s.heads()).toEqual(before);
      });
      it('tRPC: a hostile superjson meta is answered 4xx', async () => {
        const raw = JSON.stringify({
          json: { clientId: 'c', changes: [] },
          meta: { values: { '__proto__.polluted': ['Date'] } },
        });
        const a = await trpc(s.url, 'push', null, s.tokenA, raw);
        expect(a.status).toBeLessThan(500);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(await s.heads()).toEqual(before);
      });
    });

    describe('hostile: identity and tenants', () => {
      it('REST: no token is 401', async () => {
        await refused(await restPush(upsert('tasks', 'x', { title: 'x' }, 60), null), 401);
      });
      it('REST: a forged token is 401', async () => {
        await refused(
          await restPush(upsert('tasks', 'x', { title: 'x' }, 61), s.tokenA.slice(0, -3) + 'abc'),
          401,
        );
      });
      it('tRPC: an alg=none token is 401', async () => {
        const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"x","tenant":"tenant-b"}').toString('base64url')}.`;
        await refused(await trpcPush(upsert('tasks', 'x', { title: 'x' }, 62), none), 401);
      });
      it('a body naming another tenant is ignored: tenant B never sees it', async () => {
        const body = {
          clientId: 'c',
          scopeId: 'tenant-b',
          scope: 'tenant-b',
          changes: [
            {
              mutationId: 63,
              collection: 'tasks',
              id: 'cross',
              op: 'upsert',
              data: { title: 'A' },
            },
          ],
        };
        expect((await restPush(body)).status).toBe(200);
        const pulled = await rest(s.url, '/sync/pull', { token: s.tokenB });
        expect(pulled.json.changes.map((c: { id: string }) => c.id)).toEqual(['b-ok']);
        before = await s.heads();
      });
    });

    describe('hostile: raw WebSocket frames', () => {
      it('a deep subscribe frame is refused with a close code, nothing written', async () => {
        const r = await wsFrames(s.port, [
          withRaw({ type: 'subscribe', token: s.tokenA, since: '@RAW@' }, deepArray(5000)),
        ]);
        expect(r.closeCode).not.toBeNull();
        expect(r.closeCode).not.toBe(1011);
        expect(await s.heads()).toEqual(before);
      });
      it('a binary garbage frame is refused with a close code', async () => {
        const r = await wsFrames(s.port, [Buffer.from([0xff, 0x00, 0x13, 0x37])]);
        expect(r.closeCode).not.toBeNull();
        expect(r.closeCode).not.toBe(1011);
      });
    });

    describe('unexpected failures', () => {
      it('REST: answers 500 with a request id in the body and X-Request-Id, reported with the same id', async () => {
        const a = await restPush(upsert('tasks', 'boom', { title: 'secret document body' }, 70));
        expect(a.status).toBe(500);
        const id = a.json.error.requestId as string;
        expect(id).toMatch(/^[0-9a-f]{16}$/);
        expect(a.headers.get('x-request-id')).toBe(id);
        expect(a.text).not.toContain('exploded');
        const report = s.unexpected.find((u) => u.requestId === id)!;
        expect(report.op).toBe('POST /sync/push');
        expect((report.error as Error).message).toBe('store exploded at boom');
        expect(await s.heads()).toEqual(before);
      });
      it('tRPC: answers INTERNAL_SERVER_ERROR with data.sync.requestId, reported with the same id', async () => {
        const a = await trpcPush(upsert('tasks', 'boom', { title: 'x' }, 71));
        expect(a.status).toBe(500);
        const data = trpcError(a);
        expect(data.sync?.code).toBe('INTERNAL');
        const id = data.sync!.requestId!;
        expect(a.text).not.toContain('exploded');
        const report = s.unexpected.find((u) => u.requestId === id)!;
        expect(report.op).toBe('trpc mutation sync.push');
        expect((report.error as Error).stack).toContain('store exploded at boom');
        expect(await s.heads()).toEqual(before);
      });
    });

    /** The key cases over tRPC: raw JSON text inside `{ "json": … }`, so the own keys JSON.parse makes reach the server. */
    const TRPC_KEY_CASES: [string, string, string, string][] = [
      [
        '__proto__ at the top of a passthrough document',
        'loose',
        '{"title":"x","__proto__":{"polluted":true}}',
        'changes.0.data.__proto__',
      ],
      [
        '__proto__ deep in a z.record field',
        'free',
        '{"meta":{"a":{"b":{"__proto__":{"polluted":true}}}}}',
        'changes.0.data.meta.a.b.__proto__',
      ],
      [
        '__proto__ inside an array item',
        'free',
        '{"tags":[{"ok":1},{"__proto__":{"polluted":true}}]}',
        'changes.0.data.tags.1.__proto__',
      ],
      [
        'constructor',
        'loose',
        '{"title":"x","constructor":{"prototype":1}}',
        'changes.0.data.constructor',
      ],
      [
        'prototype deep in an array',
        'free',
        '{"tags":[{"ok":1},{"prototype":2}]}',
        'changes.0.data.tags.1.prototype',
      ],
      [
        'a $ operator key deep',
        'free',
        '{"meta":{"q":{"$where":"sleep(1000)"}}}',
        'changes.0.data.meta.q.$where',
      ],
      ['a $set key at the top', 'loose', '{"$set":{"title":"x"}}', 'changes.0.data.$set'],
      [
        'a _sync_ key deep',
        'free',
        '{"meta":{"nested":{"_sync_version":"x"}}}',
        'changes.0.data.meta.nested._sync_version',
      ],
      ['a dotted key', 'free', '{"meta":{"a.b":1}}', 'changes.0.data.meta.a.b'],
      ['a NUL in a key', 'loose', '{"ti\\u0000tle":"x"}', 'changes.0.data.ti\\u0000tle'],
    ];

    const trpcPushText = (collection: string, data: string, mutationId: number, op = 'upsert') =>
      `{"clientId":"c","changes":[{"mutationId":${mutationId},"collection":"${collection}","id":"tk${mutationId}","op":"${op}","data":${data}}]}`;

    describe('hostile: refused keys over tRPC (HTTP and WebSocket)', () => {
      TRPC_KEY_CASES.forEach(([name, collection, data, path], i) => {
        it(`tRPC HTTP: ${name} is BAD_REQUEST naming ${path}`, async () => {
          const a = await trpc(
            s.url,
            'push',
            null,
            s.tokenA,
            `{"json":${trpcPushText(collection, data, 100 + i)}}`,
          );
          await refused(a, 400, path);
          expect(trpcError(a).sync?.code).toBe('BAD_REQUEST');
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        });
      });
      it('tRPC HTTP: a patch with __proto__ is BAD_REQUEST', async () => {
        await refused(
          await trpc(
            s.url,
            'push',
            null,
            s.tokenA,
            `{"json":${trpcPushText('free', '{"meta":{"__proto__":{"x":1}}}', 120, 'patch')}}`,
          ),
          400,
          'changes.0.data.meta.__proto__',
        );
      });
      it('tRPC HTTP: __proto__ in the second call of a batch refuses that call only, and writes nothing', async () => {
        const body = `{"0":{"json":${trpcPushText('tasks', '{"title":"fine"}', 121).replace('"changes"', '"atomic":true,"changes"').replace('tk121', 'batch-ok')}},"1":{"json":${trpcPushText('loose', '{"__proto__":{"admin":true}}', 122)}}}`;
        const res = await fetch(`${s.url}/trpc/sync.push,sync.push?batch=1`, {
          method: 'POST',
          headers: { authorization: `Bearer ${s.tokenA}`, 'content-type': 'application/json' },
          body,
        });
        const answers = (await res.json()) as any[];
        expect(
          answers[1].error.json.data.sync.issues.map((i: { path: string }) => i.path),
        ).toContain('changes.0.data.__proto__');
        expect(answers[0].result.data.json.results[0].status).toBe('accepted');
        before = await s.heads(); // the good call of the batch is its own push
      });
      it('tRPC HTTP: __proto__ next to superjson meta (a Date) is still refused', async () => {
        const raw = JSON.stringify({
          json: JSON.parse(
            trpcPushText('free', '{"meta":{"when":"2026-01-01T00:00:00.000Z"}}', 123),
          ),
          meta: { values: { 'changes.0.data.meta.when': ['Date'] } },
        }).replace('"meta":{"when"', '"meta":{"__proto__":{"admin":true},"when"');
        await refused(
          await trpc(s.url, 'push', null, s.tokenA, raw),
          400,
          'changes.0.data.meta.__proto__',
        );
        expect(({} as Record<string, unknown>).admin).toBeUndefined();
      });
      it('tRPC HTTP: a superjson referential-equality cycle (input deserialized in place) is 400, not a hang', async () => {
        const raw = JSON.stringify({
          json: JSON.parse(trpcPushText('free', '{"meta":{"a":1}}', 128)),
          meta: { referentialEqualities: [['changes.0.data.meta.a']] },
        });
        const a = await trpc(s.url, 'push', null, s.tokenA, raw);
        await refused(a, 400, /^changes\.0\.data\.meta\.a/);
        expect(a.json.error.json.message).toContain('shared references are not accepted');
      });
      it('tRPC WebSocket: __proto__ in a document is answered BAD_REQUEST naming the path, on its own request id', async () => {
        const frame = `{"id":1,"method":"mutation","params":{"path":"sync.push","input":{"json":${trpcPushText('loose', '{"title":"x","__proto__":{"admin":true}}', 124)}}}}`;
        const msg = await trpcWs(s.port, s.tokenA, frame);
        expect(msg?.id).toBe(1);
        expect(msg.error.json.data.code).toBe('BAD_REQUEST');
        expect(msg.error.json.data.sync.issues.map((i: { path: string }) => i.path)).toContain(
          'changes.0.data.__proto__',
        );
        expect(await s.heads()).toEqual(before);
      });
      it('tRPC WebSocket: __proto__ nested in a record is refused', async () => {
        const frame = `{"id":1,"method":"mutation","params":{"path":"sync.push","input":{"json":${trpcPushText('free', '{"meta":{"deep":[{"__proto__":{"admin":true}}]}}', 125)}}}}`;
        const msg = await trpcWs(s.port, s.tokenA, frame);
        expect(msg.error.json.data.sync.issues.map((i: { path: string }) => i.path)).toContain(
          'changes.0.data.meta.deep.0.__proto__',
        );
        expect(await s.heads()).toEqual(before);
      });
      it('tRPC WebSocket: a $ key and a dotted key are refused', async () => {
        for (const [data, path] of [
          ['{"meta":{"$gt":1}}', 'changes.0.data.meta.$gt'],
          ['{"meta":{"x.y":1}}', 'changes.0.data.meta.x.y'],
        ]) {
          const msg = await trpcWs(
            s.port,
            s.tokenA,
            `{"id":1,"method":"mutation","params":{"path":"sync.push","input":{"json":${trpcPushText('free', data!, 126)}}}}`,
          );
          expect(msg.error.json.data.sync.issues.map((i: { path: string }) => i.path)).toContain(
            path,
          );
        }
        expect(await s.heads()).toEqual(before);
      });
      it('REST: __proto__ inside an array item is 400 naming the path', async () => {
        await refused(
          await restPush(trpcPushText('free', '{"tags":[1,{"__proto__":{"polluted":true}}]}', 127)),
          400,
          'changes.0.data.tags.1.__proto__',
        );
      });
    });

    describe('hostile: URL and query limits', () => {
      it('REST: a URL over limits.maxUrlLength (10,000) is 414 URI_TOO_LONG with a JSON error', async () => {
        const a = await rest(s.url, `/sync/pull?since=${'x'.repeat(10_001)}`, { token: s.tokenA });
        await refused(a, 414, 'url');
        expect(a.json.error.code).toBe('URI_TOO_LONG');
        expect(a.json.error.message).toContain('limits.maxUrlLength');
      });
      it('REST: a long URL is refused before authentication (no token needed to get 414)', async () => {
        await refused(
          await rest(s.url, `/sync/full?cursor=${'y'.repeat(12_000)}`, { token: null }),
          414,
        );
      });
      it('REST: more than limits.maxQueryParams (16) query parameters is 400 naming query', async () => {
        const a = await rest(
          s.url,
          `/sync/pull?${Array.from({ length: 17 }, (_, i) => `p${i}=1`).join('&')}`,
          { token: s.tokenA },
        );
        await refused(a, 400, 'query');
        expect(a.json.error.message).toContain('limits.maxQueryParams');
      });
      it('REST: 50,000 empty-named parameters in a short-enough URL are 400, not parsed one by one', async () => {
        await refused(
          await rest(s.url, `/sync/pull?${'a&'.repeat(4000)}`, { token: s.tokenA }),
          400,
          'query',
        );
      });
      it('compat face: too many query parameters is 400 with FastAPI detail', async () => {
        const a = await rest(s.url, `/compat/fastapi-offline-sync/sync/pull?${'a=1&'.repeat(20)}`, {
          token: s.tokenA,
        });
        await refused(a, 400, 'query');
        expect(a.json.detail).toContain('query parameters');
      });
      it('compat face: a URL over the limit is 414 with FastAPI detail', async () => {
        const a = await rest(
          s.url,
          `/compat/fastapi-offline-sync/sync/pull?since=${'1'.repeat(10_500)}`,
          { token: s.tokenA },
        );
        await refused(a, 414);
        expect(a.json.detail).toContain('limits.maxUrlLength');
      });
      it('tRPC: a GET query over the URL limit is 414', async () => {
        await refused(await trpc(s.url, 'pull', { since: 'z'.repeat(11_000) }, s.tokenA), 414);
      });
      it('raw WebSocket: an upgrade URL over the limit is refused with HTTP 414 before the handshake', async () => {
        const r = await upgrade(`ws://127.0.0.1:${s.port}/sync/stream?since=${'q'.repeat(10_500)}`);
        expect(r.open).toBe(false);
        expect(r.status).toBe(414);
        expect(JSON.parse(r.body).error.code).toBe('URI_TOO_LONG');
        expect(await s.heads()).toEqual(before);
      });
      it("a URL past Node's own 16 KiB header limit is 431, not a crash", async () => {
        const a = await rest(s.url, `/sync/pull?since=${'w'.repeat(20_000)}`, { token: s.tokenA });
        expect(a.status).toBe(431);
        expect(await s.heads()).toEqual(before);
      });
    });
  });
}
