/** Helpers for the web-app browser tests: open the app in a context, read its tasks and outbox, add a task through the UI, screenshots under `.tmp/screenshots/`. */
import { mkdirSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { until } from './harness.js';

export type Task = { id: string; title: string; done: boolean; pending: boolean };

/** Opens the app at `url` in `context`; waits for the client (and, unless `status` is null, for that status). */
export async function openApp(
  context: BrowserContext,
  url: string,
  status: string | null = 'online',
): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(url);
  await page.waitForFunction(() => window.__sync !== undefined);
  if (status)
    await until(
      `the app to be ${status}`,
      async () => (await page.getByTestId('status').textContent()) === status,
      20_000,
    );
  return page;
}

export const statusOf = (page: Page) => page.getByTestId('status').textContent();

export const tasksOf = (page: Page): Promise<Task[]> =>
  page.evaluate(async () =>
    (await window.__sync!.collection('tasks').query(undefined, { orderBy: 'title' })).map((r) => ({
      id: r.id,
      title: r.doc.title,
      done: r.doc.done,
      pending: r.pending,
    })),
  );

export const pendingOf = (page: Page) => page.evaluate(() => window.__sync!.pending());

export const row = (page: Page, id: string) => page.locator(`li[data-id="${id}"]`);

/** Adds a task through the form; answers its id once the row shows. */
export async function addTask(page: Page, title: string): Promise<string> {
  await page.getByLabel('new task').fill(title);
  await page.getByRole('button', { name: 'Add' }).click();
  const li = page.locator(`li[data-title="${title.replace(/"/g, '\\"')}"]`);
  await li.waitFor();
  return (await li.getAttribute('data-id'))!;
}

/** A full-page screenshot at `.tmp/screenshots/<name>.png`; answers the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync('.tmp/screenshots', { recursive: true });
  const path = `.tmp/screenshots/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Waits until the service worker controls the page (its shell is cached: a later start works offline). */
export async function offlineReady(page: Page): Promise<void> {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, {
    timeout: 20_000,
  });
}

/** The phone viewport of the tests. */
export const PHONE = { width: 375, height: 667 };
