/**
 * Every factory or helper the README and docs/ tell users to call is exported by a public entry
 * point (or by the library it comes from).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const FILES = [
  'README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/**
 * Our public entry points (package.json `exports`) and the libraries the docs call alongside them.
 */
/** Every public entry point of the package (package.json `exports`), as its source file. */
const ENTRIES = Object.values(
  (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, string | { import?: string }>;
    }
  ).exports,
)
  .map((target) => (typeof target === 'string' ? target : target.import))
  .filter((path): path is string => !!path && path.startsWith('./dist/') && path.endsWith('.js'))
  .map((path) => `../${path.slice('./dist/'.length, -'.js'.length)}.ts`);
const LIBRARIES = [
  '@trpc/client',
  '@trpc/server',
  '@trpc/server/adapters/standalone',
  '@trpc/server/adapters/ws',
  '@trpc/server/adapters/fetch',
  'zod',
  'jose',
  'react',
  'react-dom/client',
  '@tanstack/db',
  'openapi-fetch',
];

/**
 * Names that look like free functions but are methods or internals the docs describe, each with
 * why.
 */
const NOT_FUNCTIONS: Record<string, string> = {
  clientId: 'a method of the sync client (`client.clientId()`), listed in a table of methods',
  countDocs: 'a method of the LocalStore interface, shown in its declaration',
  countOutbox: 'a method of the LocalStore interface, shown in its declaration',
  codePointKey:
    'an IndexedDB store internal whose key order the text explains, not called by users',
};

/**
 * `name(` inside code (fenced or inline), not after a dot, for names shaped like our factories and
 * helpers.
 */
function calledNames(): Map<string, string> {
  const names = new Map<string, string>();
  const shape =
    /(?<![.\w$])((?:create|define|use|with|to|sign|jwt|memory|indexedDb|sqlite|keyValue|betterSqlite3|expoSqlite|opSqlite|postgres|mongo|parse|answer|count|open|run|request|bearer|client|code)[A-Z][A-Za-z0-9]*)\(/g;
  for (const file of FILES) {
    const text = readFileSync(file, 'utf8');
    const code = [...text.matchAll(/```[\s\S]*?```|`[^`\n]+`/g)].map((m) => m[0]).join('\n');
    const local = new Set(
      [...code.matchAll(/(?:function|const|let)\s+([A-Za-z_$][\w$]*)/g)].map((m) => m[1]!),
    ); // defined in the snippet itself
    for (const m of code.matchAll(shape))
      if (!local.has(m[1]!) && !names.has(m[1]!)) names.set(m[1]!, file);
  }
  return names;
}

describe('docs', () => {
  it('name only functions a user can import', async () => {
    const exported = new Set<string>();
    for (const entry of ENTRIES)
      for (const name of Object.keys(await import(entry))) exported.add(name);
    for (const lib of LIBRARIES) {
      const mod = (await import(lib)) as Record<string, unknown> & {
        default?: Record<string, unknown>;
      };
      for (const name of [...Object.keys(mod), ...Object.keys(mod.default ?? {})])
        exported.add(name);
    }
    const names = calledNames();
    expect(names.size).toBeGreaterThan(40); // the scan finds the docs' calls (createSyncEngine, createSyncClient, …)
    expect(names.get('createWebAppHandler')).toBeDefined();
    const missing = [...names]
      .filter(([name]) => !exported.has(name) && !(name in NOT_FUNCTIONS))
      .map(([name, file]) => `${name} (${file})`);
    expect(missing).toEqual([]);
  });
});
