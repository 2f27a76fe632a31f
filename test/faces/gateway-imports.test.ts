/**
 * The gateway and the Fetch-API REST face stay free of `node:` modules and Node-only packages, so
 * they run on any runtime with `Request`/`Response` (Node adapters live in files of their own).
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const NODE_ONLY = new Set(['ws', 'pg', 'mongodb', '@electric-sql/pglite', 'prom-client']);

/**
 * Every value import reachable from `entry` through relative imports (type-only imports are
 * erased).
 */
function nodeImportsOf(entry: string): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(
      /^\s*(?:import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm,
    )) {
      if (m[1]) continue;
      const spec = m[2]!;
      if (spec.startsWith('.')) walk(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (spec.startsWith('node:') || NODE_ONLY.has(spec))
        found.push(`${relative('.', file)} imports ${spec}`);
    }
  };
  walk(resolve(entry));
  return found;
}

describe('runtime-neutral modules', () => {
  it('the gateway core imports no node: module and no Node-only package', () => {
    expect(nodeImportsOf('server/gateway/index.ts')).toEqual([]);
  });

  it('the Fetch-API REST handler (createRestHandler) imports none either', () => {
    expect(nodeImportsOf('server/rest/handler.ts')).toEqual([]);
  });

  it('the check sees a node: import where there is one (the Node adapter)', () => {
    expect(nodeImportsOf('server/rest/node.ts').length).toBeGreaterThan(0);
  });
});
