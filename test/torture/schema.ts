/**
 * The torture run's schema and read rules (`serve --schema test/torture/schema.ts`): the demo's
 * `tasks` and `notes`, read whole, and `jobs`, read only through views: `mine` (the jobs assigned
 * to the signed-in user) and `team` (the jobs of one team, a parameterized rule). No default view:
 * a client sees a job only while one of its subscriptions holds it.
 */
import { z } from 'zod';
import { defineSyncSchema } from '../../shared/schema.js';
import { defineSyncRules } from '../../server/engine/rules.js';
import { demoSchema } from '../../server/demo/schema.js';

/** Teams a job can belong to (the `team` rule's params). */
export const TEAMS = ['red', 'blue', 'green'] as const;

export const schema = defineSyncSchema({
  tasks: demoSchema.collections.tasks,
  notes: demoSchema.collections.notes,
  jobs: z.object({
    title: z.string(),
    assignee: z.string(),
    team: z.string(),
    priority: z.number().int().optional(),
  }),
});

export const rules = defineSyncRules({
  mine: {
    collection: 'jobs',
    fields: ['assignee'],
    where: ({ actor }) => ({ assignee: actor.userId }),
  },
  team: {
    collection: 'jobs',
    fields: ['team'],
    params: z.object({ team: z.enum(TEAMS) }),
    where: ({ params }) => ({ team: params.team }),
  },
});

/** Nothing of `jobs` without a subscription. */
export const defaultViews: readonly (keyof typeof rules)[] = [];

/** The collections the rules name (served only through views). */
export const RULED: ReadonlySet<string> = new Set(['jobs']);

export default schema;
