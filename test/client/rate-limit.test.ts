/** The client against a rate-limited server: it waits as long as the server asks instead of spending its retries, and nothing is lost or doubled. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverStoreCases, startClientServer, type ClientTestServer } from './harness.js';

for (const storeCase of await serverStoreCases()) {
  describe(`server on ${storeCase.name}`, () => {
    let server: ClientTestServer;
    beforeAll(async () => {
      // One token per 500 ms, bursts of 2. The client's own backoff (10, 20, 40, 80 ms) alone would
      // spend its 4 retries in ~150 ms, well before a token comes back.
      server = await startClientServer({
        store: storeCase,
        rateLimit: { requests: 2, windowMs: 1000 },
        retry: { retries: 4, baseMs: 10, maxMs: 2000 },
      });
    });
    afterAll(() => server?.close());

    describe('client under a rate limit', () => {
      it('honours retryAfterMs: sync() completes, each change is applied once', async () => {
        const device = await server.device('t-limited', 'd1');
        await device.client.collection('tasks').put('t1', { title: 'Count the shelf' });
        await device.client.collection('tasks').put('t2', { title: 'Order more' });
        // Spend the burst, so the sync's push meets an empty bucket.
        await device.trpc.sync.pull.query({});
        await device.trpc.sync.pull.query({});
        const started = performance.now();
        await device.client.sync();
        const elapsed = performance.now() - started;

        const refusals = server.events.filter((e) => e.type === 'rate_limited');
        expect(refusals.length).toBeGreaterThanOrEqual(1);
        expect(refusals.length).toBeLessThanOrEqual(3); // waited for the token each time, never hammered
        expect(elapsed).toBeGreaterThanOrEqual(400);
        const applied = (await server.oplog('t-limited', 'd1')).map((e) => e.id).sort();
        expect(applied).toEqual(['t1', 't2']);
        expect(await device.client.pending()).toBe(0);
      });
    });
  });
}
