/**
 * `serve --schema FILE` takes the module's read rules too: its `rules` and `defaultViews` exports
 * (loadRules); a module without them serves every collection whole; a `rules` export that is not
 * an object is refused with a line naming it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError } from '../../server/cli/config.js';
import { loadRules, loadSchema } from '../../server/cli/schema-file.js';

const dir = mkdtempSync(join(tmpdir(), 'sync-schema-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--schema with read rules', () => {
  it('loads the schema, its rules and its default views from one module', async () => {
    const file = 'test/torture/schema.ts';
    expect((await loadSchema(file)).names).toEqual(['jobs', 'notes', 'tasks']);
    const { rules, defaultViews } = await loadRules(file);
    expect(Object.keys(rules ?? {}).sort()).toEqual(['mine', 'team']);
    expect(defaultViews).toEqual([]);
  });

  it('no --schema, or a module without rules: no rules', async () => {
    expect(await loadRules(null)).toEqual({});
    const file = join(dir, 'plain.mjs');
    writeFileSync(file, 'export const answer = 42;\n');
    expect(await loadRules(file)).toEqual({});
  });

  it('a rules export that is not an object is refused, naming it', async () => {
    const file = join(dir, 'bad.mjs');
    writeFileSync(file, 'export const rules = ["mine"];\n');
    const error = await loadRules(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toMatch(
      /bad\.mjs exports `rules` that is not a defineSyncRules\(\) object/,
    );
  });
});
