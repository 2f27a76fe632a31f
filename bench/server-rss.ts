/** `server.rss.*`: the embedded server as `npm start` runs it (the CLI on PGlite, fresh data directory) — RSS idle, under a bounded load, and reopened. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { upserts } from './data.js';
import { detail, mb } from './detail.js';
import { RssSampler, rssOf } from './memory.js';
import { measure, type BenchResult } from './stats.js';
import { BENCH_SECRET, benchToken } from './tokens.js';

/** The load: per scope one writer and some live subscribers; then pulls and a full export of every scope. */
const SCOPES = 4;
const SUBSCRIBERS_PER_SCOPE = 25;
const PUSHES_PER_SCOPE = 25;
const BATCH = 50;
/** How long the server sits idle before its RSS is read. */
const IDLE_MS = 3000;

export interface Cli {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** `node --import tsx server/cli.ts serve` (what `npm start` runs) on 127.0.0.1, a free port and `dataDir`. */
export async function startCli(dataDir: string): Promise<Cli> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: '0',
    SYNC_DATA_DIR: dataDir,
    SYNC_JWT_SECRET: BENCH_SECRET,
    SYNC_LOG: 'error',
    NODE_ENV: 'production',
  };
  for (const name of [
    'DATABASE_URL',
    'MONGODB_URI',
    'SYNC_METRICS_PORT',
    'SYNC_RATE_LIMIT',
    'SYNC_RATE_LIMIT_IP',
  ])
    delete env[name];
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'serve'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = performance.now() + 120_000;
  let url: string | null = null;
  while (!url) {
    url = /listening on (http:\/\/127\.0\.0\.1:\d+) /.exec(out)?.[1] ?? null;
    if (url) break;
    if (child.exitCode !== null || performance.now() > deadline)
      throw new Error(`server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    url,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function request(url: string, token: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(url, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(init.headers ?? {}),
    },
  });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return res;
}

/** Subscribers on every scope, concurrent writers, then pulls from the start and a full export of each scope. */
async function load(
  url: string,
): Promise<{ pushed: number; pulled: number; exported: number; delivered: number }> {
  const scopes = Array.from({ length: SCOPES }, (_, i) => `rss-${i}`);
  const tokens = await Promise.all(scopes.map((s) => benchToken(s)));
  /** Live changes received, all sockets (each document is new, so a socket ends with PUSHES × BATCH). */
  let delivered = 0;
  const sockets = await Promise.all(
    scopes.flatMap((_, i) =>
      Array.from({ length: SUBSCRIBERS_PER_SCOPE }, async () => {
        const ws = new WebSocket(
          `${url.replace('http', 'ws')}/sync/stream?token=${encodeURIComponent(tokens[i]!)}`,
        );
        ws.on('message', (data) => {
          const frame = JSON.parse(String(data)) as { type?: string; changes?: unknown[] };
          if (frame.type === 'changes') delivered += frame.changes?.length ?? 0;
        });
        await new Promise<void>(
          (resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)),
        );
        ws.send(JSON.stringify({ type: 'subscribe' }));
        return ws;
      }),
    ),
  );
  await Promise.all(
    scopes.map(async (_, i) => {
      for (let k = 0; k < PUSHES_PER_SCOPE; k++) {
        const body = JSON.stringify({
          clientId: 'rss',
          changes: upserts('r', k * BATCH, BATCH, k * BATCH + 1),
        });
        await request(`${url}/sync/push`, tokens[i]!, { method: 'POST', body });
      }
    }),
  );
  let pulled = 0;
  let exported = 0;
  await Promise.all(
    scopes.map(async (_, i) => {
      let since: string | null = null;
      for (;;) {
        const query = new URLSearchParams({ limit: '500', ...(since ? { since } : {}) });
        const page = (await (await request(`${url}/sync/pull?${query}`, tokens[i]!)).json()) as {
          changes: unknown[];
          checkpoint: string;
          hasMore: boolean;
        };
        pulled += page.changes.length;
        since = page.checkpoint;
        if (!page.hasMore) break;
      }
      let cursor: string | null = null;
      do {
        const query = new URLSearchParams({ limit: '1000', ...(cursor ? { cursor } : {}) });
        const res = await request(`${url}/sync/full?${query}`, tokens[i]!, {
          headers: { 'accept-encoding': 'identity' },
        });
        cursor = res.headers.get('x-sync-cursor');
        exported += (await res.text()).split('\n').filter(Boolean).length;
      } while (cursor);
    }),
  );
  // Until the live frames stop coming (a subscriber starts at the head it finds, so not every one sees every change).
  const deadline = performance.now() + 20_000;
  for (let last = -1; delivered !== last && performance.now() < deadline;) {
    last = delivered;
    await sleep(500);
  }
  for (const ws of sockets) ws.close();
  return { pushed: SCOPES * PUSHES_PER_SCOPE * BATCH, pulled, exported, delivered };
}

/**
 * Starts the CLI on a fresh temp data directory, reads its RSS after `IDLE_MS` idle
 * (`server.rss.idle_mb`), samples the peak during the load (`server.rss.load_mb`) and after it
 * settles, then restarts it on the same directory and reads the idle RSS again
 * (`server.rss.idle_reopened_mb`). VmRSS from `/proc/<pid>/status`.
 */
export async function benchServerRss(): Promise<BenchResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sync-bench-rss-'));
  try {
    const booted = performance.now();
    const first = await startCli(dataDir);
    const startMs = performance.now() - booted;
    let idle: number;
    let peak: number;
    let settled: number;
    let done: Awaited<ReturnType<typeof load>>;
    try {
      const pid = first.child.pid!;
      await sleep(IDLE_MS);
      idle = rssOf(pid);
      const sampler = new RssSampler(pid, 20);
      done = await load(first.url);
      sampler.stop();
      peak = sampler.peak;
      await sleep(IDLE_MS);
      settled = rssOf(pid);
    } finally {
      await first.stop();
    }
    const second = await startCli(dataDir);
    let reopened: number;
    try {
      await sleep(IDLE_MS);
      reopened = rssOf(second.child.pid!);
    } finally {
      await second.stop();
    }
    detail(
      `fresh data directory: ready in ${(startMs / 1000).toFixed(1)} s, ${mb(idle)} MB idle; load (${SCOPES} scopes × ${SUBSCRIBERS_PER_SCOPE} WS subscribers, ${done.pushed} docs pushed in batches of ${BATCH}, ${done.pulled} pulled, ${done.exported} exported, ${done.delivered} changes delivered live): peak ${mb(peak)} MB, ${mb(settled)} MB ${IDLE_MS / 1000} s after; reopened: ${mb(reopened)} MB idle`,
    );
    return [
      measure('server.rss.idle_mb', idle / 1048576, 'MB'),
      measure('server.rss.load_mb', peak / 1048576, 'MB'),
      measure('server.rss.after_load_mb', settled / 1048576, 'MB'),
      measure('server.rss.idle_reopened_mb', reopened / 1048576, 'MB'),
    ];
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
