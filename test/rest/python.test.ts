/** The Python stdlib client in examples/python runs its whole demo against a real server. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServer, storeCases } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

for (const storeCase of (await storeCases()).filter((c) => c.name !== 'memory')) {
  describe(`on ${storeCase.name}`, () => {
    describe('examples/python', () => {
      it('demo.py pushes, retries, pulls, exports and streams, and exits 0', async () => {
        await using s = await startServer(await storeCase.create());
        const token = await s.token('py', 'python-demo');
        const { code, stdout, stderr } = await new Promise<{
          code: number | null;
          stdout: string;
          stderr: string;
        }>((resolve) => {
          execFile(
            'python3',
            [path.join(ROOT, 'examples/python/demo.py'), s.base, token],
            { timeout: 60_000 },
            (error, stdout, stderr) =>
              resolve({
                code: error ? ((error as { code?: number }).code ?? 1) : 0,
                stdout,
                stderr,
              }),
          );
        });
        expect(stderr).toBe('');
        expect(code, stdout).toBe(0);
        for (const step of [
          'health',
          'push',
          'push retry',
          'copied client',
          'pull paging',
          'full export',
          'stream',
          'stream resume',
          'error body',
        ]) {
          expect(stdout).toMatch(new RegExp(`^OK   ${step}`, 'm'));
        }
        expect(stdout).toContain('ALL CHECKS PASSED');
      }, 90_000);

      it('push waits out a 429 for the Retry-After the server sends, and the batch is applied once', async () => {
        // Bursts of 2, one more request per second.
        await using s = await startServer(await storeCase.create(), {
          engine: { rateLimit: { requests: 2, windowMs: 2000 } },
        });
        const token = await s.token('py', 'python-limited');
        const script = [
          'import json, sys, time',
          'from sync_client import SyncClient',
          'c = SyncClient(sys.argv[1], sys.argv[2], client_id="py-limited")',
          'out = []',
          'start = time.monotonic()',
          'for i in range(3):',
          '    r = c.push(c.changes([{"collection": "tasks", "id": f"p{i}", "op": "upsert", "data": {"title": "x"}}]))',
          '    out.append(r["results"][0]["status"])',
          'print(json.dumps({"statuses": out, "seconds": time.monotonic() - start}))',
        ].join('\n');
        const { code, stdout, stderr } = await new Promise<{
          code: number | null;
          stdout: string;
          stderr: string;
        }>((resolve) => {
          execFile(
            'python3',
            ['-c', script, s.base, token],
            { cwd: path.join(ROOT, 'examples/python'), timeout: 30_000 },
            (error, stdout, stderr) =>
              resolve({
                code: error ? ((error as { code?: number }).code ?? 1) : 0,
                stdout,
                stderr,
              }),
          );
        });
        expect(stderr).toBe('');
        expect(code).toBe(0);
        const report = JSON.parse(stdout) as { statuses: string[]; seconds: number };
        expect(report.statuses).toEqual(['accepted', 'accepted', 'accepted']);
        expect(report.seconds).toBeGreaterThanOrEqual(0.9); // the third push waited for Retry-After (1 s)
        const pulled = await s.engine.pull({ userId: 'check', scopeId: 'python-limited' }, {});
        expect(pulled.changes.map((c) => c.id).sort()).toEqual(['p0', 'p1', 'p2']);
      }, 60_000);
    });
  });
}
