/** `trpc-offline-sync/tanstack-db` stays browser and React Native safe: only the client, shared code, zod and @tanstack/db types. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '../../tanstack-db');
const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));

describe('tanstack-db imports', () => {
  it.each(files)('%s imports only client/, shared/, zod and @tanstack/db (types only)', (file) => {
    const source = readFileSync(join(dir, file), 'utf8');
    const imports = [
      ...source.matchAll(/(?:^|\n)\s*(import|export)\b([^'";]*?)from\s+['"]([^'"]+)['"]/g),
    ].map((m) => ({ clause: m[2]!, spec: m[3]! }));
    expect(imports.length).toBeGreaterThan(0);
    for (const { clause, spec } of imports) {
      if (spec === 'zod' || spec === '@tanstack/db') {
        expect(clause.trim().startsWith('type'), spec).toBe(true); // no runtime dependency on either
        continue;
      }
      const target = relative(join(dir, '..'), resolve(dirname(join(dir, file)), spec));
      expect(target, spec).toMatch(/^(client|shared|tanstack-db)\/[\w/-]+\.js$/);
    }
  });

  it('is a subpath export of the package', () => {
    const pkg = JSON.parse(readFileSync(join(dir, '../package.json'), 'utf8'));
    expect(pkg.exports['./tanstack-db']).toEqual({
      types: './dist/tanstack-db/index.d.ts',
      import: './dist/tanstack-db/index.js',
      default: './dist/tanstack-db/index.js',
    });
    expect(pkg.peerDependenciesMeta['@tanstack/db']).toEqual({ optional: true });
  });
});
