/** Over real HTTP to the server process: tRPC push latency, and REST vs tRPC push/pull throughput on the same engine. */
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import type { AppRouter } from '../server/demo/app-router.js';
import type { ChangeInput, PullResponse, PushInput } from '../shared/protocol.js';
import type { ServerProcess } from './child.js';
import { upserts } from './data.js';
import { measure, percentile, throughput, type BenchResult } from './stats.js';
import { benchToken } from './tokens.js';

const BATCH = 50;
const PULL_PAGE = 500;

/** One face's client for one scope: push a batch, pull one page. */
interface Face {
  push(input: PushInput): Promise<unknown>;
  pull(since: string | null): Promise<PullResponse>;
}

async function trpcFace(server: ServerProcess, scope: string): Promise<Face> {
  const authorization = `Bearer ${await benchToken(scope)}`;
  const trpc = createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${server.url}/trpc`,
        transformer: superjson,
        headers: () => ({ authorization }),
      }),
    ],
  });
  return {
    push: (input) => trpc.sync.push.mutate(input as Parameters<typeof trpc.sync.push.mutate>[0]),
    pull: (since) => trpc.sync.pull.query({ since, limit: PULL_PAGE }) as Promise<PullResponse>,
  };
}

async function restFace(server: ServerProcess, scope: string): Promise<Face> {
  const authorization = `Bearer ${await benchToken(scope)}`;
  const ok = async (res: Response) => {
    if (!res.ok) throw new Error(`REST ${res.url}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  return {
    push: async (input) =>
      ok(
        await fetch(`${server.url}/sync/push`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify(input),
        }),
      ),
    pull: async (since) => {
      const query = new URLSearchParams({ limit: String(PULL_PAGE) });
      if (since) query.set('since', since);
      return (await ok(
        await fetch(`${server.url}/sync/pull?${query}`, { headers: { authorization } }),
      )) as PullResponse;
    },
  };
}

/** p50/p95 of single-change pushes over tRPC (httpBatchLink + superjson), one at a time. */
export async function benchTrpcLatency(
  server: ServerProcess,
  count: number,
): Promise<BenchResult[]> {
  const face = await trpcFace(server, 'latency');
  const samples: number[] = [];
  for (let i = 0; i < count + 20; i++) {
    const changes: ChangeInput[] = upserts('lat', i, 1, i + 1);
    const started = performance.now();
    await face.push({ clientId: 'latency-client', changes });
    if (i >= 20) samples.push(performance.now() - started); // the first 20 warm up
  }
  return [
    measure('trpc.push.latency.p50', percentile(samples, 0.5), 'ms'),
    measure('trpc.push.latency.p95', percentile(samples, 0.95), 'ms'),
  ];
}

/**
 * Pushes the same 50-change batches through REST and tRPC (own scope each, interleaved rounds),
 * then pulls one scope's whole history in pages of 500 through both. Ratio = REST ÷ tRPC.
 */
export async function benchRestVsTrpc(
  server: ServerProcess,
  batches: number,
): Promise<BenchResult[]> {
  const faces = {
    rest: await restFace(server, 'rest-push'),
    trpc: await trpcFace(server, 'trpc-push'),
  };
  const pushMs = { rest: 0, trpc: 0 };
  const sent = { rest: 0, trpc: 0 };
  const pushBatch = async (name: 'rest' | 'trpc') => {
    const first = sent[name]++ * BATCH;
    const input = { clientId: `${name}-client`, changes: upserts('h', first, BATCH, first + 1) };
    const started = performance.now();
    await faces[name].push(input);
    return performance.now() - started;
  };
  for (let i = 0; i < 3; i++) for (const name of ['rest', 'trpc'] as const) await pushBatch(name); // warm-up
  const rounds = 6;
  for (let r = 0; r < rounds; r++) {
    for (const name of ['rest', 'trpc'] as const)
      for (let i = 0; i < batches / rounds; i++) pushMs[name] += await pushBatch(name);
  }
  const measured = Math.ceil(batches / rounds) * rounds;

  // Pull: the REST scope's history through both faces (same data: one face per token scope, so
  // tRPC reads it with a token for that scope).
  const pullFaces = { rest: faces.rest, trpc: await trpcFace(server, 'rest-push') };
  const pullAll = async (name: 'rest' | 'trpc') => {
    let since: string | null = null;
    let n = 0;
    const started = performance.now();
    for (;;) {
      const page = await pullFaces[name].pull(since);
      n += page.changes.length;
      since = page.checkpoint;
      if (!page.hasMore) break;
    }
    return { n, ms: performance.now() - started };
  };
  const pulled = { rest: { n: 0, ms: 0 }, trpc: { n: 0, ms: 0 } };
  for (const name of ['rest', 'trpc'] as const) await pullAll(name); // warm-up
  for (let r = 0; r < 3; r++) {
    for (const name of ['rest', 'trpc'] as const) {
      const { n, ms } = await pullAll(name);
      pulled[name].n += n;
      pulled[name].ms += ms;
    }
  }
  const rate = (n: number, ms: number) => n / (ms / 1000);
  return [
    throughput(
      'rest.push.throughput',
      rate(measured * BATCH, pushMs.rest),
      'docs/s',
      rate(measured * BATCH, pushMs.trpc),
    ),
    throughput(
      'rest.pull.throughput',
      rate(pulled.rest.n, pulled.rest.ms),
      'changes/s',
      rate(pulled.trpc.n, pulled.trpc.ms),
    ),
  ];
}
