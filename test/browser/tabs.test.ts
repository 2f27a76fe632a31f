/** `createTabCoordinator` in Chromium: exactly one leader among the tabs of one origin (Web Locks), messages reach the other tabs, the lock moves when the leader closes. */
import { buildSync } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchChromium } from './harness.js';

const skip = browserSkipReason();
declare const window: { tabs: { leader: boolean; decided: Promise<boolean>; post(m: unknown): void }; leaderCalls: number; followerCalls: number; messages: unknown[]; createTabCoordinator: any };

describe.skipIf(skip !== null)('tab coordinator in Chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  const ORIGIN = 'http://localhost:9/'; // a secure context (Web Locks need one), answered by page.route
  const NO_LOCKS = 'http://localhost:9/no-locks'; // the same page with navigator.locks hidden: the heartbeat fallback
  beforeAll(async () => {
    const bundle = buildSync({ stdin: { contents: "import { createTabCoordinator } from './client/tabs.ts'; globalThis.createTabCoordinator = createTabCoordinator;", resolveDir: process.cwd(), loader: 'ts' }, bundle: true, write: false, format: 'iife', logLevel: 'silent' }).outputFiles[0]!.text;
    browser = await launchChromium();
    context = await browser.newContext();
    await context.route(`${ORIGIN}**`, (route) => {
      const noLocks = route.request().url().startsWith(NO_LOCKS);
      return route.fulfill({
        contentType: 'text/html',
        body: `<script>${noLocks ? "Object.defineProperty(navigator, 'locks', { value: undefined });" : ''}${bundle}
window.leaderCalls = 0; window.followerCalls = 0; window.messages = [];
window.tabs = createTabCoordinator({ name: ${noLocks ? "'fallback', heartbeatMs: 100, timeoutMs: 500" : "'app'"}, onLeader: () => window.leaderCalls++, onFollower: () => window.followerCalls++, onMessage: (m) => window.messages.push(m) });</script>`,
      });
    });
  });
  afterAll(async () => browser?.close());

  const open = async (url = ORIGIN): Promise<Page> => {
    const page = await context.newPage();
    await page.goto(url);
    return page;
  };
  const isLeader = (p: Page) => p.evaluate(() => window.tabs.leader);

  it('elects one leader, carries messages, hands over when the leader closes', async () => {
    const a = await open();
    expect(await a.evaluate(() => typeof navigator.locks)).toBe('object');
    await expect.poll(() => isLeader(a)).toBe(true);
    const b = await open();
    const c = await open();
    await new Promise((r) => setTimeout(r, 300));
    expect([await isLeader(a), await isLeader(b), await isLeader(c)]).toEqual([true, false, false]);

    await b.evaluate(() => window.tabs.post({ type: 'wrote' }));
    await expect.poll(() => a.evaluate(() => window.messages)).toEqual([{ type: 'wrote' }]);
    await a.evaluate(() => window.tabs.post({ type: 'changes', collection: 'tasks', ids: ['t1'] }));
    await expect.poll(() => c.evaluate(() => window.messages)).toEqual([{ type: 'wrote' }, { type: 'changes', collection: 'tasks', ids: ['t1'] }]);

    await a.close();
    await expect.poll(async () => Number(await isLeader(b)) + Number(await isLeader(c))).toBe(1);
    const next = (await isLeader(b)) ? c : b;
    const leader = next === b ? c : b;
    expect(await leader.evaluate(() => window.leaderCalls)).toBe(1);
    await leader.close();
    await expect.poll(() => isLeader(next)).toBe(true);
  });

  it('without Web Locks: the oldest tab leads by heartbeat, the others follow, a silent leader is replaced', async () => {
    const a = await open(NO_LOCKS);
    expect(await a.evaluate(() => typeof navigator.locks)).toBe('undefined');
    expect(await a.evaluate(() => window.tabs.decided)).toBe(true); // alone: leads once timeoutMs passed with no older tab
    const b = await open(NO_LOCKS);
    const c = await open(NO_LOCKS);
    expect(await b.evaluate(() => window.tabs.decided)).toBe(false);
    expect(await c.evaluate(() => window.tabs.decided)).toBe(false);
    await new Promise((r) => setTimeout(r, 800)); // longer than timeoutMs: the followers keep hearing the leader
    expect([await isLeader(a), await isLeader(b), await isLeader(c)]).toEqual([true, false, false]);
    await b.evaluate(() => window.tabs.post({ type: 'wrote' }));
    await expect.poll(() => a.evaluate(() => window.messages)).toEqual([{ type: 'wrote' }]);

    await a.close();
    // b is older than c: it leads once a has been silent for timeoutMs; c stays a follower.
    await expect.poll(() => isLeader(b), { timeout: 5_000 }).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(await isLeader(c)).toBe(false);
    expect(await c.evaluate(() => window.leaderCalls)).toBe(0);
    await b.close();
    await c.close();
  });
});
