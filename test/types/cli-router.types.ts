/**
 * A typed client of the CLI server for a schema of the app's own (`serve --schema FILE`), as
 * docs/cli.md shows it: `createTRPCClient<SyncAppRouter<typeof schema>>`. Checked by `tsc --noEmit -p .`
 * in test/types/typecheck.test.ts; never run.
 */
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import { z } from 'zod';
import type { SyncAppRouter } from '../../server/index.js';
import { defineSyncSchema } from '../../shared/schema.js';

const _schema = defineSyncSchema({
  inventory: z.object({ sku: z.string(), count: z.number().int() }),
});

const trpc = createTRPCClient<SyncAppRouter<typeof _schema>>({
  links: [
    httpBatchLink({
      url: 'http://127.0.0.1:3000/trpc',
      transformer: superjson,
      headers: { authorization: 'Bearer t' },
    }),
  ],
});

type Change = Parameters<typeof trpc.sync.push.mutate>[0]['changes'][number];

/** Holds type checks for tsc; never called. */
export function checkCliRouterTypes(): void {
  const upsert = { mutationId: 1, collection: 'inventory', id: 'a', op: 'upsert' } as const;
  const ok: Change = { ...upsert, data: { sku: 'A-1', count: 3 } };
  void trpc.sync.push.mutate({ clientId: 'c1', changes: [ok] });
  // @ts-expect-error the schema has no tasks
  const tasks: Change = { mutationId: 1, collection: 'tasks', id: 'a', op: 'delete' };
  // @ts-expect-error count is a number
  const text: Change = { ...upsert, data: { sku: 'A', count: '3' } };
  void [tasks, text];
}
