/** `trpc-offline-sync/client` stays browser and React Native safe: no server code, Node built-ins or server-only packages. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '../../client');
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

describe('client imports', () => {
  it.each(files)('%s imports only ./, ../shared/ and zod', (file) => {
    const source = readFileSync(join(dir, file), 'utf8');
    const specifiers = [...source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]!);
    for (const spec of specifiers) expect(spec).toMatch(/^(\.\/[\w-]+\.js|\.\.\/shared\/[\w-]+\.js|zod)$/);
  });
});
