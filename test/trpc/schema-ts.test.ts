/**
 * `--schema src/schema.ts` with the CLI as published (plain JavaScript, no loader): loaded through
 * tsx when installed, else one line naming what to install.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevToken } from '../../server/auth/jwt.js';
import { listeningPort, type CliRun } from '../cli-process.js';

const SECRET = 'schema-ts-secret-schema-ts-secret-schema';
const repo = resolve('.');
const dir = mkdtempSync(join(tmpdir(), 'sync-schema-ts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * An app folder holding the CLI bundled to JavaScript and a TypeScript schema; `withTsx` decides
 * whether tsx is installed there.
 */
async function app(name: string, withTsx: boolean): Promise<string> {
  const root = join(dir, name);
  mkdirSync(join(root, 'node_modules'), { recursive: true });
  for (const entry of readdirSync(join(repo, 'node_modules'))) {
    if (entry === 'tsx' || entry === '.bin' || entry.startsWith('.')) continue;
    symlinkSync(join(repo, 'node_modules', entry), join(root, 'node_modules', entry));
  }
  if (withTsx) symlinkSync(join(repo, 'node_modules', 'tsx'), join(root, 'node_modules', 'tsx'));
  await build({
    entryPoints: [join(repo, 'server/cli.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile: join(root, 'cli.mjs'),
    logLevel: 'silent',
  });
  mkdirSync(join(root, 'src'));
  // TypeScript only: a type annotation, an interface and `satisfies` (what Node 20 cannot load by
  // itself).
  writeFileSync(
    join(root, 'src', 'schema.ts'),
    [
      `import { z } from 'zod';`,
      `import { defineSyncSchema } from ${JSON.stringify(join(repo, 'shared', 'schema.ts'))};`,
      `interface Item { sku: string; count: number }`,
      `const item = z.object({ sku: z.string(), count: z.number().int() }) satisfies z.ZodType<Item>;`,
      `const version: number = 1;`,
      `export const schema = defineSyncSchema({ inventory: item }, { version });`,
    ].join('\n'),
  );
  return root;
}

function serve(root: string): CliRun {
  const child = spawn(process.execPath, ['cli.mjs', 'serve', '--schema', 'src/schema.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: '0',
      SYNC_DATA_DIR: join(root, 'data'),
      SYNC_JWT_SECRET: SECRET,
      SYNC_LOG: 'silent',
      NODE_OPTIONS: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out, exited: new Promise((r) => child.on('exit', r)) };
}

let withTsx: string;
let withoutTsx: string;
beforeAll(async () => {
  [withTsx, withoutTsx] = await Promise.all([app('with-tsx', true), app('without-tsx', false)]);
});

describe('--schema FILE.ts', () => {
  it('is loaded through tsx and served: its collection takes writes, the demo ones do not exist', async () => {
    const run = serve(withTsx);
    try {
      const port = await listeningPort(run);
      expect(run.output()).toContain('collections: inventory');
      const token = await signDevToken(SECRET, { sub: 'ann', tenant: 'shop' });
      const push = (mutationId: number, collection: string, data: unknown) =>
        fetch(`http://127.0.0.1:${port}/sync/push`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            clientId: 'c1',
            changes: [{ mutationId, collection, id: 'a', op: 'upsert', data }],
          }),
        });
      expect((await push(1, 'inventory', { sku: 'A-1', count: 3 })).status).toBe(200);
      const refused = await push(2, 'tasks', { title: 'x' });
      expect(refused.status).toBe(400);
      expect(await refused.text()).toMatch(/tasks/);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  }, 180_000); // a PGlite server start and CLI runs: slow on a busy machine

  it('without tsx installed, ends with one line naming what to install', () => {
    let stderr = '';
    try {
      execFileSync(process.execPath, ['cli.mjs', 'init', '--schema', 'src/schema.ts'], {
        cwd: withoutTsx,
        env: { ...process.env, SYNC_DATA_DIR: join(withoutTsx, 'data'), NODE_OPTIONS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      });
    } catch (error) {
      stderr = (error as { stderr: string; status: number }).stderr;
      expect((error as { status: number }).status).toBe(1);
    }
    expect(stderr).toBe(
      'error: --schema: src/schema.ts is TypeScript, which this Node cannot load by itself: install tsx next to it (npm install --save-dev tsx) or compile the schema to .js and pass that file\n',
    );
  });
});
