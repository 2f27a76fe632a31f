/**
 * The demo's read rules: `mine` (the tasks assigned to the signed-in user) and `all` (every task of
 * the tenant). `all` is the default view, so clients that do not subscribe (older clients, REST,
 * the compat face) keep seeing every task, as before the rules.
 */
import { defineSyncRules } from '../engine/rules.js';

/**
 * The rules `trpc-offline-sync serve` declares with the demo schema.
 *
 * @example
 * const engine = createSyncEngine({ store, schema: demoSchema, rules: demoRules, defaultViews: demoDefaultViews });
 */
export const demoRules = defineSyncRules({
  mine: {
    collection: 'tasks',
    fields: ['assignee'],
    where: ({ actor }) => ({ assignee: actor.userId }),
  },
  all: { collection: 'tasks', fields: [] },
});

/** The demo's rules type (typed `view` inputs on the demo router). */
export type DemoRules = typeof demoRules;

/** What a request without a view reads: every task (the `all` view). */
export const demoDefaultViews: readonly (keyof DemoRules)[] = ['all'];
