/** Tokens and restarts in Chromium: tabs recover after a server restart (dev secret kept in the data folder); a refused token leads to the sign-in prompt, a bad pasted token can be replaced, and a good one works in every tab. */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addTask, openApp, pendingOf, screenshot, statusOf } from './app-helpers.js';
import { browserSkipReason, startServer, until, useChromiumAndServer } from './harness.js';

const skip = browserSkipReason();

describe.skipIf(skip !== null)('tokens and restarts in Chromium', () => {
  const app = useChromiumAndServer();

  async function restart(change?: () => void) {
    const { port, dataDir } = app.server;
    await app.server.stop({ keepData: true });
    change?.();
    app.server = await startServer({ port, dataDir });
  }

  const serverHas = async (title: string) =>
    (await app.server.trpc.sync.full.query({})).docs.some(
      (d) => (d.data as { title?: string } | null)?.title === title,
    );

  it('the dev secret is kept in the data folder (mode 0600): after a restart the same token works and both tabs recover', async () => {
    const secretFile = join(app.server.dataDir, 'dev-secret');
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    const secret = readFileSync(secretFile, 'utf8');
    const context = await app.browser.newContext({ viewport: { width: 800, height: 600 } });
    const a = await openApp(context, `${app.server.url}/`);
    const b = await openApp(context, `${app.server.url}/`);
    const token = app.server.token;

    const { port, dataDir } = app.server;
    await app.server.stop({ keepData: true });
    await until(
      'both tabs to say offline',
      async () => (await statusOf(a)) === 'offline' && (await statusOf(b)) === 'offline',
      20_000,
    );
    await addTask(b, 'Written while the server was down');
    app.server = await startServer({ port, dataDir });
    expect(readFileSync(secretFile, 'utf8')).toBe(secret);
    expect(app.server.output()).toMatch(/using the development secret in/);
    // The token the tabs hold still verifies (same secret): they recover by themselves.
    expect(token.split('.')[1]).toBeDefined();
    await until(
      'both tabs to recover',
      async () => (await statusOf(a)) === 'online' && (await statusOf(b)) === 'online',
      30_000,
    );
    await until(
      'the write to reach the server',
      async () =>
        (await pendingOf(b)) === 0 && (await serverHas('Written while the server was down')),
      30_000,
    );
    expect(await a.getByTestId('signin').count()).toBe(0);
    await context.close();
  }, 120_000);

  it('a refused token leads to the sign-in prompt in every tab; a bad pasted token is refused and can be changed; a good one (token command) works in every tab', async () => {
    const context = await app.browser.newContext({ viewport: { width: 800, height: 640 } });
    const a = await openApp(context, `${app.server.url}/`);
    const b = await openApp(context, `${app.server.url}/`);
    // A new dev secret: the tabs' token is refused from now on.
    await restart(() => rmSync(join(app.server.dataDir, 'dev-secret')));
    await addTask(a, 'Written while signed out');
    for (const page of [a, b]) await page.getByTestId('signin').waitFor({ timeout: 30_000 });
    expect(await a.getByTestId('signin').textContent()).toContain('Sign in again to sync');
    expect(await statusOf(a)).toBe('error');
    console.log('refused:', await screenshot(a, 'token-refused-prompt'));

    // A bad token: still refused, the prompt stays and takes another one.
    await a.getByLabel('token').fill('not-a-token');
    await a.getByRole('button', { name: 'Sign in' }).click();
    await until(
      'tab B to use the pasted token too',
      async () =>
        (await b.evaluate(() => localStorage.getItem('trpc-offline-sync:token'))) === 'not-a-token',
    );
    // The prompt again, now about the pasted token (its last characters), in both tabs.
    for (const page of [a, b])
      await page
        .locator('[data-testid="signin"][data-token-end="-a-token"]')
        .waitFor({ timeout: 30_000 });
    expect(await statusOf(a)).toBe('error');

    const good = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'server/cli.ts',
        'token',
        '--sub',
        'dev',
        '--tenant',
        'dev',
        '--expires',
        '1h',
        '--data-dir',
        app.server.dataDir,
      ],
      { encoding: 'utf8', env: { ...process.env, SYNC_JWT_SECRET: '' } },
    ).trim();
    await b.getByLabel('token').fill(good); // pasted in the other tab this time
    await b.getByRole('button', { name: 'Sign in' }).click();
    await until(
      'every tab to be online with the new token',
      async () => (await statusOf(a)) === 'online' && (await statusOf(b)) === 'online',
      30_000,
    );
    expect(await a.getByTestId('signin').count()).toBe(0);
    expect(await b.getByTestId('signin').count()).toBe(0);
    await until(
      'the write made while signed out to reach the server',
      async () => (await serverHas('Written while signed out')) && (await pendingOf(a)) === 0,
      30_000,
    );
    await addTask(a, 'Written after signing in');
    await until(
      'it to reach the server',
      async () => serverHas('Written after signing in'),
      30_000,
    );
    console.log('signed in:', await screenshot(b, 'token-signed-in'));
    await context.close();
  }, 150_000);
});
