/** The pg pool executor survives a connection whose startup ends in the server's shutdown FATAL. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('pg pool executor: shutdown FATAL in the same read as ReadyForQuery', () => {
  it('rejects the transaction with a retryable error instead of ending the process', async () => {
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'test/stores/fixtures/shutdown-at-startup.ts'],
        { cwd: ROOT, timeout: 30_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(stderr).not.toMatch(/Unhandled 'error' event/);
    expect(code).toBe(0);
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as {
      connections: number;
      outcomes: { message: string; retryable: boolean }[];
    };
    expect(report.connections).toBe(5);
    expect(report.outcomes).toHaveLength(5);
    for (const outcome of report.outcomes) {
      expect(outcome.message).not.toBe('committed');
      expect(outcome.retryable).toBe(true);
    }
  });
});
