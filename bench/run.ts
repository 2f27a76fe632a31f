/** `npm run bench`: every benchmark group in turn, a table with targets, and `bench/results.json`. */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { startServer, type ServerProcess } from './child.js';
import { databaseUrl, openPglite, openPostgres, type BenchDb } from './db.js';
import { benchBundle } from './bundle.js';
import { benchClientFull, benchClientLocal, benchClientSync } from './client.js';
import { benchFanout } from './fanout.js';
import { benchFull, FULL_PAGE } from './full.js';
import { benchHostile } from './hostile.js';
import { benchIntegrity } from './integrity.js';
import { benchRestVsTrpc, benchTrpcLatency } from './http.js';
import { collectGarbage } from './memory.js';
import { benchPull } from './pull.js';
import { benchPush } from './push.js';
import { benchRestFull } from './rest-full.js';
import { benchServerRss } from './server-rss.js';
import { benchViews } from './views.js';
import { formatTable, type BenchResult } from './stats.js';

const results: BenchResult[] = [];
const failures: string[] = [];
const started = performance.now();

const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;

/** Runs one group; a failing group is reported and the others still run. */
async function group(name: string, fn: () => Promise<BenchResult[]>): Promise<void> {
  const t = performance.now();
  console.log(`[${elapsed()}] ${name}`);
  try {
    const out = await fn();
    results.push(...out);
    console.log(
      `    ${((performance.now() - t) / 1000).toFixed(1)}s: ${out.map((r) => `${r.name}=${r.value}${r.ratio === null ? '' : ` (x${r.ratio})`}`).join(', ')}`,
    );
  } catch (error) {
    failures.push(name);
    console.log(`    FAILED: ${(error as Error)?.stack ?? error}`);
  }
}

/** push → pull (of what was pushed) → full, on one database, names prefixed by `prefix`. */
async function storeGroups(open: () => Promise<BenchDb>, prefix: string): Promise<void> {
  const db = await open();
  try {
    let pushed = { scope: 'push', docs: 0 };
    await group(`${prefix}push.batch50`, async () => {
      const out = await benchPush(db, prefix, 6000);
      pushed = out;
      return out.results;
    });
    await group(`${prefix}pull.500`, () => benchPull(db, prefix, pushed.scope, 4000));
    collectGarbage();
    await group(`${prefix}integrity (checksums on vs off)`, async () =>
      (await benchIntegrity(db, 8000)).map((r) => ({ ...r, name: `${prefix}${r.name}` })),
    );
    await group(`${prefix}full.100k`, () => benchFull(db, prefix));
  } finally {
    await db.close();
  }
}

/** Groups against the server process (tRPC, REST, WebSocket). */
async function serverGroups(
  url: string | undefined,
  fn: (server: ServerProcess) => Promise<void>,
): Promise<void> {
  const server = await startServer(url);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/** Runs `fn` on a fresh database, closed after. */
async function withDb<T>(
  open: () => Promise<BenchDb>,
  fn: (db: BenchDb) => Promise<T>,
): Promise<T> {
  const db = await open();
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Groups that run alone when named (`npm run bench -- hostile`); the results file is then left as it is. */
const ALONE: Record<string, { title: string; run: () => Promise<BenchResult[]> }> = {
  hostile: {
    title: 'hostile (costly requests refused by the CLI server)',
    run: () => benchHostile(),
  },
  integrity: {
    title: 'integrity (checksums on vs off, PGlite)',
    run: () => withDb(openPglite, (db) => benchIntegrity(db, 8000)),
  },
  views: {
    title: 'views (read rules: 100k tasks, 1,000 users seeing 1 % each)',
    run: () => runViews(),
  },
};

/** The views group: on PostgreSQL when TEST_DATABASE_URL (or BENCH_DATABASE_URL) is set, else PGlite. */
function runViews(): Promise<BenchResult[]> {
  const url = process.env.TEST_DATABASE_URL || databaseUrl();
  return url
    ? withDb(
        () => openPostgres(url),
        (db) => benchViews(db, 'pg.'),
      )
    : withDb(openPglite, (db) => benchViews(db, 'pglite.'));
}

async function main(): Promise<void> {
  const named = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  if (named.length > 0) {
    const unknown = named.filter((n) => !ALONE[n]);
    if (unknown.length > 0)
      throw new Error(
        `unknown bench group ${unknown.join(', ')} (alone: ${Object.keys(ALONE).join(', ')})`,
      );
    for (const n of named) await group(ALONE[n]!.title, ALONE[n]!.run);
    console.log(`\n${formatTable(results)}\n`);
    if (failures.length > 0) process.exitCode = 1;
    return;
  }
  const pgUrl = databaseUrl();
  const gc = collectGarbage();
  console.log(
    `trpc-offline-sync bench — node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`,
  );
  console.log(
    `full exports use pages of ${FULL_PAGE}; gc ${gc ? 'available (set at run time)' : 'NOT available: RSS numbers include garbage'}; PostgreSQL: ${pgUrl ? 'yes' : 'no (set BENCH_DATABASE_URL)'}\n`,
  );

  await group('server.rss (embedded server as npm start runs it)', () => benchServerRss());
  await group(ALONE.hostile!.title, ALONE.hostile!.run);
  await storeGroups(openPglite, '');
  await group(ALONE.views!.title, ALONE.views!.run);
  await group('client.bundle', () => benchBundle());
  await group('client.local', () => benchClientLocal());
  collectGarbage();
  {
    const db = await openPglite();
    try {
      await group('client.sync.10k (embedded server)', () => benchClientSync(db));
      collectGarbage();
      await group('client.full.100k', () => benchClientFull(db));
    } finally {
      await db.close();
    }
  }
  await serverGroups(undefined, async (server) => {
    await group('trpc.push.latency', () => benchTrpcLatency(server, 300));
    await group('rest vs trpc', () => benchRestVsTrpc(server, 60));
    await group('rest.full.100k', () => benchRestFull(server));
    if (!pgUrl) await group('pglite.fanout.1000', () => benchFanout(server, 'pglite.'));
  });
  if (pgUrl) {
    await storeGroups(() => openPostgres(pgUrl), 'pg.');
    await serverGroups(pgUrl, async (server) => {
      await group('fanout.1000 (PostgreSQL)', () => benchFanout(server, ''));
    });
  }

  const file = fileURLToPath(new URL('./results.json', import.meta.url));
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${formatTable(results)}\n`);
  console.log(`wrote ${file} (${results.length} entries) in ${elapsed()}`);
  if (failures.length > 0) {
    console.error(`failed groups: ${failures.join(', ')}`);
    process.exitCode = 1;
  }
}

await main();
