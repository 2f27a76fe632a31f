/**
 * The whole project type-checks under `tsc --noEmit` (strict), which is what makes the type tests
 * real: every `@ts-expect-error` in `test/trpc/types.test.ts` must be an error, and the examples
 * (the README's app router in `examples/embedded-server.ts`) must compile against the public API.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('types', () => {
  it('tsc --noEmit -p . reports no error (type tests, examples and sources included)', async () => {
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', ROOT], { cwd: ROOT, timeout: 180_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
      );
    });
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 200_000);
});
