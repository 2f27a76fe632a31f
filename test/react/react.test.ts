/** `trpc-offline-sync/react` in Node: imports only react and the client, is a subpath export with react an optional peer, renders on the server, throws outside a provider. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { createSyncClient, memoryLocalStore, type SyncApi } from '../../client/index.js';
import { SyncProvider, usePending, useQuery, useSyncStatus } from '../../react/index.js';
import { demoSchema } from '../../server/demo/schema.js';

const root = join(import.meta.dirname, '../..');

describe('trpc-offline-sync/react', () => {
  it('imports only react and the client entry', () => {
    const source = readFileSync(join(root, 'react/index.ts'), 'utf8');
    const specs = [
      ...source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s+['"]([^'"]+)['"]/g),
    ].map((m) => m[1]);
    expect(specs.length).toBeGreaterThan(0);
    for (const spec of specs) expect(['react', '../client/index.js']).toContain(spec);
  });

  it('is a subpath export with react as an optional peer dependency', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.exports['./react']).toEqual({
      types: './dist/react/index.d.ts',
      import: './dist/react/index.js',
      default: './dist/react/index.js',
    });
    expect(pkg.peerDependencies.react).toBeDefined();
    expect(pkg.peerDependenciesMeta.react).toEqual({ optional: true });
    expect(JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')).include).toContain(
      'react',
    );
  });

  it('renders on the server (empty rows, the current status) and refuses hooks outside a provider', () => {
    const never = () => Promise.reject(new Error('no server'));
    const api = {
      push: { mutate: never },
      pull: { query: never },
      full: { query: never },
      stream: { subscribe: () => ({ unsubscribe() {} }) },
    } as unknown as SyncApi;
    const client = createSyncClient({
      api,
      schema: demoSchema,
      store: memoryLocalStore(),
      connectivity: null,
    });
    function View() {
      const rows = useQuery(client.collection('tasks'));
      return createElement(
        'p',
        null,
        `${rows.length} rows, ${usePending()} pending, ${useSyncStatus()}`,
      );
    }
    expect(renderToString(createElement(SyncProvider, { client }, createElement(View)))).toBe(
      `<p>0 rows, 0 pending, ${client.status()}</p>`,
    );
    expect(() => renderToString(createElement(View))).toThrow(/inside <SyncProvider/);
  });
});
