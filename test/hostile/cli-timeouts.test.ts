/** The real CLI applies SYNC_REQUEST_TIMEOUT_MS / SYNC_HEADERS_TIMEOUT_MS to both of its ports, lists them in --help and the docs, and stops with one line on a bad value. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HELP } from '../../server/cli/config.js';
import { TIMEOUT_ENV } from '../../server/cli/timeouts-env.js';
import { listeningPort, spawnCli } from '../cli-process.js';

const SECRET = 'cli-timeouts-secret-cli-timeouts-secret!';
const dir = mkdtempSync(join(tmpdir(), 'sync-cli-timeouts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes half a request head to `port` and resolves with what the server sent once it closed the socket (the test's timeout is the failure). */
function halfHead(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
    socket.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
  });
}

describe('CLI transport timeouts', () => {
  it('lists both variables in --help, docs/cli.md and docs/limits.md', () => {
    for (const name of Object.keys(TIMEOUT_ENV)) {
      expect(HELP).toContain(name);
      expect(readFileSync('docs/cli.md', 'utf8')).toContain(name);
      expect(readFileSync('docs/limits.md', 'utf8')).toContain(name);
    }
  });

  it('cuts slow headers with 408 on the main and the metrics port', async () => {
    const run = spawnCli(['serve'], SECRET, {
      SYNC_DATA_DIR: join(dir, 'data'),
      SYNC_METRICS_PORT: '0',
      SYNC_REQUEST_TIMEOUT_MS: '800',
      SYNC_HEADERS_TIMEOUT_MS: '400',
    });
    try {
      const main = await listeningPort(run);
      const metrics = await listeningPort(run, /metrics: http:\/\/127\.0\.0\.1:(\d+)\/metrics/);
      for (const port of [main, metrics])
        expect(await halfHead(port), `port ${port}`).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  }, 120_000);

  it('stops with one line naming the variable for a bad value', async () => {
    const run = spawnCli(['serve'], SECRET, {
      SYNC_DATA_DIR: join(dir, 'bad'),
      SYNC_HEADERS_TIMEOUT_MS: 'soon',
    });
    expect(await run.exited).toBe(1);
    expect(run.output()).toBe(
      'error: SYNC_HEADERS_TIMEOUT_MS: expected a positive integer of milliseconds, at most 2147483647 (headersTimeoutMs, default 10000), got "soon"\n',
    );
  }, 60_000);
});
