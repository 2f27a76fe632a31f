/** Benchmark data: a realistic small task document, push batches, engines over the demo schema, bulk seeding. */
import { addSum, docHash } from '../shared/checksum.js';
import type { ChangeInput } from '../shared/protocol.js';
import { demoSchema } from '../server/demo/schema.js';
import { createSyncEngine } from '../server/engine/engine.js';
import type { SyncEngine } from '../server/engine/types.js';
import type { Store, StoredDoc } from '../server/stores/store.js';

const WORDS = [
  'call',
  'supplier',
  'invoice',
  'review',
  'stock',
  'order',
  'visit',
  'clinic',
  'update',
  'shelf',
  'price',
  'follow-up',
];
const TAGS = ['urgent', 'field', 'sales', 'inventory', 'q3', 'customer'];

/** A demo `tasks` document of about 120 bytes of JSON, varied by `i`. */
export function task(i: number): Record<string, unknown> {
  const w = (k: number) => WORDS[(i * 7 + k * 5) % WORDS.length];
  return {
    title: `${w(0)} ${w(1)} ${w(2)} #${i}`,
    done: i % 3 === 0,
    priority: i % 5,
    tags: [TAGS[i % TAGS.length]!, TAGS[(i + 2) % TAGS.length]!],
  };
}

/** `size` upserts of new documents `${prefix}-${first + k}`, mutation ids from `firstMutation`. */
export function upserts(
  prefix: string,
  first: number,
  size: number,
  firstMutation: number,
): ChangeInput[] {
  return Array.from({ length: size }, (_, k) => ({
    mutationId: firstMutation + k,
    collection: 'tasks',
    id: `${prefix}-${String(first + k).padStart(7, '0')}`,
    op: 'upsert' as const,
    data: task(first + k),
  }));
}

/**
 * An engine over the demo schema with the retention schedule off (no timers during a run). The
 * fan-out opens 1,000 live streams with one user's token, so the per-user live-connection cap
 * (default 16) is raised here.
 */
export function benchEngine(store: Store): SyncEngine {
  return createSyncEngine({
    store,
    schema: demoSchema,
    retention: { pruneIntervalMs: 0 },
    limits: { maxLiveConnectionsPerActor: 5000 },
  }) as unknown as SyncEngine;
}

const HLC = '20260502T120000.000Z-0000-bench';

/**
 * Writes `count` task documents into `scope` through the Store API (`putDocs`, 5,000 per
 * transaction, one commit seq each) — far faster than pushing them, and the state `full` reads
 * is the same: documents with per-field HLCs and a version. The oplog is left empty.
 */
export async function seedDocs(
  store: Store,
  scope: string,
  count: number,
  chunk = 5000,
): Promise<void> {
  for (let first = 0; first < count; first += chunk) {
    const n = Math.min(chunk, count - first);
    await store.transaction(scope, async (tx) => {
      const seq = tx.head.seq + 1;
      const docs: StoredDoc[] = Array.from({ length: n }, (_, k) => {
        const data = task(first + k);
        const fields = Object.fromEntries(Object.keys(data).map((f) => [f, HLC]));
        return {
          scope,
          collection: 'tasks',
          id: `doc-${String(first + k).padStart(7, '0')}`,
          data,
          fields,
          version: HLC,
          seq,
          deleted: false,
          actor: 'seed',
        };
      });
      await tx.putDocs(docs);
      await tx.setHead(seq);
      // Integrity checksums, as a push keeps them (else clients would find a mismatch and repair).
      const sum = docs.reduce((total, d) => addSum(total, docHash(d.id, d.version, d.data!)), 0n);
      await tx.addChecksums?.(new Map([['tasks', sum]]), seq);
    });
  }
}

/** Runs `fn` repeatedly until `budgetMs` of measured time or `maxRuns`; returns summed ms and runs. */
export async function timed(
  budgetMs: number,
  maxRuns: number,
  fn: (run: number) => Promise<number>,
): Promise<{ ms: number; runs: number; units: number }> {
  let ms = 0;
  let runs = 0;
  let units = 0;
  while (runs < maxRuns && ms < budgetMs) {
    const started = performance.now();
    units += await fn(runs);
    ms += performance.now() - started;
    runs++;
  }
  return { ms, runs, units };
}
