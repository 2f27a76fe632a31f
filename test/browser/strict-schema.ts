/** A server schema stricter than the app's (task titles of at most 30 characters), so the browser tests can make the server refuse a write the app accepted. */
import { z } from 'zod';
import { defineSyncSchema } from '../../shared/schema.js';

export default defineSyncSchema({
  tasks: z.object({
    title: z.string().max(30, 'must be at most 30 characters'),
    done: z.boolean().default(false),
    priority: z.number().int().optional(),
    tags: z.array(z.string()).optional(),
  }),
  notes: z.object({ body: z.string() }),
});
