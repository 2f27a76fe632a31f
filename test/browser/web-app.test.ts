/** The task app at `/` in real Chromium: two devices converge after offline edits (fields merged), a reload offline keeps the outbox, a screenshot. */
import { mkdirSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserSkipReason, until, useChromiumAndServer } from './harness.js';

const skip = browserSkipReason();

type Task = { id: string; title: string; done: boolean; pending: boolean };

describe.skipIf(skip !== null)('web app in Chromium', () => {
  const app = useChromiumAndServer();

  async function device(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await app.browser.newContext({ viewport: { width: 640, height: 560 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${app.server.url}/`);
    await page.waitForFunction(() => window.__sync !== undefined);
    await until(
      'the app to be online',
      async () => (await page.getByTestId('status').textContent()) === 'online',
    );
    return { context, page };
  }

  const tasks = (page: Page): Promise<Task[]> =>
    page.evaluate(async () =>
      (await window.__sync!.collection('tasks').query(undefined, { orderBy: 'title' })).map(
        (r) => ({ id: r.id, title: r.doc.title, done: r.doc.done, pending: r.pending }),
      ),
    );
  const pending = (page: Page) => page.evaluate(() => window.__sync!.pending());
  const row = (page: Page, id: string) => page.locator(`li[data-id="${id}"]`);

  async function add(page: Page, title: string): Promise<string> {
    await page.getByLabel('new task').fill(title);
    await page.getByRole('button', { name: 'Add' }).click();
    const li = page.locator(`li[data-title="${title}"]`);
    await li.waitFor();
    return (await li.getAttribute('data-id'))!;
  }

  it('serves the page with the dev token and the bundle', async () => {
    const html = await (await fetch(`${app.server.url}/`)).text();
    expect(html).toContain(`window.__SYNC_TOKEN__ = "${app.server.token}"`);
    const js = await fetch(`${app.server.url}/app.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await js.text()).length).toBeGreaterThan(10_000);
  });

  it('two devices edit while one is offline, come back, converge with field edits merged; screenshot', async () => {
    const a = await device();
    const b = await device();
    const milk = await add(a.page, 'Buy milk');
    const bread = await add(a.page, 'Bake bread');
    await until('device B to see both tasks', async () => (await tasks(b.page)).length === 2);

    await b.context.setOffline(true);
    await until(
      'B to notice it is offline',
      async () => (await b.page.getByTestId('status').textContent()) === 'offline',
    );
    // Offline on B: toggle milk done (through the UI), add a task. Online on A: rename milk, delete bread.
    await row(b.page, milk).getByLabel('done').click();
    await expect.poll(() => row(b.page, milk).getByLabel('done').isChecked()).toBe(true);
    const eggs = await add(b.page, 'Eggs (added offline)');
    await expect.poll(() => pending(b.page)).toBe(2);
    const title = row(a.page, milk).getByLabel('title');
    await title.fill('Buy oat milk');
    await title.press('Enter');
    await row(a.page, bread).getByLabel('delete').click();
    await until('A to push', async () => (await pending(a.page)) === 0);

    await b.context.setOffline(false);
    const expected = [
      { id: milk, title: 'Buy oat milk', done: true, pending: false },
      { id: eggs, title: 'Eggs (added offline)', done: false, pending: false },
    ].sort((x, y) => x.title.localeCompare(y.title));
    await until(
      'both devices to converge',
      async () =>
        JSON.stringify(await tasks(a.page)) === JSON.stringify(expected) &&
        JSON.stringify(await tasks(b.page)) === JSON.stringify(expected),
      30_000,
    );
    const server_ = await app.server.trpc.sync.full.query({});
    expect(
      server_.docs
        .filter((d) => d.collection === 'tasks' && d.data !== null)
        .map((d) => [d.id, d.data])
        .sort(),
    ).toEqual(expected.map((t) => [t.id, { title: t.title, done: t.done }]).sort());
    // The UI shows it too.
    await until(
      'B to render the merged task',
      async () => (await row(b.page, milk).getByLabel('title').inputValue()) === 'Buy oat milk',
    );
    expect(await row(b.page, milk).getByLabel('done').isChecked()).toBe(true);
    await until(
      'the status bar to settle',
      async () =>
        (await b.page.getByTestId('pending').textContent()) === 'all changes saved' &&
        (await b.page.getByTestId('status').textContent()) === 'online',
    );

    mkdirSync('.tmp/screenshots', { recursive: true });
    await b.page.screenshot({ path: '.tmp/screenshots/app.png' });
    await a.context.close();
    await b.context.close();
  }, 90_000);

  it('edits made offline survive a reload (IndexedDB; reloaded with the sync endpoints unreachable) and are pushed later exactly once', async () => {
    const d = await device();
    const before = await app.server.trpc.sync.pull.query({});
    await d.context.setOffline(true);
    await until(
      'offline',
      async () => (await d.page.getByTestId('status').textContent()) === 'offline',
    );
    const ids = [
      await add(d.page, 'Offline one'),
      await add(d.page, 'Offline two'),
      await add(d.page, 'Offline three'),
    ];
    await row(d.page, ids[0]!).getByLabel('done').click();
    await expect.poll(() => row(d.page, ids[0]!).getByLabel('done').isChecked()).toBe(true);
    await expect.poll(() => pending(d.page)).toBe(4);
    // The reload happens with the sync endpoints unreachable (HTTP aborted, WebSocket closed) and the
    // page served by the server; a start with no network at all (service worker) is in pwa.test.ts.
    await d.context.route(/\/trpc/, (route) => route.abort());
    await d.context.routeWebSocket(/\/trpc/, (ws) => ws.close());
    await d.context.setOffline(false);
    await d.page.reload();
    await d.page.waitForFunction(() => window.__sync !== undefined);
    expect(await pending(d.page)).toBe(4);
    // A push is tried and fails (endpoints unreachable): the outbox keeps all four.
    await until(
      'a push to fail',
      async () =>
        (await d.page.evaluate(() => window.__sync!.diagnostics())).lastPush?.ok === false,
    );
    expect(await pending(d.page)).toBe(4);
    expect(
      (await tasks(d.page))
        .filter((t) => ids.includes(t.id))
        .map((t) => [t.title, t.done, t.pending]),
    ).toEqual([
      ['Offline one', true, true],
      ['Offline three', false, true],
      ['Offline two', false, true],
    ]);
    await d.context.unrouteAll();
    await d.context.setOffline(true); // an offline → online flip wakes the client at once
    await d.context.setOffline(false);
    await until('the outbox to drain', async () => (await pending(d.page)) === 0, 30_000);
    const after = await app.server.trpc.sync.pull.query({ since: before.checkpoint });
    const mine = after.changes.filter((c) => ids.includes(c.id));
    expect(mine.map((c) => c.id).sort()).toEqual([...ids].sort()); // each document once
    expect(mine.find((c) => c.id === ids[0])!.data).toEqual({ title: 'Offline one', done: true });
    await d.context.close();
  }, 90_000);
});
