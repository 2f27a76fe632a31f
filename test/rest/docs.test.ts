/** The curl examples of docs/rest.md (and README.md when it has the markers) run for real against a server. */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServer, storeCases } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The ```sh blocks between the curl-examples markers of a Markdown file. */
export function curlBlocks(markdown: string): string[] {
  const start = markdown.indexOf('<!-- curl-examples:start -->');
  const end = markdown.indexOf('<!-- curl-examples:end -->');
  if (start < 0 || end < start) return [];
  return [...markdown.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

const blocks = ['docs/rest.md', 'README.md'].flatMap((file) => {
  const full = path.join(ROOT, file);
  return existsSync(full)
    ? curlBlocks(readFileSync(full, 'utf8')).map((code, i) => ({
        name: `${file} #${i + 1}: ${code.split('\n')[0]}`,
        code,
      }))
    : [];
});

for (const storeCase of (await storeCases()).filter((c) => c.name !== 'memory')) {
  describe(`on ${storeCase.name}`, () => {
    describe('curl examples', () => {
      it('docs/rest.md has curl examples', () => {
        expect(
          blocks.filter((b) => b.name.startsWith('docs/rest.md')).length,
        ).toBeGreaterThanOrEqual(5);
      });

      it('every example exits 0 with plausible output', { timeout: 120_000 }, async () => {
        await using s = await startServer(await storeCase.create());
        const token = await s.token('curl', 'curl-docs');
        const cwd = await mkdtemp(path.join(os.tmpdir(), 'curl-docs-'));
        let all = '';
        try {
          for (const block of blocks) {
            const { code, stdout, stderr } = await new Promise<{
              code: number;
              stdout: string;
              stderr: string;
            }>((resolve) => {
              execFile(
                'bash',
                ['-e', '-o', 'pipefail', '-c', block.code],
                { cwd, timeout: 30_000, env: { ...process.env, BASE: s.base, TOKEN: token } },
                (error, stdout, stderr) =>
                  resolve({
                    code: error ? Number((error as { code?: number }).code ?? 1) : 0,
                    stdout,
                    stderr,
                  }),
              );
            });
            expect(code, `${block.name}\n${stderr}\n${stdout}`).toBe(0);
            expect(stdout.trim().length, block.name).toBeGreaterThan(0);
            all += stdout;
          }
        } finally {
          await rm(cwd, { recursive: true, force: true });
        }
        expect(all).toContain('"ok":true');
        expect(all).toContain('"accepted"');
        expect(all).toContain('"duplicate"');
        expect(all).toContain('"hasMore":false');
        expect(all).toMatch(/x-sync-checkpoint: c1\./i);
        expect(all).toContain('"deleted":false');
        expect(all).toContain('event: changes');
        expect(all).toContain('HTTP 400');
        expect(all).toContain('"openapi":"3.1.0"');
      });
    });
  });
}
