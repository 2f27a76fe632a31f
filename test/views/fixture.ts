/** The views tests' schema, rules and helpers: a tasks app with assignees, projects and memberships. */
import { z } from 'zod';
import { createSyncEngine } from '../../server/engine/engine.js';
import { defineSyncRules } from '../../server/engine/rules.js';
import type { SyncEngineOptions } from '../../server/engine/types.js';
import type { Store } from '../../server/stores/store.js';
import type { Actor, ChangeOut, StreamEvent } from '../../shared/protocol.js';
import { defineSyncSchema } from '../../shared/schema.js';

export const viewsSchema = defineSyncSchema({
  tasks: z.object({
    title: z.string(),
    assignee: z.string().nullable().optional(),
    projectId: z.string().optional(),
  }),
  parts: z.object({ name: z.string() }),
  notes: z.object({ body: z.string() }),
});

/** Outside state the rules read: project memberships by user (tests change it, then refreshViews). */
export class Memberships {
  readonly byUser = new Map<string, Set<string>>();
  of(userId: string): string[] {
    return [...(this.byUser.get(userId) ?? [])].sort();
  }
  grant(userId: string, projectId: string): void {
    if (!this.byUser.has(userId)) this.byUser.set(userId, new Set());
    this.byUser.get(userId)!.add(projectId);
  }
  revoke(userId: string, projectId: string): void {
    this.byUser.get(userId)?.delete(projectId);
  }
}

export function viewsRules(members: Memberships) {
  return defineSyncRules({
    mine: {
      collection: 'tasks',
      fields: ['assignee'],
      where: ({ actor }) => ({ assignee: actor.userId }),
    },
    project: {
      collection: 'tasks',
      fields: ['projectId'],
      params: z.object({ projectId: z.string().min(1) }),
      where: ({ params }) => ({ projectId: params.projectId }),
      allow: ({ actor, params }) => members.of(actor.userId).includes(params.projectId),
    },
    team: {
      collection: 'tasks',
      fields: ['projectId'],
      // Outside state, read asynchronously.
      where: async ({ actor }) => ({
        projectId: { in: await Promise.resolve(members.of(actor.userId)) },
      }),
    },
    catalogue: { collection: 'parts', fields: [] },
    broken: { collection: 'tasks', fields: ['assignee'], where: () => ({ title: 'x' }) as never },
  });
}

export type ViewsRules = ReturnType<typeof viewsRules>;

export function viewsEngine(
  store: Store,
  members: Memberships,
  options: Partial<SyncEngineOptions<typeof viewsSchema, ViewsRules>> = {},
) {
  return createSyncEngine({
    store,
    schema: viewsSchema,
    rules: viewsRules(members),
    defaultViews: ['mine'],
    retention: { pruneIntervalMs: 0 },
    stream: { heartbeatMs: 60_000, pollMs: 100 },
    ...options,
  });
}

export const actor = (userId: string, scopeId: string): Actor => ({ userId, scopeId });

/** Every pull page from `since` (changes of all pages, the final checkpoint). */
export async function pullAll(
  engine: {
    pull(
      a: Actor,
      i: unknown,
    ): Promise<{ changes: ChangeOut[]; checkpoint: string; hasMore: boolean }>;
  },
  who: Actor,
  input: Record<string, unknown>,
) {
  const changes: ChangeOut[] = [];
  let since = (input.since as string | null | undefined) ?? null;
  for (;;) {
    const page = await engine.pull(who, { ...input, since });
    changes.push(...page.changes);
    since = page.checkpoint;
    if (!page.hasMore) return { changes, checkpoint: since };
  }
}

/** Every full page of a request (docs of all pages, the checkpoint). */
export async function fullAll(
  engine: {
    full(
      a: Actor,
      i: unknown,
    ): Promise<{
      docs: {
        collection: string;
        id: string;
        data: Record<string, unknown> | null;
        deleted: boolean;
      }[];
      cursor: string | null;
      checkpoint: string;
    }>;
  },
  who: Actor,
  input: Record<string, unknown>,
  limit = 1000,
) {
  const docs: {
    collection: string;
    id: string;
    data: Record<string, unknown> | null;
    deleted: boolean;
  }[] = [];
  let cursor: string | null = null;
  let checkpoint: string;
  do {
    const page = await engine.full(who, { ...input, cursor, limit });
    docs.push(...page.docs);
    cursor = page.cursor;
    checkpoint = page.checkpoint;
  } while (cursor);
  return { docs, checkpoint };
}

/** Reads stream events one at a time (the test awaits each). */
export function reader(events: AsyncIterable<StreamEvent>) {
  const it = events[Symbol.asyncIterator]();
  return {
    async next(): Promise<StreamEvent> {
      const r = await it.next();
      if (r.done) throw new Error('stream ended');
      return r.value;
    },
    async ended(): Promise<boolean> {
      return (await it.next()).done === true;
    },
    close: () => it.return?.(),
  };
}
