/** Many tabs of the task app in Chromium: two tabs of one browser share one IndexedDB store, one syncs, both write at once, every write reaches the server exactly once, and closing the syncing tab hands over. */
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserSkipReason, until, useChromiumAndServer } from './harness.js';

const skip = browserSkipReason();

/** What the pages' push requests carried and what the server answered. */
interface PushLog {
  /** `collection/id#mutationId` of every change in every push request (a retry shows twice). */
  sent: string[];
  /** Every result status the server answered. */
  statuses: string[];
}

describe.skipIf(skip !== null)('many tabs of the web app in Chromium', () => {
  const app = useChromiumAndServer();

  /** Watches every push request of the context (all its tabs). */
  function watchPushes(context: BrowserContext): PushLog {
    const log: PushLog = { sent: [], statuses: [] };
    context.on('request', (request) => {
      if (!request.url().includes('sync.push')) return;
      const body = JSON.parse(request.postData() ?? '{}') as Record<
        string,
        { json: { changes: { collection: string; id: string; mutationId: number }[] } }
      >;
      for (const call of Object.values(body))
        for (const c of call.json.changes) log.sent.push(`${c.collection}/${c.id}#${c.mutationId}`);
    });
    context.on('response', async (response) => {
      if (!response.url().includes('sync.push')) return;
      const answers = (await response.json().catch(() => [])) as {
        result?: { data?: { json?: { results?: { status: string }[] } } };
      }[];
      for (const answer of [answers].flat())
        for (const r of answer.result?.data?.json?.results ?? []) log.statuses.push(r.status);
    });
    return log;
  }

  /** WebSockets each page opened. */
  const sockets = new Map<Page, number>();
  async function tab(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    sockets.set(page, 0);
    page.on('websocket', () => sockets.set(page, sockets.get(page)! + 1));
    await page.goto(`${app.server.url}/`);
    await page.waitForFunction(() => window.__sync !== undefined);
    await until(
      'the tab to show online',
      async () => (await page.getByTestId('status').textContent()) === 'online',
    );
    return page;
  }

  const isLeader = (page: Page) => page.evaluate(() => window.__sync!.leader);
  const pending = (page: Page) => page.evaluate(() => window.__sync!.pending());
  const localIds = (page: Page) =>
    page.evaluate(async () => (await window.__sync!.collection('tasks').query()).map((r) => r.id));
  async function serverIds(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let since: string | null = null;
    for (;;) {
      const page = await app.server.trpc.sync.pull.query({ since });
      for (const c of page.changes)
        if (c.op !== 'delete') out.set(c.id, (c.data as { title: string }).title);
      since = page.checkpoint;
      if (!page.hasMore) return out;
    }
  }

  it('two tabs write 20 documents each at once: the server has all 40, each pushed once; the leader closes and the other tab takes over', async () => {
    const context = await app.browser.newContext();
    const log = watchPushes(context);
    const a = await tab(context);
    const b = await tab(context);
    expect(await isLeader(a)).toBe(true);
    expect(await isLeader(b)).toBe(false);
    expect(await b.evaluate(() => window.__sync!.live)).toBe(true); // asked for live; the leader tab does it

    // Both tabs write at the same moment, 20 concurrent puts each.
    const write = (page: Page, prefix: string) =>
      page.evaluate(async (p) => {
        const tasks = window.__sync!.collection('tasks');
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            tasks.put(`${p}${String(i).padStart(2, '0')}`, { title: `${p} task ${i}` }),
          ),
        );
      }, prefix);
    await Promise.all([write(a, 'a'), write(b, 'b')]);

    const wanted = [
      ...Array.from({ length: 20 }, (_, i) => `a${String(i).padStart(2, '0')}`),
      ...Array.from({ length: 20 }, (_, i) => `b${String(i).padStart(2, '0')}`),
    ].sort();
    await until('the server to hold all 40', async () => (await serverIds()).size === 40, 30_000);
    await until(
      'both tabs to have nothing pending',
      async () => (await pending(a)) === 0 && (await pending(b)) === 0,
    );
    const onServer = await serverIds();
    expect([...onServer.keys()].sort()).toEqual(wanted);
    expect(onServer.get('b07')).toBe('b task 7');

    // Each change went out in exactly one push, every mutation id once, and the server applied each (no `duplicate`).
    const docsSent = log.sent.map((s) => s.split('#')[0]!);
    expect(docsSent.sort()).toEqual(wanted.map((id) => `tasks/${id}`));
    expect(new Set(log.sent.map((s) => s.split('#')[1])).size).toBe(40);
    expect(log.statuses.length).toBe(40);
    expect(log.statuses.filter((s) => s !== 'accepted')).toEqual([]);

    // Both tabs see all 40, and the follower's React list re-rendered from the leader's `changes` messages.
    await until(
      'both tabs to list 40',
      async () => (await localIds(a)).length === 40 && (await localIds(b)).length === 40,
    );
    await until('the follower tab to render 40 tasks', async () =>
      ((await b.getByTestId('count').textContent()) ?? '').startsWith('40 tasks'),
    );
    await until(
      'the follower tab to show no pending dot',
      async () => (await b.locator('li .dot').count()) === 0,
    );

    // A change made on the server (another device) reaches the follower through the leader's stream.
    await app.server.trpc.sync.push.mutate({
      clientId: 'other-device',
      changes: [
        {
          mutationId: 1,
          collection: 'tasks',
          id: 'x1',
          op: 'upsert',
          data: { title: 'from another device' },
          baseVersion: null,
        },
      ],
    });
    await until(
      'the follower tab to show the other device’s task',
      async () => (await b.locator('li[data-id="x1"]').count()) === 1,
    );

    // Only the leader streamed: the follower opened no WebSocket (the app's wsLink is lazy).
    expect(sockets.get(a)).toBeGreaterThan(0);
    expect(sockets.get(b)).toBe(0);

    // The leader closes: the other tab takes the lock, goes live, and its next write reaches the server.
    await a.close();
    await until('tab B to lead', () => isLeader(b));
    await b.evaluate(() =>
      window.__sync!.collection('tasks').put('after', { title: 'written after the hand-over' }),
    );
    await until(
      'the write after the hand-over to reach the server',
      async () => (await serverIds()).get('after') === 'written after the hand-over',
    );
    await until('tab B to have nothing pending', async () => (await pending(b)) === 0);
    expect(log.sent.filter((s) => s.startsWith('tasks/after#'))).toHaveLength(1);
    expect(log.statuses.filter((s) => s !== 'accepted')).toEqual([]);

    // And B is live: a server-side change shows up without a manual sync.
    await app.server.trpc.sync.push.mutate({
      clientId: 'other-device',
      changes: [
        {
          mutationId: 2,
          collection: 'tasks',
          id: 'x2',
          op: 'upsert',
          data: { title: 'after the hand-over' },
          baseVersion: null,
        },
      ],
    });
    await until(
      'tab B to receive it live',
      async () => (await b.locator('li[data-id="x2"]').count()) === 1,
    );
    expect(sockets.get(b)).toBeGreaterThan(0);
    await context.close();
  }, 90_000);

  it('a follower tab’s sync() runs in the leader tab and answers what it did', async () => {
    const context = await app.browser.newContext();
    const a = await tab(context);
    const b = await tab(context);
    expect(await isLeader(b)).toBe(false);
    await b.evaluate(async () => {
      await window.__sync!.stop(); // no live pushes in the way: the explicit sync() does the push
    });
    await a.evaluate(() => window.__sync!.stop());
    await b.evaluate(() =>
      window
        .__sync!.collection('tasks')
        .put('via-leader', { title: 'pushed by the leader on request' }),
    );
    const result = await b.evaluate(() => window.__sync!.sync());
    expect(result.pushed).toBe(1);
    expect((await serverIds()).get('via-leader')).toBe('pushed by the leader on request');
    expect(await pending(b)).toBe(0);
    await context.close();
  }, 60_000);
});
