/** `trpc-offline-sync/client` stays browser and React Native safe: no server code, Node built-ins or server-only packages. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '../../client');
/** Every .ts file of client/, subfolders included (e.g. sqlite/store.ts). */
const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));

// Packages the client may use: zod (schemas) and idb (the IndexedDB store's thin promise wrapper, browser-only).
const PACKAGES = new Set(['zod', 'idb']);

describe('client imports', () => {
  it.each(files)('%s imports only ./, ../shared/, zod and idb', (file) => {
    const source = readFileSync(join(dir, file), 'utf8');
    const specifiers = [
      ...source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s+['"]([^'"]+)['"]/g),
    ].map((m) => m[1]!);
    for (const spec of specifiers) {
      if (PACKAGES.has(spec)) continue;
      expect(spec).toMatch(/^\.{1,2}\/[\w./-]+\.js$/);
      // A relative import must land in client/ or shared/ (never server/, never a package).
      const target = relative(join(dir, '..'), resolve(dirname(join(dir, file)), spec));
      expect(target, spec).toMatch(/^(client|shared)\/[\w/-]+\.js$/);
    }
  });
});
