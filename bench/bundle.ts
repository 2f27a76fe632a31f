/** `client.bundle.*`: minified + gzipped size of what an app ships (esbuild, tRPC / zod / React as externals). */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { detail } from './detail.js';
import { measure, type BenchResult } from './stats.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const EXTERNAL = ['@trpc/*', 'zod', 'superjson', 'react', 'react-dom', '@tanstack/db'];

/** Bundles `contents` (imports resolved from the repo root) and answers its minified and gzipped sizes in kB. */
async function sizeOf(contents: string): Promise<{ min: number; gz: number }> {
  const out = await build({
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    treeShaking: true,
    external: EXTERNAL,
    write: false,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.contents;
  return { min: code.length / 1024, gz: gzipSync(code, { level: 9 }).length / 1024 };
}

export async function benchBundle(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const lib = (await import('../client/index.js')) as Record<string, unknown>;
  if (typeof lib.indexedDbLocalStore !== 'function')
    throw new Error('client.bundle: indexedDbLocalStore is not exported from client/index.ts');
  const client = await sizeOf(
    `export { createSyncClient, indexedDbLocalStore } from './client/index.ts';`,
  );
  detail(
    `client + indexedDbLocalStore: ${client.min.toFixed(1)} kB minified, ${client.gz.toFixed(1)} kB gzipped (externals: ${EXTERNAL.join(', ')})`,
  );
  out.push(
    measure('client.bundle.gzip_kb', client.gz, 'kB'),
    measure('client.bundle.min_kb', client.min, 'kB'),
  );
  if (existsSync(`${root}react/index.ts`)) {
    const react = await sizeOf(`export * from './react/index.ts';`);
    const both = await sizeOf(
      `export * from './react/index.ts'; export { createSyncClient, indexedDbLocalStore } from './client/index.ts';`,
    );
    detail(
      `react hooks alone: ${react.gz.toFixed(1)} kB gzipped (with the client they add ${(both.gz - client.gz).toFixed(1)} kB)`,
    );
    out.push(measure('react.bundle.gzip_kb', react.gz, 'kB'));
  }
  return out;
}
