/**
 * `serve --schema FILE` serves a collection browser for that schema at `/` (not the task app): add,
 * check, edit and delete documents in Chromium, synced with the server both ways; desktop and phone
 * screenshots.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { browserSkipReason, until, useChromiumAndServer } from './harness.js';
import { PHONE, screenshot } from './app-helpers.js';

const skip = browserSkipReason();
// Inside the checkout, so the schema resolves `zod` as an app's own file would.
mkdirSync('.tmp', { recursive: true });
const dir = mkdtempSync(join(resolve('.tmp'), 'collections-app-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const schemaFile = join(dir, 'schema.ts');
writeFileSync(
  schemaFile,
  [
    `import { z } from 'zod';`,
    `import { defineSyncSchema } from ${JSON.stringify(resolve('shared/schema.ts'))};`,
    `export default defineSyncSchema({`,
    `  inventory: z.object({ sku: z.string().min(1), count: z.number().int().min(0), active: z.boolean().default(true), tags: z.array(z.string()).optional() }),`,
    `  suppliers: z.object({ name: z.string(), email: z.string().optional() }),`,
    `});`,
  ].join('\n'),
);

describe.skipIf(skip !== null)('collection browser for an app schema', () => {
  const env = useChromiumAndServer({ args: ['--schema', schemaFile], startTimeoutMs: 110_000 });
  type Full = {
    docs: { collection: string; id: string; data: Record<string, unknown>; deleted?: boolean }[];
  };
  const serverDocs = async (collection: string): Promise<Record<string, unknown>[]> =>
    ((await env.server.trpc.sync.full.query({})) as unknown as Full).docs
      .filter((d) => d.collection === collection && !d.deleted)
      .map((d) => ({ id: d.id, ...d.data }));

  it("lists the schema's collections, writes what the schema allows and syncs both ways", async () => {
    // The server prints its web-app line just after "listening on" (which is when the harness
    // starts the tests): wait for it rather than read the output at once.
    await until('the web-app line of the server', () =>
      env.server.output().includes('collection browser for your schema'),
    );
    const context = await env.browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    await page.goto(env.server.url);
    await until(
      'the page to be online',
      async () => (await page.getByTestId('status').textContent()) === 'online',
    );
    expect(await page.title()).toBe('Collections · trpc-offline-sync');
    expect(
      await page
        .getByRole('navigation', { name: 'collections' })
        .getByRole('button')
        .allTextContents(),
    ).toEqual(['inventory', 'suppliers']);

    // Checked in the page first, with the schema's own rules.
    const form = page.getByTestId('new-form');
    await form.getByLabel('id').fill('a-1');
    await form.getByLabel('sku', { exact: true }).fill('A-1');
    await form.getByLabel('count', { exact: true }).fill('2.5');
    await form.getByRole('button', { name: 'Add' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toBe('count: a whole number');
    await form.getByLabel('count', { exact: true }).fill('-1');
    await form.getByRole('button', { name: 'Add' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/^count: /);
    await form.getByLabel('count', { exact: true }).fill('3');
    await form.getByLabel('tags', { exact: true }).fill('["new","promo"]');
    await form.getByRole('button', { name: 'Add' }).click();
    await until(
      'the write to reach the server',
      async () => (await serverDocs('inventory')).length === 1,
    );
    expect(await serverDocs('inventory')).toEqual([
      { id: 'a-1', sku: 'A-1', count: 3, active: true, tags: ['new', 'promo'] },
    ]);

    // A change from another device arrives live.
    await env.server.trpc.sync.push.mutate({
      clientId: 'other-device',
      changes: [
        {
          mutationId: 1,
          collection: 'inventory' as never,
          id: 'b-2',
          op: 'upsert',
          data: { sku: 'B-2', count: 7 } as never,
        },
      ],
    });
    await until(
      "the other device's document to show",
      async () => (await page.locator('li[data-id="b-2"]').count()) === 1,
    );

    // Edited and deleted from the page.
    await page.locator('li[data-id="a-1"]').getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByTestId('edit-form');
    await edit.getByLabel('count', { exact: true }).fill('5');
    await edit.getByLabel('active').uncheck();
    await edit.getByRole('button', { name: 'Save' }).click();
    await until(
      'the edit to reach the server',
      async () => (await serverDocs('inventory')).find((d) => d.id === 'a-1')?.count === 5,
    );
    expect((await serverDocs('inventory')).find((d) => d.id === 'a-1')).toEqual({
      id: 'a-1',
      sku: 'A-1',
      count: 5,
      active: false,
      tags: ['new', 'promo'],
    });
    await page.getByRole('button', { name: 'delete b-2' }).click();
    await until(
      'the delete to reach the server',
      async () => (await serverDocs('inventory')).length === 1,
    );
    await until(
      'everything saved',
      async () => (await page.getByTestId('pending').textContent()) === 'all changes saved',
    );
    console.log('desktop:', await screenshot(page, 'collections-desktop'));

    await page.getByRole('button', { name: 'suppliers' }).click();
    await page.getByTestId('new-form').getByLabel('name', { exact: true }).fill('Acme Wholesale');
    await page.getByTestId('new-form').getByRole('button', { name: 'Add' }).click();
    await until(
      'the supplier to reach the server',
      async () => (await serverDocs('suppliers')).length === 1,
    );
    await context.close();
  });

  it('fits a phone screen', async () => {
    const context = await env.browser.newContext({
      viewport: PHONE,
      isMobile: true,
      hasTouch: true,
    });
    const page = await context.newPage();
    await page.goto(env.server.url);
    await until(
      'the page to be online',
      async () => (await page.getByTestId('status').textContent()) === 'online',
    );
    await until(
      'the synced document to show',
      async () => (await page.locator('li[data-id="a-1"]').count()) === 1,
    );
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    console.log('phone:', await screenshot(page, 'collections-phone'));
    await context.close();
  });
});
