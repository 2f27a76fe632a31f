/**
 * `trpc-offline-sync/rest` and `trpc-offline-sync/trpc` run on Fetch-API runtimes (Deno, Bun, edge
 * and worker platforms): their module graphs, walked by esbuild from the entry source, import no
 * `node:` module and none of the Node-only optional peers. The test names each import in the way.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/** Every import of a package or `node:` module in `entry`'s graph, as `importer -> specifier`. */
async function externalImports(
  entry: string,
): Promise<{ imports: string[]; files: number; inputs: string[] }> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'silent',
    // Keep every bare specifier out of the bundle so the metafile lists it as an import.
    plugins: [
      {
        name: 'externals',
        setup: (b) => b.onResolve({ filter: /^[^./]/ }, (a) => ({ path: a.path, external: true })),
      },
    ],
  });
  const found = new Set<string>();
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    for (const imported of input.imports)
      if (imported.external) found.add(`${file} -> ${imported.path}`);
  }
  return {
    imports: [...found].sort(),
    files: Object.keys(result.metafile.inputs).length,
    inputs: Object.keys(result.metafile.inputs),
  };
}

const SERVER_ONLY = /-> (node:|ws$|pg$|mongodb|@electric-sql\/pglite|prom-client|jose$)/;

describe('entries for Fetch-API runtimes', () => {
  it.each([
    ['trpc-offline-sync/rest', 'server/entries/rest.ts'],
    ['trpc-offline-sync/trpc', 'server/entries/trpc.ts'],
    ['trpc-offline-sync/client', 'client/index.ts'],
    ['trpc-offline-sync/demo', 'server/demo/index.ts'],
  ])('%s imports no node: module and no server-only peer', async (_name, entry) => {
    const { imports, files } = await externalImports(entry);
    expect(imports.filter((i) => SERVER_ONLY.test(i))).toEqual([]);
    expect(files).toBeGreaterThan(3); // the walk did follow the entry's imports
  });

  it.each([
    ['trpc-offline-sync/client', 'client/index.ts'],
    ['trpc-offline-sync/demo', 'server/demo/index.ts'],
  ])('%s holds no server module and no @trpc/server import', async (_name, entry) => {
    const { imports, inputs } = await externalImports(entry);
    expect(
      inputs.filter(
        (f) => f.startsWith('server/') && !/^server\/demo\/(index|schema)\.ts$/.test(f),
      ),
    ).toEqual([]);
    expect(imports.filter((i) => /-> @trpc\/server/.test(i))).toEqual([]);
  });

  it('sees node: imports where there are some (the Node entry)', async () => {
    const { imports } = await externalImports('server/entries/node.ts');
    expect(imports.some((i) => /-> node:http$/.test(i))).toBe(true);
    expect(imports.some((i) => /-> ws$/.test(i))).toBe(true);
  });
});
