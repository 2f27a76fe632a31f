/** Browser-test harness: real Chromium through playwright-core, the real CLI server on a temp data dir, pages loaded from it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { Browser } from 'playwright-core';
import superjson from 'superjson';
import { afterAll, beforeAll } from 'vitest';
import type { AppRouter } from '../../server/demo/app-router.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here (`null`: they can). Throws under CI, where Chromium must be installed. */
export function browserSkipReason(): string | null {
  if (existsSync(CHROMIUM)) return null;
  if (process.env.CI)
    throw new Error(`browser tests: ${CHROMIUM} is missing under CI (apt-get install -y chromium)`);
  const reason = `browser tests skipped: ${CHROMIUM} not found (apt-get install -y chromium)`;
  console.warn(reason);
  return reason;
}

export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** What `startServer` answers. */
export type TestAppServer = Awaited<ReturnType<typeof startServer>>;

/**
 * Launches Chromium and the CLI server before the suite's tests (in a `describe`) and stops both
 * after; read `browser` and `server` from the returned object inside the tests.
 */
export function useChromiumAndServer(options: StartServerOptions = {}): {
  browser: Browser;
  server: TestAppServer;
} {
  const env = {} as { browser: Browser; server: TestAppServer };
  beforeAll(async () => {
    [env.browser, env.server] = await Promise.all([launchChromium(), startServer(options)]);
  });
  afterAll(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

/** Where and how `startServer` runs the CLI (a restart passes the previous `dataDir` and `port`: same origin, same data, same dev secret). */
export interface StartServerOptions {
  /** @default a new temp dir */
  dataDir?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** More `serve` arguments (e.g. `['--schema', file]`). */
  args?: string[];
  /** How long the server may take to start (PGlite's first boot is slow on a busy machine). @default 60000 */
  startTimeoutMs?: number;
}

/** `trpc-offline-sync serve` as a child process with a generated dev secret (so the page is signed in). */
export async function startServer(options: StartServerOptions = {}): Promise<{
  url: string;
  port: number;
  dataDir: string;
  token: string;
  child: ChildProcess;
  trpc: ReturnType<typeof createTRPCClient<AppRouter>>;
  output(): string;
  /** Stops the server; the data dir is removed unless `keepData` (for a restart). */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sync-browser-'));
  const env: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(options.port ?? 0),
    SYNC_DATA_DIR: dataDir,
    SYNC_LOG: 'silent',
  };
  delete env.SYNC_JWT_SECRET;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'server/cli.ts', 'serve', ...(options.args ?? [])],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(out);
    const t = /dev token \([^)]*\): (\S+)/.exec(out);
    if (m && t) {
      const url = m[1]!;
      const token = t[1]!;
      const trpc = createTRPCClient<AppRouter>({
        links: [
          httpBatchLink({
            url: `${url}/trpc`,
            transformer: superjson,
            headers: { authorization: `Bearer ${token}` },
          }),
        ],
      });
      return {
        url,
        port: Number(m[2]),
        dataDir,
        token,
        child,
        trpc,
        output: () => out,
        async stop(opts = {}) {
          if (child.exitCode === null) {
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await exited;
          }
          if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
        },
      };
    }
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls `check` until it returns true (or throws with `what`). */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
