/** Words for people in Chromium: the inspector shows the outbox, delete with undo (an undone delete never reaches the server), a conflict notice that names the task and says what was kept; desktop and phone screenshots. */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { addTask, openApp, pendingOf, PHONE, row, screenshot, statusOf } from './app-helpers.js';
import { browserSkipReason, until, useChromiumAndServer } from './harness.js';

const skip = browserSkipReason();

describe.skipIf(skip !== null)('inspector, undo and notices in Chromium', () => {
  const app = useChromiumAndServer();

  const serverDoc = async (id: string) =>
    (await app.server.trpc.sync.full.query({})).docs.find(
      (d) => d.collection === 'tasks' && d.id === id,
    );
  /** The server holds no live copy: a tombstone, or (tasks are served through the default view `all`, whose full export leaves tombstones out) no entry. */
  const deletedOnServer = async (id: string) => ((await serverDoc(id))?.data ?? null) === null;

  it('the inspector (/#inspector) shows the outbox, the status with its reason and the last push; desktop and phone', async () => {
    const context = await app.browser.newContext({ viewport: { width: 900, height: 900 } });
    const page = await openApp(context, `${app.server.url}/`);
    await context.setOffline(true);
    await until('offline', async () => (await statusOf(page)) === 'offline');
    await addTask(page, 'Order new gaskets');
    await addTask(page, 'Call the landlord');
    await page.getByTestId('inspector-toggle').click();
    await page.getByTestId('inspector').waitFor();
    await until('the inspector to show two pending writes', async () =>
      /^2 pending, oldest \d+ (ms|s) old$/.test(
        (await page.getByTestId('inspector-outbox').textContent()) ?? '',
      ),
    );
    expect(await page.getByTestId('inspector-status').textContent()).toMatch(
      /^offline — PLATFORM_OFFLINE: /,
    );
    expect(page.url()).toMatch(/#inspector$/);
    console.log('inspector:', await screenshot(page, 'inspector-outbox'));

    await context.setOffline(false);
    await until(
      'the inspector to show the outbox drained',
      async () => (await page.getByTestId('inspector-outbox').textContent()) === '0 pending',
      30_000,
    );
    await until(
      'online',
      async () => (await page.getByTestId('inspector-status').textContent()) === 'online',
    );

    const phone = await app.browser.newContext({
      viewport: PHONE,
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    const small = await openApp(phone, `${app.server.url}/#inspector`);
    await small.getByTestId('inspector').waitFor();
    await until(
      'the phone inspector to read diagnostics',
      async () => (await small.getByTestId('inspector-outbox').textContent()) === '0 pending',
    );
    expect(await small.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      PHONE.width,
    );
    console.log('inspector phone:', await screenshot(small, 'inspector-phone'));
    await phone.close();
    await context.close();
  }, 90_000);

  it('delete with undo: the row goes at once, Undo brings it back and nothing is deleted on the server; left alone, the delete is written', async () => {
    const phone = await app.browser.newContext({
      viewport: PHONE,
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    const page = await openApp(phone, `${app.server.url}/`);
    const id = await addTask(
      page,
      'Replace the filter in the air handling unit on the third floor (north wing)',
    );
    await until(
      'it to reach the server',
      async () => (await pendingOf(page)) === 0 && (await serverDoc(id))?.data != null,
    );
    await row(page, id).getByLabel('delete').click();
    await page.getByTestId('undo-toast').waitFor();
    expect(await row(page, id).count()).toBe(0);
    expect(await page.getByTestId('undo-toast').textContent()).toContain(
      "Deleted 'Replace the filter",
    );
    const toast = (await page.getByTestId('undo-toast').boundingBox())!;
    expect(toast.x).toBeGreaterThanOrEqual(0);
    expect(toast.x + toast.width).toBeLessThanOrEqual(PHONE.width);
    console.log('undo toast:', await screenshot(page, 'undo-toast-phone'));
    await page.getByRole('button', { name: 'Undo' }).click();
    await row(page, id).waitFor();
    await page.getByTestId('undo-toast').waitFor({ state: 'detached' });
    expect(await pendingOf(page)).toBe(0); // nothing was written
    expect((await serverDoc(id))?.data).not.toBeNull();

    await row(page, id).getByLabel('delete').click();
    await page.getByTestId('undo-toast').waitFor();
    await page.getByTestId('undo-toast').waitFor({ state: 'detached', timeout: 15_000 }); // the undo window ends
    await until('the delete to reach the server', () => deletedOnServer(id), 30_000);
    await phone.close();
  }, 90_000);

  async function conflictOn(b: Page, a: Page) {
    const id = await addTask(a, 'Replace filter');
    await until('device B to see it', async () => (await row(b, id).count()) === 1, 20_000);
    await b.context().setOffline(true);
    await until('B offline', async () => (await statusOf(b)) === 'offline');
    await row(b, id).getByLabel('done').click(); // the technician ticks it offline
    await until('the tick to wait in the outbox', async () => (await pendingOf(b)) === 1);
    await a.evaluate((x) => window.__sync!.collection('tasks').delete(x), id); // a supervisor deletes it
    await until('the delete to reach the server', () => deletedOnServer(id));
    await b.context().setOffline(false);
    return id;
  }

  it('a conflict notice in words: "Your tick on \'Replace filter\' was not kept: the task was deleted on another device", and Restore it', async () => {
    const devA = await app.browser.newContext({ viewport: { width: 800, height: 600 } });
    const devB = await app.browser.newContext({ viewport: { width: 800, height: 600 } });
    const a = await openApp(devA, `${app.server.url}/`);
    const b = await openApp(devB, `${app.server.url}/`);
    const id = await conflictOn(b, a);
    const notice = b.getByTestId('notice').first();
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.locator('p').textContent()).toBe(
      "Your tick on 'Replace filter' was not kept: the task was deleted on another device.",
    );
    await until('the task to be gone on B', async () => (await row(b, id).count()) === 0);
    console.log('conflict:', await screenshot(b, 'conflict-notice'));
    await notice.getByRole('button', { name: 'Restore it' }).click();
    await b.locator('li[data-title="Replace filter"]').waitFor();
    await until(
      'the restored task to reach device A, ticked',
      async () =>
        (await a
          .locator('li[data-title="Replace filter"] input[type=checkbox]:checked')
          .count()) === 1,
      30_000,
    );
    expect(await b.getByTestId('notice').count()).toBe(0);
    await devA.close();
    await devB.close();
  }, 120_000);
  it('a rename that lost to a newer one says what was kept, and Keep mine makes it the newest on every device', async () => {
    const devA = await app.browser.newContext({ viewport: { width: 800, height: 600 } });
    const devB = await app.browser.newContext({ viewport: { width: 800, height: 600 } });
    const a = await openApp(devA, `${app.server.url}/`);
    const b = await openApp(devB, `${app.server.url}/`);
    const id = await addTask(a, 'Fix the door');
    await until('device B to see it', async () => (await row(b, id).count()) === 1, 20_000);
    await devB.setOffline(true);
    await until('B offline', async () => (await statusOf(b)) === 'offline');
    const mine = row(b, id).getByLabel('title');
    await mine.fill('Fix the back door');
    await mine.press('Enter');
    await until('the rename to wait in the outbox', async () => (await pendingOf(b)) === 1);
    const theirs = row(a, id).getByLabel('title'); // renamed later on A: the newer change
    await theirs.fill('Fix the front door');
    await theirs.press('Enter');
    await until(
      'A to push',
      async () =>
        (await pendingOf(a)) === 0 &&
        ((await serverDoc(id))?.data as { title?: string } | null)?.title === 'Fix the front door',
    );
    await devB.setOffline(false);
    const notice = b.getByTestId('notice').first();
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.locator('p').textContent()).toBe(
      "Your new title 'Fix the back door' was replaced by a newer change from another device: it is now 'Fix the front door' (open).",
    );
    console.log('rename conflict:', await screenshot(b, 'conflict-keep-mine'));
    await notice.getByRole('button', { name: 'Keep mine' }).click();
    await until(
      'both devices to show mine',
      async () =>
        (await row(a, id).getAttribute('data-title')) === 'Fix the back door' &&
        (await row(b, id).getAttribute('data-title')) === 'Fix the back door',
      30_000,
    );
    expect(await b.getByTestId('notice').count()).toBe(0);
    await devA.close();
    await devB.close();
  }, 120_000);
});
