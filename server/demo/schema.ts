/** The demo app's synced collections: `tasks` (with an optional `assignee`, a user id) and `notes`. */
import { z } from 'zod';
import { defineSyncSchema } from '../../shared/schema.js';

/**
 * Demo schema, served by `trpc-offline-sync serve` unless `--schema FILE` names another.
 *
 * @example
 * await trpc.sync.push.mutate({ clientId: 'd1', changes: [{ mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'Milk' } }] });
 */
export const demoSchema = defineSyncSchema({
  tasks: z.object({
    title: z.string(),
    done: z.boolean().default(false),
    priority: z.number().int().optional(),
    tags: z.array(z.string()).optional(),
    /** The user the task is assigned to (the demo's `mine` view: `assignee` = the signed-in user). */
    assignee: z.string().optional(),
  }),
  notes: z.object({ body: z.string() }),
});

export type DemoSchema = typeof demoSchema;
export default demoSchema;
