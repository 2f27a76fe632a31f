/** `trpc-offline-sync verify`: a document changed in the embedded database behind the engine is reported (exit 2) and `--reset` re-bases the sum. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { demoSchema } from '../../server/demo/schema.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import { pgliteStore } from '../../server/stores/postgres/index.js';

const run = promisify(execFile);
const cli = async (args: string[]) => {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], {
      env: { ...process.env, SYNC_LOG: 'silent' },
    });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
};

describe('trpc-offline-sync verify', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sync-verify-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds a row changed behind the engine, resets it with --reset, then agrees', async () => {
    const store = await pgliteStore(dir);
    await store.init();
    const engine = createSyncEngine({
      store,
      schema: demoSchema,
      retention: { pruneIntervalMs: 0 },
    });
    await engine.write('acme', [
      { collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'one' } },
      { collection: 'tasks', id: 't2', op: 'upsert', data: { title: 'two' } },
      { collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'x' } },
    ]);
    await store.raw.query(
      `UPDATE sync_docs SET data = jsonb_set(data, '{title}', '"changed by hand"') WHERE scope = 'acme' AND id = 't2'`,
    );
    await engine.close();
    await store.close();

    const found = await cli(['verify', '--scope', 'acme', '--data-dir', dir]);
    expect(found.code, found.stdout).toBe(2);
    expect(found.stdout).toMatch(/^ok +notes: .*\(1 live documents\)$/m);
    expect(found.stdout).toMatch(
      /^MISMATCH tasks: kept [0-9a-f]{16}, recomputed [0-9a-f]{16} \(2 live documents\)$/m,
    );
    expect(found.stdout).toContain('1 collection(s) drifted');

    const reset = await cli(['verify', '--scope', 'acme', '--reset', '--data-dir', dir]);
    expect(reset.code, reset.stdout).toBe(0);
    expect(reset.stdout).toContain('kept checksums reset');
    const again = await cli(['verify', '--scope', 'acme', '--data-dir', dir]);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toContain('all checksums agree');
    expect((await cli(['verify', '--data-dir', dir])).stdout).toContain('--scope is required');
  });
});
