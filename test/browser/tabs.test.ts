/** `createTabCoordinator` in Chromium: exactly one leader among the tabs of one origin (Web Locks), messages reach the other tabs, the lock moves when the leader closes. */
import { buildSync } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchChromium } from './harness.js';

const skip = browserSkipReason();
declare const window: {
  tabs: { leader: boolean; decided: Promise<boolean>; post(m: unknown): void };
  leaderCalls: number;
  followerCalls: number;
  messages: unknown[];
  /** Heartbeats heard on the fallback's channel, by tab id (ids sort by start: the last is this tab's). */
  alive: Record<string, number>;
  createTabCoordinator: any;
};

describe.skipIf(skip !== null)('tab coordinator in Chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  const ORIGIN = 'http://localhost:9/'; // a secure context (Web Locks need one), answered by page.route
  const NO_LOCKS = 'http://localhost:9/no-locks'; // the same page with navigator.locks hidden: the heartbeat fallback
  beforeAll(async () => {
    const bundle = buildSync({
      stdin: {
        contents:
          "import { createTabCoordinator } from './client/tabs.ts'; globalThis.createTabCoordinator = createTabCoordinator;",
        resolveDir: process.cwd(),
        loader: 'ts',
      },
      bundle: true,
      write: false,
      format: 'iife',
      logLevel: 'silent',
    }).outputFiles[0]!.text;
    browser = await launchChromium();
    context = await browser.newContext();
    await context.route(`${ORIGIN}**`, (route) => {
      const noLocks = route.request().url().startsWith(NO_LOCKS);
      return route.fulfill({
        contentType: 'text/html',
        body: `<script>${noLocks ? "Object.defineProperty(navigator, 'locks', { value: undefined });" : ''}${bundle}
window.leaderCalls = 0; window.followerCalls = 0; window.messages = []; window.alive = {};
new BroadcastChannel('trpc-offline-sync:tabs:fallback').onmessage = (e) => { if (e.data.type === 'alive') window.alive[e.data.id] = (window.alive[e.data.id] || 0) + 1; };
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
  /**
   * Heartbeat fallback: how many times the page's own tab has ticked (each tick posts `alive` and
   * checks whether the leader was silent for timeoutMs). Waiting for ticks waits for the election
   * to have looked, not for a guessed time.
   */
  const ticks = (p: Page) =>
    p.evaluate(() => window.alive[Object.keys(window.alive).sort().at(-1)!] ?? 0);
  /** Waits until `p`'s tab has ticked `n` more times (heartbeatMs 100, timeoutMs 500: 7 ticks span a timeout). */
  const afterTicks = async (p: Page, n: number) => {
    const from = await ticks(p);
    await expect.poll(() => ticks(p), { timeout: 10_000 }).toBeGreaterThanOrEqual(from + n);
  };

  it('elects one leader, carries messages, hands over when the leader closes', async () => {
    const a = await open();
    expect(await a.evaluate(() => typeof navigator.locks)).toBe('object');
    await expect.poll(() => isLeader(a)).toBe(true);
    const b = await open();
    const c = await open();
    // Both have asked for the lock and know another tab holds it.
    expect(await b.evaluate(() => window.tabs.decided)).toBe(false);
    expect(await c.evaluate(() => window.tabs.decided)).toBe(false);
    expect([await isLeader(a), await isLeader(b), await isLeader(c)]).toEqual([true, false, false]);

    await b.evaluate(() => window.tabs.post({ type: 'wrote' }));
    await expect.poll(() => a.evaluate(() => window.messages)).toEqual([{ type: 'wrote' }]);
    await a.evaluate(() => window.tabs.post({ type: 'changes', collection: 'tasks', ids: ['t1'] }));
    await expect
      .poll(() => c.evaluate(() => window.messages))
      .toEqual([{ type: 'wrote' }, { type: 'changes', collection: 'tasks', ids: ['t1'] }]);

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
    // c (the youngest) has checked for a silent leader over more than timeoutMs: the followers keep hearing the leader.
    await afterTicks(c, 7);
    expect([await isLeader(a), await isLeader(b), await isLeader(c)]).toEqual([true, false, false]);
    expect(await b.evaluate(() => window.leaderCalls)).toBe(0);
    await b.evaluate(() => window.tabs.post({ type: 'wrote' }));
    await expect.poll(() => a.evaluate(() => window.messages)).toEqual([{ type: 'wrote' }]);

    await a.close();
    // b is older than c: it leads once a has been silent for timeoutMs; c stays a follower.
    await expect.poll(() => isLeader(b), { timeout: 15_000 }).toBe(true);
    // c keeps hearing b over more than timeoutMs of its own checks and stays a follower.
    await afterTicks(c, 7);
    expect(await isLeader(c)).toBe(false);
    expect(await c.evaluate(() => window.leaderCalls)).toBe(0);
    await b.close();
    await c.close();
  });
});
