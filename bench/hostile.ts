/**
 * `hostile.*`: issue 15's costly requests against the CLI server in a child process (`npm start` on
 * a fresh PGlite directory, default bounds): a superjson DAG push (2^24 paths from about 2.5 KB),
 * a 120-call `sync.full` batch, a 16-page batch within `maxBatchCalls` (bounded by `maxResponseBytes`),
 * and 12 unauthenticated 95 MiB frames on `/trpc` at once. Each prints the time per refusal and the
 * server's RSS growth; numbers, not pass/fail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detail, mb } from './detail.js';
import { RssSampler } from './memory.js';
import { startCli } from './server-rss.js';
import { measure, type BenchResult } from './stats.js';
import { benchToken } from './tokens.js';

/** `BENCH_HOSTILE_DAG_DEPTH` and `BENCH_HOSTILE_RUNS` shrink the run (e.g. against a server without the bounds, where each refusal takes seconds). */
const DAG_DEPTH = Number(process.env.BENCH_HOSTILE_DAG_DEPTH ?? 24);
const RUNS = process.env.BENCH_HOSTILE_RUNS ? Number(process.env.BENCH_HOSTILE_RUNS) : null;
const DAG_PUSHES = RUNS ?? 10;
const BATCH_CALLS = 120;
const BATCHES = RUNS ?? 10;
const FRAMES = 12;
const FRAME_BYTES = 95 * 1024 * 1024;
/** Documents seeded so that a default `full` page (1000 documents) is about 4.6 MB, as in the report. */
const SEED_DOCS = 2000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A superjson push whose `referentialEqualities` make `data.x.a` and `data.x.b` one object at every level. */
function dagBody(depth: number): string {
  const base = 'changes.0.data.x';
  let inner: Record<string, unknown> = { a: { leaf: 1 }, b: null };
  const equalities: Record<string, string[]> = {};
  for (let k = depth - 1; k >= 0; k--) {
    const at = base + '.a'.repeat(k);
    equalities[`${at}.a`] = [`${at}.b`];
    if (k > 0) inner = { a: inner, b: null };
  }
  const json = {
    clientId: 'dag',
    changes: [
      {
        mutationId: 1,
        collection: 'tasks',
        id: 'dag',
        op: 'upsert',
        data: { title: 'dag', x: inner },
      },
    ],
  };
  return JSON.stringify({ json, meta: { referentialEqualities: equalities } });
}

/** Seeds `SEED_DOCS` tasks of about 4.5 KB each over REST. */
async function seed(url: string, token: string): Promise<void> {
  for (let first = 0; first < SEED_DOCS; first += 200) {
    const changes = Array.from({ length: 200 }, (_, k) => ({
      mutationId: first + k + 1,
      collection: 'tasks',
      id: `big-${first + k}`,
      op: 'upsert',
      data: { title: `${'field notes '.repeat(380)}${first + k}` },
    }));
    const res = await fetch(`${url}/sync/push`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'seed', changes }),
    });
    if (!res.ok) throw new Error(`seed: ${res.status} ${await res.text()}`);
  }
}

/**
 * Upgrades a raw socket on `/trpc` (no token) and sends one masked text frame of `bytes` (mask key 0,
 * so 1 MiB of spaces is reused for every chunk), honouring backpressure; resolves with the close
 * code the server sent (null: none) and the payload bytes it took before closing.
 */
function sendFrame(
  port: number,
  bytes: number,
): Promise<{ code: number | null; sent: number; ms: number }> {
  const chunk = Buffer.alloc(1024 * 1024, 0x20);
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let code: number | null = null;
    let sent = 0;
    let upgraded = false;
    let buffer = Buffer.alloc(0);
    let closed = false;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      resolve({ code, sent, ms: performance.now() - started });
    });
    socket.on('connect', () => {
      socket.write(
        `GET /trpc HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${Buffer.from('0123456789abcdef').toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on('data', async (data: Buffer) => {
      buffer = Buffer.concat([buffer, data]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        upgraded = true;
        buffer = buffer.subarray(end + 4);
        const header = Buffer.alloc(14);
        header[0] = 0x81;
        header[1] = 0x80 | 127;
        header.writeBigUInt64BE(BigInt(bytes), 2);
        socket.write(header); // mask key 0 (bytes 10-13)
        while (sent < bytes && !closed) {
          const part = Math.min(chunk.length, bytes - sent);
          sent += part;
          if (!socket.write(part === chunk.length ? chunk : chunk.subarray(0, part))) {
            await new Promise<void>((resolve) => {
              const done = () => (socket.off('drain', done), socket.off('close', done), resolve());
              socket.on('drain', done).on('close', done);
            });
          }
        }
      }
      if (buffer.length >= 4 && buffer[0] === 0x88 && code === null) {
        code = buffer.readUInt16BE(2);
        socket.destroy();
      }
    });
  });
}

/** The `hostile.*` group: one CLI server, four scenarios, RSS of the server sampled every 10 ms. */
export async function benchHostile(): Promise<BenchResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sync-bench-hostile-'));
  const cli = await startCli(dataDir);
  try {
    const pid = cli.child.pid!;
    const port = Number(new URL(cli.url).port);
    const token = await benchToken('hostile');
    await seed(cli.url, token);
    const results: BenchResult[] = [];
    const scenario = async (
      name: string,
      runs: number,
      once: () => Promise<string>,
    ): Promise<void> => {
      const sampler = new RssSampler(pid, 10);
      const times: number[] = [];
      let last = '';
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        last = await once();
        times.push(performance.now() - t);
      }
      const growth = sampler.stop();
      detail(
        `${name}: ${runs} × ${last}; median ${median(times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms each; server RSS ${mb(sampler.start)} MB before, +${growth.toFixed(1)} MB at peak`,
      );
      results.push(
        measure(`hostile.${name}.ms`, median(times), 'ms'),
        measure(`hostile.${name}.rss_growth_mb`, growth, 'MB'),
      );
    };

    const dag = dagBody(DAG_DEPTH);
    await scenario(`dag_push_depth${DAG_DEPTH}`, DAG_PUSHES, async () => {
      const res = await fetch(`${cli.url}/trpc/sync.push`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: dag,
      });
      await res.text();
      return `${(dag.length / 1024).toFixed(1)} KB push answered ${res.status}`;
    });

    const batchUrl = (calls: number) =>
      `${cli.url}/trpc/${Array.from({ length: calls }, () => 'sync.full').join(',')}?batch=1&input=${encodeURIComponent(JSON.stringify({}))}`;
    await scenario(`batch_${BATCH_CALLS}_full`, BATCHES, async () => {
      const res = await fetch(batchUrl(BATCH_CALLS), {
        headers: { authorization: `Bearer ${token}` },
      });
      const text = await res.text();
      return `${BATCH_CALLS}-call sync.full batch answered ${res.status} (${(text.length / 1024).toFixed(0)} KB)`;
    });
    await scenario('batch_16_full', RUNS ?? 3, async () => {
      const res = await fetch(batchUrl(16), { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { result?: unknown; error?: unknown }[];
      const text = JSON.stringify(body);
      return `16-call sync.full batch (pages of 1000 docs) answered ${res.status}: ${body.filter((r) => r.result).length} pages, ${body.filter((r) => r.error).length} × 413, ${mb(text.length)} MB`;
    });

    await scenario(`ws_${FRAMES}x95MiB_frames`, 1, async () => {
      const outcomes = await Promise.all(
        Array.from({ length: FRAMES }, () => sendFrame(port, FRAME_BYTES)),
      );
      const codes = [...new Set(outcomes.map((o) => o.code ?? 'no close frame'))].join('/');
      const sent = outcomes.reduce((n, o) => n + o.sent, 0);
      return `${FRAMES} unauthenticated frames at once closed with ${codes} after ${mb(sent)} MB sent in all (slowest ${Math.max(...outcomes.map((o) => o.ms)).toFixed(0)} ms)`;
    });
    return results;
  } finally {
    await cli.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
