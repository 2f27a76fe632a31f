/** A write the server refuses, in words, in Chromium: the server's schema is stricter than the app's; the refusal names the task and why, the other writes sync, Edit and retry, or Discard. */
import { describe, expect, it } from 'vitest';
import { addTask, openApp, pendingOf, screenshot } from './app-helpers.js';
import { browserSkipReason, until, useChromiumAndServer } from './harness.js';

const skip = browserSkipReason();

describe.skipIf(skip !== null)('refused writes in words in Chromium', () => {
  const app = useChromiumAndServer({ args: ['--schema', 'test/browser/strict-schema.ts'] });
  const serverTitles = async () =>
    (await app.server.trpc.sync.full.query({})).docs
      .filter((d) => d.data !== null)
      .map((d) => (d.data as { title: string }).title);

  it('a refused write becomes a notice naming the task and why, the writes behind it sync; Edit sends a fixed one, Discard drops another', async () => {
    const context = await app.browser.newContext({ viewport: { width: 800, height: 600 } });
    const page = await openApp(context, `${app.server.url}/`);
    const long = 'Inspect every fire extinguisher on all four floors';
    await addTask(page, long);
    await addTask(page, 'Buy fuses');
    const notice = page.getByTestId('notice').first();
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.locator('p').textContent()).toMatch(
      new RegExp(
        `^Your change to '${long}' was not saved: the server found it invalid \\(.*30 characters.*\\)\\.$`,
      ),
    );
    await until(
      'the next write to reach the server',
      async () => (await serverTitles()).includes('Buy fuses') && (await pendingOf(page)) === 0,
      30_000,
    );
    expect(await serverTitles()).not.toContain(long);
    console.log('refused:', await screenshot(page, 'refused-notice'));
    // Edit: the refused title, shortened, sent again as a new write.
    await notice.getByRole('button', { name: 'Edit' }).click();
    await notice.getByLabel('edit refused title').fill('Inspect the extinguishers');
    await notice.getByRole('button', { name: 'Save and retry' }).click();
    await until(
      'the edited write to reach the server',
      async () => (await serverTitles()).includes('Inspect the extinguishers'),
      30_000,
    );
    await until('its notice to go', async () => (await page.getByTestId('notice').count()) === 0);
    await page.locator('li[data-title="Inspect the extinguishers"]').waitFor();

    // Discard: another refused write, dropped.
    const longer = 'Replace every light bulb in the staircase';
    await addTask(page, longer);
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.locator('p').textContent()).toContain(`'${longer}' was not saved`);
    await notice.getByRole('button', { name: 'Discard' }).click();
    await until('the notice to go', async () => (await page.getByTestId('notice').count()) === 0);
    expect(await page.evaluate(() => window.__sync!.deadLetters().then((d) => d.length))).toBe(0);
    await context.close();
  }, 90_000);
});
