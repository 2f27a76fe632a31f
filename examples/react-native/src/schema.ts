/** The app's collections: the same `defineSyncSchema` object the server uses (here the demo server's `tasks`). */
import { z } from 'zod';
import { defineSyncSchema } from 'trpc-offline-sync';

export const schema = defineSyncSchema({
  tasks: z.object({
    title: z.string().min(1),
    done: z.boolean().default(false),
    priority: z.number().int().optional(),
    tags: z.array(z.string()).optional(),
  }),
  notes: z.object({ body: z.string() }),
});
