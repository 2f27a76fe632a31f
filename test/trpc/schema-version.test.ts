/** Schema-version gating on the tRPC face: an outdated client gets PRECONDITION_FAILED with data.sync.code UPGRADE_REQUIRED on queries, mutations and subscriptions. */
import type { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '../../server/demo/app-router.js';
import { storeCases } from '../rest/harness.js';
import { startServer, type TestServer } from './harness.js';

const upgrade = {
  data: {
    code: 'PRECONDITION_FAILED',
    httpStatus: 412,
    sync: { code: 'UPGRADE_REQUIRED', minSchemaVersion: 2 },
  },
};

for (const storeCase of (await storeCases()).filter((c) => c.name !== 'memory')) {
  describe(`on ${storeCase.name}`, () => {
    describe('schema versions over tRPC (minSchemaVersion 2)', () => {
      let server: TestServer;
      beforeAll(async () => {
        server = await startServer(await storeCase.create(), { minSchemaVersion: 2 });
      });
      afterAll(async () => {
        await server.close();
      });

      it('refuses push, pull and full of an older client; nothing is written; current and unversioned clients are served', async () => {
        const { trpc } = server.client(await server.token('u', 'sv'));
        const change = {
          mutationId: 1,
          collection: 'tasks' as const,
          id: 't1',
          op: 'upsert' as const,
          data: { title: 'x' },
        };
        await expect(
          trpc.sync.push.mutate({ clientId: 'd', schemaVersion: 1, changes: [change] }),
        ).rejects.toMatchObject(upgrade);
        await expect(
          trpc.sync.pull.query({ schemaVersion: 1, collections: ['legacy'] }),
        ).rejects.toMatchObject(upgrade);
        await expect(trpc.sync.full.query({ schemaVersion: 1 })).rejects.toMatchObject(upgrade);
        expect((await trpc.sync.pull.query({ schemaVersion: 2 })).changes).toEqual([]);
        await expect(
          trpc.sync.push.mutate({ clientId: 'd', schemaVersion: 2, changes: [change] }),
        ).resolves.toMatchObject({ results: [{ status: 'accepted' }] });
        expect((await trpc.sync.pull.query({})).changes).toHaveLength(1);
        // @ts-expect-error schemaVersion is a number
        await expect(trpc.sync.pull.query({ schemaVersion: 'two' })).rejects.toMatchObject({
          data: { code: 'BAD_REQUEST', sync: { issues: [{ path: 'schemaVersion' }] } },
        });
      });

      it.each(['ws', 'sse'] as const)(
        'a %s subscription of an older client errors with UPGRADE_REQUIRED',
        async (transport) => {
          const { trpc } = server.client(await server.token('s', 'sv'), transport);
          const error = await new Promise<TRPCClientError<AppRouter>>((resolve) => {
            const sub = trpc.sync.stream.subscribe(
              { schemaVersion: 1 },
              {
                onError: (e) => {
                  sub.unsubscribe();
                  resolve(e as TRPCClientError<AppRouter>);
                },
              },
            );
          });
          expect(error).toMatchObject(upgrade);
        },
      );
    });
  });
}
