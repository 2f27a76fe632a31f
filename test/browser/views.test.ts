/**
 * Views in the web app, in real Chromium against the CLI server (demo rules `mine` and `all`):
 * two users of one tenant, each signed in with a token of their own (the `token` command, pasted
 * in the sign-in prompt), each showing "Mine"; user A assigns a task to B and it leaves A's list
 * and arrives in B's, live. A page where nobody picked a view shows every task (the default view),
 * as do plain requests without a view. Screenshots at desktop and phone size under `.tmp/screens/`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { openApp, PHONE, row } from './app-helpers.js';
import { browserSkipReason, until, useChromiumAndServer } from './harness.js';

const skip = browserSkipReason();

describe.skipIf(skip !== null)('views in the web app (Chromium)', () => {
  const app = useChromiumAndServer();

  /** A token for `sub` in the dev tenant, from the CLI's `token` command (the server's dev secret). */
  const tokenFor = (sub: string) =>
    execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'server/cli.ts',
        'token',
        '--sub',
        sub,
        '--tenant',
        'dev',
        '--data-dir',
        app.server.dataDir,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, SYNC_JWT_SECRET: '' },
      },
    ).trim();

  /** Signs the page in with `token` through the "Change token" prompt; waits until it is online as `sub`. */
  async function signIn(page: Page, sub: string): Promise<void> {
    await page.getByRole('button', { name: 'Change token' }).click();
    await page.getByLabel('token').fill(tokenFor(sub));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await until(
      `the page to be signed in as ${sub}`,
      async () =>
        (await page
          .getByTestId('me')
          .locator('strong')
          .textContent()
          .catch(() => null)) === sub,
      20_000,
    );
    await until(
      `${sub}'s page to be online`,
      async () => (await page.getByTestId('status').textContent()) === 'online',
      20_000,
    );
  }

  /** The titles the list shows, in order. */
  const titles = (page: Page) =>
    page
      .locator('[data-testid="tasks"] li')
      .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-title')));
  const listed = async (page: Page, title: string) => (await titles(page)).includes(title);

  async function pick(page: Page, view: 'all' | 'mine'): Promise<void> {
    await page.getByTestId(`view-${view}`).click();
    await until(`the ${view} view to be ready`, async () => {
      const list = page.getByTestId('tasks');
      return (
        (await list.getAttribute('data-view')) === view &&
        (await list.getAttribute('data-view-status')) === 'ready'
      );
    });
  }

  async function shot(page: Page, name: string): Promise<string> {
    mkdirSync('.tmp/screens', { recursive: true });
    const path = `.tmp/screens/${name}.png`;
    await page.screenshot({ path, fullPage: true });
    return path;
  }

  it('A assigns a task to B: it leaves A\'s "Mine" and arrives in B\'s, live; no view picked shows every task', async () => {
    // Written by an older client (no assignee, no view): every task is in the default view `all`.
    await app.server.trpc.sync.push.mutate({
      clientId: 'old-client',
      changes: [
        {
          mutationId: 1,
          collection: 'tasks',
          id: 'unassigned',
          op: 'upsert',
          data: { title: 'Water the plants' },
        },
      ],
    });

    const desktop = await app.browser.newContext({ viewport: { width: 1000, height: 720 } });
    const phone = await app.browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    const a = await openApp(desktop, `${app.server.url}/`);
    const b = await openApp(phone, `${app.server.url}/`);

    // Nobody picked a view yet: the list shows what the default request brings (every task).
    expect(await a.getByTestId('tasks').getAttribute('data-view')).toBe('');
    await until('the unassigned task to show with no view picked', () =>
      listed(a, 'Water the plants'),
    );
    expect(await a.getByTestId('view-all').getAttribute('aria-pressed')).toBe('true');

    await signIn(a, 'alice');
    await signIn(b, 'bob');
    await pick(a, 'mine');
    await pick(b, 'mine');
    expect(await listed(a, 'Water the plants')).toBe(false);

    // A adds a task: assigned to A, it shows in A's "Mine" (once the view delivers it), not in B's.
    await a.getByLabel('new task').fill('Ship the release');
    await a.getByRole('button', { name: 'Add' }).click();
    await until("the new task in A's Mine", () => listed(a, 'Ship the release'));
    const id = (await a.locator('li[data-title="Ship the release"]').getAttribute('data-id'))!;
    expect(await row(a, id).getAttribute('data-assignee')).toBe('alice');
    await until(
      'B to hold the task (default view) without listing it in Mine',
      async () =>
        (await b.evaluate(
          async (taskId) => (await window.__sync!.collection('tasks').get(taskId)) !== undefined,
          id,
        )) && !(await listed(b, 'Ship the release')),
    );
    await shot(a, 'views-desktop-a-mine-before');

    // A assigns it to B: it leaves A's Mine and arrives in B's, through their live streams.
    const assignee = row(a, id).getByLabel('assignee');
    await assignee.fill('bob');
    await assignee.press('Enter');
    await until(
      "the task to leave A's Mine",
      async () => !(await listed(a, 'Ship the release')),
      20_000,
    );
    await until("the task to arrive in B's Mine", () => listed(b, 'Ship the release'), 20_000);
    expect(await row(b, id).getAttribute('data-assignee')).toBe('bob');
    const server = await app.server.trpc.sync.full.query({});
    expect(server.docs.find((d) => d.id === id)?.data).toMatchObject({
      title: 'Ship the release',
      assignee: 'bob',
    });
    console.log(
      'screens:',
      await shot(a, 'views-desktop-a-mine-after'),
      await shot(b, 'views-phone-b-mine-after'),
    );

    // A's "All" still lists it (now B's) and the older client's task.
    await pick(a, 'all');
    await until(
      "A's All to list both tasks",
      async () => (await listed(a, 'Ship the release')) && (await listed(a, 'Water the plants')),
    );
    expect(await row(a, id).getAttribute('data-assignee')).toBe('bob');
    console.log('screens:', await shot(a, 'views-desktop-a-all'));

    // Back: B assigns it to A; it moves back, live.
    const back = row(b, id).getByLabel('assignee');
    await back.fill('alice');
    await back.press('Enter');
    await until(
      "the task to leave B's Mine",
      async () => !(await listed(b, 'Ship the release')),
      20_000,
    );
    await pick(a, 'mine');
    await until("the task to be back in A's Mine", () => listed(a, 'Ship the release'), 20_000);
    console.log('screens:', await shot(b, 'views-phone-b-mine-empty'));

    // A plain request without a view (older clients, the dev token) still sees every task.
    const plain = await app.server.trpc.sync.pull.query({});
    expect(new Set(plain.changes.filter((c) => c.op === 'upsert').map((c) => c.id))).toEqual(
      new Set(['unassigned', id]),
    );
    await desktop.close();
    await phone.close();
  }, 180_000);
});
