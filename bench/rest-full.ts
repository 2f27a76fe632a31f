/** `rest.full.100k`: a full export of 100k documents over `GET /sync/full` (NDJSON): first byte, docs/s vs raw scan, server RSS growth. */
import type { ServerProcess } from './child.js';
import { FULL_DOCS, FULL_PAGE } from './full.js';
import { detail, mb } from './detail.js';
import { RssSampler } from './memory.js';
import { measure, throughput, type BenchResult } from './stats.js';
import { benchToken } from './tokens.js';

/** Reads every page (`limit` = FULL_PAGE, identity encoding), counting NDJSON lines; times the first byte. */
async function exportOverRest(
  server: ServerProcess,
  scope: string,
): Promise<{ docs: number; ms: number; ttfbMs: number }> {
  const headers = {
    authorization: `Bearer ${await benchToken(scope)}`,
    'accept-encoding': 'identity',
  };
  const started = performance.now();
  let ttfbMs = Number.NaN;
  let cursor: string | null = null;
  let docs = 0;
  do {
    const query = new URLSearchParams({ limit: String(FULL_PAGE) });
    if (cursor) query.set('cursor', cursor);
    const res = await fetch(`${server.url}/sync/full?${query}`, { headers });
    if (!res.ok || !res.body) throw new Error(`GET /sync/full: ${res.status} ${await res.text()}`);
    cursor = res.headers.get('x-sync-cursor');
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (Number.isNaN(ttfbMs)) ttfbMs = performance.now() - started;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) docs++;
    }
  } while (cursor);
  return { docs, ms: performance.now() - started, ttfbMs };
}

/** Seeds the server's store, scans it raw in the server process, then exports it over REST. */
export async function benchRestFull(server: ServerProcess): Promise<BenchResult[]> {
  const scope = 'full';
  await server.call({ op: 'seed', scope, count: FULL_DOCS });
  const raw = await server.call<{ ms: number; docs: number }>({ op: 'rawScan', scope });
  await server.call({ op: 'gc' });
  const rss = new RssSampler(server.pid, 10);
  const run = await exportOverRest(server, scope);
  const growth = rss.stop();
  detail(
    `server RSS (child process ${server.pid}, /proc VmRSS): ${mb(rss.start)} MB at start, ${mb(rss.peak)} MB peak; raw scan in the server ${(raw.ms / 1000).toFixed(2)}s, REST export ${(run.ms / 1000).toFixed(2)}s`,
  );
  if (run.docs !== FULL_DOCS)
    throw new Error(`REST full export returned ${run.docs} documents, expected ${FULL_DOCS}`);
  return [
    measure('rest.full.100k.ttfb', run.ttfbMs, 'ms'),
    throughput('rest.full.100k', FULL_DOCS / (run.ms / 1000), 'docs/s', raw.docs / (raw.ms / 1000)),
    measure('rest.full.100k.rss_growth_mb', growth, 'MB'),
  ];
}
