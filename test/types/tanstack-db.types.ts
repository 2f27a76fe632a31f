/** Row types of `syncCollectionOptions` collections, from the schema: checked by `tsc --noEmit -p .` in test/types/typecheck.test.ts, never run. */
import { createCollection } from '@tanstack/db';
import type { SyncClient } from '../../client/index.js';
import type { demoSchema } from '../../server/demo/schema.js';
import { syncCollectionOptions } from '../../tanstack-db/index.js';

/** Never called: tsc checks its body (`@ts-expect-error` lines must be errors). */
export function rowTypes(client: SyncClient<typeof demoSchema>): string | undefined {
  const tasks = createCollection(syncCollectionOptions({ client, collection: 'tasks' }));
  const notes = createCollection(syncCollectionOptions({ client, collection: 'notes' }));
  // @ts-expect-error: not a collection of the schema
  syncCollectionOptions({ client, collection: 'nope' });
  // @ts-expect-error: a task's title is a string
  tasks.insert({ id: 'x', title: 1, done: false });
  // @ts-expect-error: a note has no title
  notes.insert({ id: 'n', title: 'x' });
  const title: string | undefined = tasks.get('x')?.title;
  return title;
}
