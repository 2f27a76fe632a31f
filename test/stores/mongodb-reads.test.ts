// Read concern, read preference, causal sessions, commit timeouts and prune atomicity, observed on the wire of a real replica set.
import { randomBytes } from 'node:crypto';
import type { CommandStartedEvent } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { commitOne, newClient, newStore, skipReason, uri } from './mongodb-fixture.js';

const skip = skipReason('MongoDB reads, commit timeout and prune');
const newScope = () => `s-${randomBytes(4).toString('hex')}`;

describe.skipIf(!uri)(
  `mongoStore reads and retention on a replica set${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    it("reads outside transactions go to the primary with majority read concern, in causal sessions, whatever the app's client says", async () => {
      // The app's client prefers secondaries and reads `local`: the store must not inherit either.
      const client = await newClient({
        monitorCommands: true,
        readPreference: 'secondaryPreferred',
        readConcern: { level: 'local' },
      });
      const store = await newStore(undefined, client);
      const scope = newScope();
      await commitOne(store, scope, 't1', { title: 'a' });
      const hello = await client.db('admin').command({ hello: 1 });
      const seen: CommandStartedEvent[] = [];
      const listener = (e: CommandStartedEvent) => seen.push(e);
      client.on('commandStarted', listener);
      await store.head(scope);
      await store.readOplog(scope, { afterSeq: 0 });
      await store.scanDocs(scope, { limit: 10 });
      await store.findVersion(
        scope,
        { collection: 'tasks', id: 't1' },
        '20260502T120000.000Z-0000-test',
      );
      client.off('commandStarted', listener);
      const reads = seen.filter((e) => e.commandName === 'find' || e.commandName === 'aggregate');
      expect(reads.length).toBeGreaterThanOrEqual(5);
      for (const r of reads) {
        expect(
          r.command.readConcern?.level,
          `${r.commandName} ${JSON.stringify(r.command.readConcern)}`,
        ).toBe('majority');
        // Not sent for a primary read on a replica set; `primaryPreferred` on a direct connection to one node.
        expect(r.command.$readPreference?.mode ?? 'primary').toMatch(/^primary(Preferred)?$/);
        if (typeof hello.primary === 'string') expect(r.address).toBe(hello.primary);
        // Every read waits for what this store already saw (its commit included).
        expect(r.command.readConcern?.afterClusterTime).toBeDefined();
      }
      await store.close();
    });

    it("a pull never skips a commit even when the app's client reads from secondaries (a one-node set cannot show a lagging secondary: the wire test above is the evidence there)", async () => {
      const client = await newClient({
        readPreference: 'secondaryPreferred',
        readConcern: { level: 'local' },
      });
      const store = await newStore(undefined, client);
      const scope = newScope();
      for (let i = 1; i <= 20; i++) {
        await commitOne(store, scope, `t${i}`, { title: String(i) });
        const head = await store.head(scope);
        const entries = await store.readOplog(scope, { afterSeq: 0 });
        expect(head.seq).toBe(i);
        expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: i }, (_, k) => k + 1));
      }
      await store.close();
    });

    it('commits carry maxTimeMS (commitTimeoutMs) and majority write concern', async () => {
      const client = await newClient({ monitorCommands: true });
      const store = await newStore({ commitTimeoutMs: 4_321 }, client);
      const seen: CommandStartedEvent[] = [];
      const listener = (e: CommandStartedEvent) => seen.push(e);
      client.on('commandStarted', listener);
      await commitOne(store, newScope(), 't1', { title: 'a' });
      client.off('commandStarted', listener);
      const commit = seen.find((e) => e.commandName === 'commitTransaction');
      expect(commit?.command.maxTimeMS).toBe(4_321);
      expect(commit?.command.writeConcern?.w).toBe('majority');
      await store.close();
    });

    it('a writer that holds its scope makes another wait at most lockWaitMs, then UNAVAILABLE', async () => {
      const store = await newStore({ lockWaitMs: 1_000 });
      const scope = newScope();
      await commitOne(store, scope, 't0', { title: 'a' });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const holder = store.transaction(scope, async (tx) => {
        entered();
        await gate; // holds the scope lock (an uncommitted write on its scope document)
        return tx.head.seq;
      });
      await inside;
      const started = Date.now();
      await expect(commitOne(store, scope, 't1', { title: 'b' })).rejects.toMatchObject({
        code: 'UNAVAILABLE',
      });
      expect(Date.now() - started).toBeLessThan(20_000);
      release();
      await holder;
      expect(await commitOne(store, scope, 't1', { title: 'b' })).toBe(2);
      await store.close();
    }, 60_000);

    it('prune racing commits: the horizon never passes the head, and no entry above the horizon is deleted', async () => {
      for (const transactions of ['auto', false] as const) {
        const store = await newStore({ transactions });
        const scope = newScope();
        const old = new Date(Date.now() - 3_600_000);
        const before = new Date(Date.now() - 60_000);
        for (let i = 0; i < 5; i++) await commitOne(store, scope, `o${i}`, { title: 'old' }, old);
        // Commits whose `at` is older than the cutoff land while prunes run (the case that lost entries before).
        const writes = (async () => {
          for (let i = 0; i < 15; i++)
            await commitOne(store, scope, `n${i}`, { title: 'late' }, old);
        })();
        const prunes = (async () => {
          for (let i = 0; i < 5; i++) await store.prune(before);
        })();
        await Promise.all([writes, prunes]);
        const head = await store.head(scope);
        expect(head.seq).toBe(20);
        expect(head.horizon).toBeLessThanOrEqual(head.seq);
        const kept = (await store.readOplog(scope, { afterSeq: head.horizon })).map((e) => e.seq);
        expect(kept).toEqual(
          Array.from({ length: head.seq - head.horizon }, (_, k) => head.horizon + k + 1),
        );
        expect(
          await store.raw
            .collection('sync_oplog')
            .countDocuments({ scope, seq: { $lte: head.horizon } }),
        ).toBe(0);
        await store.close();
      }
    }, 120_000);
  },
);
