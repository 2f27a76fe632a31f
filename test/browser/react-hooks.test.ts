/** trpc-offline-sync/react in real Chromium: useQuery/useDoc/usePending/useSyncStatus follow the store; a component whose rows did not change does not re-render. */
import { buildSync } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchChromium } from './harness.js';

const skip = browserSkipReason();

type T = { client: any; renders: Record<string, number> };
declare const window: { __t: T };

describe.skipIf(skip !== null)('React hooks in Chromium', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    const bundle = buildSync({
      entryPoints: ['test/browser/react-hooks.entry.tsx'],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      jsx: 'automatic',
      define: { 'process.env.NODE_ENV': '"development"' },
      logLevel: 'silent',
    }).outputFiles[0]!.text;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.setContent('<div id="root"></div>');
    await page.addScriptTag({ content: bundle });
    await page.waitForFunction(() => window.__t !== undefined);
  });
  afterAll(async () => browser?.close());

  const text = (sel: string) => page.locator(sel).innerText();
  const renders = () => page.evaluate(() => ({ ...window.__t.renders }));
  /**
   * Waits until the hooks have handled the last write: the change event issued their re-reads
   * synchronously, so a read of both collections issued now answers after theirs, and a task turn
   * after it lets React commit what they announced. No fixed time.
   */
  const settle = () =>
    page.evaluate(async () => {
      await window.__t.client.collection('tasks').query();
      await window.__t.client.collection('notes').query();
      for (let turn = 0; turn < 2; turn++) await new Promise((r) => setTimeout(r, 0));
    });

  it('follows writes and re-renders only the components whose rows changed', async () => {
    await page.evaluate(async () => {
      const tasks = window.__t.client.collection('tasks');
      await tasks.put('t1', { title: 'Buy milk' });
      await tasks.put('t2', { title: 'Bake bread' });
    });
    await expect.poll(() => text('#open')).toBe('Bake bread\nBuy milk');
    await expect.poll(() => text('#first')).toBe('Buy milk');
    await expect.poll(() => text('#pending')).toBe('2');
    expect(await text('#status')).toBe(await page.evaluate(() => window.__t.client.status()));
    await settle();
    const r0 = await renders();

    // Another collection changes: only Notes (and the pending count) re-render.
    await page.evaluate(() => window.__t.client.collection('notes').put('n1', { body: 'hello' }));
    await expect.poll(() => text('#notes')).toBe('hello');
    await expect.poll(() => text('#pending')).toBe('3');
    await settle();
    const r1 = await renders();
    expect(r1.openTasks).toBe(r0.openTasks);
    expect(r1.firstTask).toBe(r0.firstTask);
    expect(r1.notes).toBeGreaterThan(r0.notes!);

    // Same collection, rows outside the filter (done) and another document: OpenTasks and FirstTask stay put.
    await page.evaluate(() =>
      window.__t.client.collection('tasks').put('t3', { title: 'Done already', done: true }),
    );
    await expect.poll(() => text('#pending')).toBe('4');
    await settle();
    const r2 = await renders();
    expect(r2.openTasks).toBe(r1.openTasks);
    expect(r2.firstTask).toBe(r1.firstTask);
    expect(r2.notes).toBe(r1.notes);

    // A row in the answer changes: OpenTasks and FirstTask re-render, Notes does not.
    await page.evaluate(() =>
      window.__t.client.collection('tasks').patch('t1', { title: 'Buy oat milk' }),
    );
    await expect.poll(() => text('#open')).toBe('Bake bread\nBuy oat milk');
    await expect.poll(() => text('#first')).toBe('Buy oat milk');
    await settle();
    const r3 = await renders();
    expect(r3.openTasks).toBeGreaterThan(r2.openTasks!);
    expect(r3.firstTask).toBeGreaterThan(r2.firstTask!);
    expect(r3.notes).toBe(r2.notes);

    // Leaving the filter and deleting.
    await page.evaluate(async () => {
      await window.__t.client.collection('tasks').patch('t2', { done: true });
      await window.__t.client.collection('tasks').delete('t1');
    });
    await expect.poll(() => text('#open')).toBe('');
    await expect.poll(() => text('#first')).toBe('-');
  });
});
