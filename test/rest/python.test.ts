/** The Python stdlib client in examples/python runs its whole demo against a real server. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServer, storeCases } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('examples/python', () => {
  it('demo.py pushes, retries, pulls, exports and streams, and exits 0', async () => {
    const [first] = await storeCases();
    await using s = await startServer(await first!.create());
    const token = await s.token('py', 'python-demo');
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile('python3', [path.join(ROOT, 'examples/python/demo.py'), s.base, token], { timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    for (const step of ['health', 'push', 'push retry', 'pull paging', 'full export', 'stream', 'stream resume', 'error body']) {
      expect(stdout).toMatch(new RegExp(`^OK   ${step}`, 'm'));
    }
    expect(stdout).toContain('ALL CHECKS PASSED');
  }, 90_000);
});
