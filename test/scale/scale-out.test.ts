/** Three stateless `serve` processes on one PostgreSQL behave as one: every reader sees every push once and whole, and `kill -9` of one loses no acknowledged push. */
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  freshDatabase,
  killAllServers,
  startServers,
  tokenFor,
  type ServerProcess,
} from './cluster.js';
import {
  PullObserver,
  SseObserver,
  WsObserver,
  checkObserver,
  fullDocs,
  runWriter,
  waitForObservers,
  type Observer,
  type WriterLog,
} from './load.js';

const adminUrl = process.env.TEST_DATABASE_URL;

const WRITERS = 30;
const BATCHES = 20;
const CHANGES = 5;
const TENANT = 'shop';

/** One pull loop, one SSE and one raw-WebSocket subscriber on each server, all from the beginning. */
async function observersOn(servers: ServerProcess[]): Promise<Observer[]> {
  const token = await tokenFor('reader', TENANT);
  return servers.flatMap((s) => [
    new PullObserver(`${s.name}/pull`, s.base, token).start(),
    new SseObserver(`${s.name}/sse`, s.base, token).start(),
    new WsObserver(`${s.name}/ws`, s.base, token).start(),
  ]);
}

const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

if (!adminUrl) {
  console.log('skipped: TEST_DATABASE_URL not set');
  describe.skip('scale-out on PostgreSQL', () => {
    it('needs TEST_DATABASE_URL (bash scripts/pg-test-cluster.sh start)', () => undefined);
  });
} else {
  describe('scale-out: N stateless servers on one PostgreSQL', () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      await killAllServers();
      for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
    });
    afterAll(killAllServers);

    it(`3 processes, ${WRITERS} writers × ${BATCHES} pushes × ${CHANGES} changes: every pull loop and every SSE/WS subscriber on every process sees every change exactly once, each push whole`, async () => {
      const t0 = performance.now();
      const db = await freshDatabase(adminUrl);
      cleanups.push(db.drop);
      const servers = await startServers(3, db.url);
      const observers = await observersOn(servers);
      cleanups.push(async () => void (await Promise.all(observers.map((o) => o.stop()))));
      const started = performance.now();

      const logs = await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) =>
          runWriter({
            writer: w,
            token: await tokenFor(`user-${w}`, TENANT),
            base: () => servers[w % servers.length]!.base,
            batches: BATCHES,
            changesPerBatch: CHANGES,
          }),
        ),
      );
      const pushSeconds = elapsed(started);
      const batches = logs.flat();
      expect(batches.filter((b) => !b.acked).map((b) => `${b.batch}: ${b.lastFailure}`)).toEqual(
        [],
      );
      expect(batches).toHaveLength(WRITERS * BATCHES);
      const expected = new Set(batches.flatMap((b) => b.ids));
      expect(expected.size).toBe(WRITERS * BATCHES * CHANGES);

      await waitForObservers(observers, expected, 30_000);
      await Promise.all(observers.map((o) => o.stop()));
      expect(observers.flatMap((o) => checkObserver(o, expected))).toEqual([]);
      // One history: every reader ends on the same checkpoint, whichever process it talked to.
      expect(new Set(observers.map((o) => o.checkpoint)).size).toBe(1);
      // One state: each process's full export holds exactly the pushed documents.
      const token = await tokenFor('reader', TENANT);
      for (const s of servers) {
        const docs = await fullDocs(s.base, token);
        expect([...docs.keys()].sort()).toEqual([...expected].sort());
      }
      console.log(
        `scale-out: ${batches.length} pushes (${expected.size} changes) through 3 processes in ${pushSeconds}; ` +
          `${observers.length} observers each saw all once; reconnects ${observers.reduce((n, o) => n + o.reconnects, 0)}; total ${elapsed(t0)}`,
      );
    }, 120_000);

    it('kill -9 of one process mid-load: every acknowledged push is present, no batch is half-written, and a retry of an unacknowledged one is exactly-once', async () => {
      const t0 = performance.now();
      const db = await freshDatabase(adminUrl);
      cleanups.push(db.drop);
      const servers = await startServers(3, db.url);
      const [, , victim] = servers as [ServerProcess, ServerProcess, ServerProcess];
      const survivors = servers.filter((s) => s !== victim);
      const observers = await observersOn(servers);
      cleanups.push(async () => void (await Promise.all(observers.map((o) => o.stop()))));

      // Kill once a third of the pushes were acknowledged, while every writer is mid-run.
      let acked = 0;
      let killed: Promise<void> | null = null;
      const killAt = Math.floor((WRITERS * BATCHES) / 3);
      const onAck = () => {
        if (++acked === killAt) killed = victim.kill9();
      };
      // Writers give up at their first failure, so an unacknowledged batch stays as the kill left it.
      const logs: WriterLog[] = await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) =>
          runWriter({
            writer: w,
            token: await tokenFor(`user-${w}`, TENANT),
            base: () => servers[w % servers.length]!.base,
            batches: BATCHES,
            changesPerBatch: CHANGES,
            onAck,
          }),
        ),
      );
      expect(killed).not.toBeNull();
      await killed;
      const batches = logs.flat();
      const unacked = batches.filter((b) => !b.acked);
      const victimWriters = new Set(
        Array.from({ length: WRITERS }, (_, w) => w).filter((w) => w % servers.length === 2),
      );
      // Only writers of the killed process failed, each at most once (then it stopped).
      expect(unacked.every((b) => victimWriters.has(Number(/^w(\d+)-/.exec(b.batch)![1])))).toBe(
        true,
      );
      expect(
        batches.filter((b) => b.acked && !victimWriters.has(Number(/^w(\d+)-/.exec(b.batch)![1])))
          .length,
      ).toBe((WRITERS - victimWriters.size) * BATCHES);

      const token = await tokenFor('reader', TENANT);
      const afterKill = await fullDocs(survivors[0]!.base, token);
      const missingAcked = batches
        .filter((b) => b.acked)
        .flatMap((b) => b.ids.filter((id) => !afterKill.has(id)));
      expect(missingAcked).toEqual([]);
      const halfWritten = batches.filter((b) => {
        const present = b.ids.filter((id) => afterKill.has(id)).length;
        return present !== 0 && present !== b.ids.length;
      });
      expect(halfWritten.map((b) => b.batch)).toEqual([]);
      expect(afterKill.size % CHANGES).toBe(0);
      const committedUnacked = unacked.filter((b) => afterKill.has(b.ids[0]!));

      // Retrying an unacknowledged batch on a survivor with the same mutation ids applies it at most once.
      const retried = await Promise.all(
        unacked.map(async (b) => {
          const w = Number(/^w(\d+)-/.exec(b.batch)![1]);
          const n = Number(/-b(\d+)$/.exec(b.batch)![1]);
          const log = await runWriter({
            writer: w,
            token: await tokenFor(`user-${w}`, TENANT),
            base: () => survivors[w % survivors.length]!.base,
            firstBatch: n,
            batches: n + 1,
            changesPerBatch: CHANGES,
            retryUntil: Date.now() + 10_000,
          });
          return log.at(-1)!;
        }),
      );
      expect(retried.every((b) => b.acked)).toBe(true);
      const final = await fullDocs(survivors[1]!.base, token);
      expect(final.size).toBe(
        afterKill.size + (unacked.length - committedUnacked.length) * CHANGES,
      );
      // Exactly once, in the oplog (full answers each document once whatever happened): every change of
      // every retried batch was applied once, and no (client, mutation id) was ever applied twice.
      const oplog = new pg.Client({ connectionString: db.url });
      await oplog.connect();
      try {
        const twice = await oplog.query(
          'SELECT client_id, mutation_id, count(*)::int AS n FROM sync_oplog GROUP BY client_id, mutation_id HAVING count(*) > 1',
        );
        expect(twice.rows).toEqual([]);
        for (const b of unacked) {
          const { rows } = await oplog.query(
            'SELECT count(*)::int AS n FROM sync_oplog WHERE id = ANY($1)',
            [b.ids],
          );
          expect(rows[0].n, b.batch).toBe(CHANGES);
        }
      } finally {
        await oplog.end();
      }

      const expected = new Set(final.keys());
      const watching = observers.filter((o) => !o.name.startsWith(victim.name));
      await waitForObservers(watching, expected, 30_000);
      await Promise.all(observers.map((o) => o.stop()));
      expect(watching.flatMap((o) => checkObserver(o, expected))).toEqual([]);
      console.log(
        `kill -9: killed ${victim.name} after ${killAt} acknowledged pushes; ${batches.filter((b) => b.acked).length} acknowledged, ` +
          `${unacked.length} unacknowledged (${committedUnacked.length} of them had committed); ${expected.size} docs; ` +
          `survivor observers saw all once; total ${elapsed(t0)}`,
      );
    }, 120_000);
  });
}
