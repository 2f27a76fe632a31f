/** The web app as a PWA in Chromium: the shell's headers, a cold start with no network after one visit (local data, a write that syncs once the server is back), the update flow, a phone-sized screenshot. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  addTask,
  offlineReady,
  openApp,
  pendingOf,
  PHONE,
  screenshot,
  statusOf,
  tasksOf,
} from './app-helpers.js';
import { browserSkipReason, startServer, until, useChromiumAndServer } from './harness.js';

const skip = browserSkipReason();

describe.skipIf(skip !== null)('web app as a PWA in Chromium', () => {
  const app = useChromiumAndServer();

  /** Stops the server and starts it again on the same port and data (same origin for the browser). */
  async function restart(change?: () => void) {
    const { port, dataDir } = app.server;
    await app.server.stop({ keepData: true });
    change?.();
    app.server = await startServer({ port, dataDir });
  }

  it('serves the shell: the worker with its headers and version, the manifest and icons, the bundle gzipped', async () => {
    const sw = await fetch(`${app.server.url}/sw.js`);
    expect(sw.status).toBe(200);
    expect(sw.headers.get('service-worker-allowed')).toBe('/');
    expect(sw.headers.get('cache-control')).toBe('no-cache');
    const swText = await sw.text();
    expect(swText).toContain(sw.headers.get('x-shell-version')!);
    expect(swText).not.toContain('__SHELL_VERSION__');
    console.log(`service worker: ${swText.length} bytes minified`);
    const manifest = (await (await fetch(`${app.server.url}/manifest.webmanifest`)).json()) as {
      icons: { src: string; sizes: string }[];
      display: string;
      start_url: string;
    };
    expect(manifest.display).toBe('standalone');
    expect(manifest.icons.map((i) => i.sizes)).toEqual(
      expect.arrayContaining(['192x192', '512x512']),
    );
    for (const icon of manifest.icons) {
      const res = await fetch(`${app.server.url}${icon.src}`);
      expect(res.status).toBe(200);
      if (icon.src.endsWith('.png'))
        expect(
          Buffer.from(await res.arrayBuffer())
            .subarray(1, 4)
            .toString(),
        ).toBe('PNG');
    }
    const js = await fetch(`${app.server.url}/app.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(js.headers.get('content-encoding')).toBe('gzip'); // fetch decodes it
    expect((await js.text()).length).toBeGreaterThan(10_000);
  });

  it('after one visit, a cold start with no network (server stopped, context offline) shows local data and takes a write that syncs when the server is back; desktop and phone screenshots', async () => {
    const context = await app.browser.newContext({ viewport: { width: 900, height: 700 } });
    const first = await openApp(context, `${app.server.url}/`);
    await addTask(first, 'Replace filter');
    await addTask(
      first,
      'Check the pressure gauge on pump 3 in the basement, then write the reading in the log book next to the door',
    );
    await until('the first visit to push', async () => (await pendingOf(first)) === 0);
    await offlineReady(first);
    await first.close();

    await app.server.stop({ keepData: true });
    await context.setOffline(true);
    const page = await openApp(context, `${app.server.url}/`, 'offline');
    expect((await tasksOf(page)).map((t) => t.title)).toContain('Replace filter');
    await page.locator('li[data-title="Replace filter"]').waitFor(); // rendered from IndexedDB
    const id = await addTask(page, 'Written with no network');
    await until('the write to wait in the outbox', async () => (await pendingOf(page)) === 1);
    expect(await page.getByTestId('pending').textContent()).toBe('1 pending');
    expect(await statusOf(page)).toBe('offline');
    console.log('cold start:', await screenshot(page, 'pwa-cold-start-offline'));

    await restart();
    await context.setOffline(false);
    await until(
      'the offline write to reach the server',
      async () => (await pendingOf(page)) === 0,
      30_000,
    );
    const full = await app.server.trpc.sync.full.query({});
    expect(full.docs.find((d) => d.id === id)?.data).toEqual({
      title: 'Written with no network',
      done: false,
    });
    await until('the status to be online', async () => (await statusOf(page)) === 'online', 20_000);

    const phone = await app.browser.newContext({
      viewport: PHONE,
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    const phonePage = await openApp(phone, `${app.server.url}/`);
    await until(
      'the phone to show the three tasks',
      async () => (await phonePage.locator('li').count()) === 3,
    );
    // Long titles wrap, nothing is clipped or scrolls sideways.
    expect(
      await phonePage.evaluate(() => document.documentElement.scrollWidth),
    ).toBeLessThanOrEqual(PHONE.width);
    for (const box of await phonePage
      .locator('li .delete')
      .evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect))) {
      expect(box.right).toBeLessThanOrEqual(PHONE.width);
    }
    const longRow = phonePage.locator('li[data-title^="Check the pressure"] .title');
    expect((await longRow.boundingBox())!.height).toBeGreaterThan(40); // several lines
    console.log('phone:', await screenshot(phonePage, 'pwa-phone'));
    await phone.close();
    await context.close();
  }, 120_000);

  it('a new build deployed: the waiting worker makes the app say "update available", Reload switches to it', async () => {
    const context = await app.browser.newContext({ viewport: { width: 900, height: 600 } });
    const page = await openApp(context, `${app.server.url}/`);
    await offlineReady(page);
    const before = await page.evaluate(() => window.__SYNC_TOKEN__);
    // A new dev secret changes the page the server serves (its token), so the shell's version.
    await restart(() => rmSync(join(app.server.dataDir, 'dev-secret')));
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update()));
    await page.getByTestId('update').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('update').textContent()).toContain(
      'A new version of the app is available',
    );
    console.log('update:', await screenshot(page, 'pwa-update-available'));
    await Promise.all([
      page.waitForEvent('load'),
      page.getByRole('button', { name: 'Reload' }).click(),
    ]);
    await page.waitForFunction(
      (old) => window.__SYNC_TOKEN__ !== undefined && window.__SYNC_TOKEN__ !== old,
      before,
    );
    await until(
      'the updated app to be online with the new token',
      async () => (await statusOf(page)) === 'online',
      20_000,
    );
    expect(await page.getByTestId('update').count()).toBe(0);
    await context.close();
  }, 120_000);
});
