/**
 * The public API is whole and consistent: every named type a public signature uses (a parameter, a
 * return type, a member, an `extends`) is exported from some entry point, so apps can name it; and
 * a name exported by several entries is one declaration everywhere. Read from the declaration
 * files a user's compiler sees (emitted in memory from the sources).
 */
import { describe, expect, it } from 'vitest';
import { publicApi } from './public-api.js';

describe('public API', () => {
  const api = publicApi();
  const exported = new Set(api.names.map((n) => n.symbol));

  it('has entry points with names', () => {
    const subpaths = new Set(api.names.map((n) => n.subpath));
    for (const subpath of ['.', './server', './client', './rest', './trpc', './node', './engine'])
      expect(subpaths).toContain(subpath);
    expect(api.names.length).toBeGreaterThan(100);
  });

  it('exports every named type a public signature uses', () => {
    const missing = new Map<string, Set<string>>();
    for (const ref of api.references) {
      if (exported.has(ref.symbol)) continue;
      const key = `${ref.symbol.name} (${ref.file})`;
      if (!missing.has(key)) missing.set(key, new Set());
      missing.get(key)!.add(`${ref.subpath} ${ref.from}`);
    }
    const report = [...missing]
      .map(([type, users]) => `${type}, used by ${[...users].slice(0, 3).join(', ')}`)
      .sort();
    expect(report).toEqual([]);
  });

  it('gives a name exported by several entries one declaration', () => {
    const byName = new Map<string, Map<unknown, string[]>>();
    for (const n of api.names) {
      const symbols = byName.get(n.name) ?? new Map<unknown, string[]>();
      symbols.set(n.symbol, [...(symbols.get(n.symbol) ?? []), n.subpath]);
      byName.set(n.name, symbols);
    }
    const clashes = [...byName]
      .filter(([, symbols]) => symbols.size > 1)
      .map(
        ([name, symbols]) =>
          `${name}: ${[...symbols.values()].map((s) => s.join(' ')).join(' vs ')}`,
      );
    expect(clashes).toEqual([]);
  });
});
