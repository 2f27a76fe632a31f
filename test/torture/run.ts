/**
 * One torture run: PostgreSQL (a private cluster when it can be restarted), N server processes,
 * the fault proxy, M client processes writing through it, the fault schedule, the last heal, the
 * drain, then the checker over every history against the server's oplog and `full` state.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freshDatabase, startServer, tokenFor, type ServerProcess } from '../scale/cluster.js';
import { startPrivateCluster, type PrivateCluster } from '../scale/pg-control.js';
import { checkRun, describeFailure, type CheckResult } from './checker.js';
import { ClientHandle } from './clients.js';
import { FaultSchedule, type FaultKind } from './faults.js';
import { readHistory, type HistoryEvent } from './history.js';
import { describeOptions, type TortureOptions } from './options.js';
import { FaultProxy } from './proxy.js';
import { Rng } from './rng.js';
import { RULED } from './schema.js';
import { readFull, readLedger, readOplog } from './server-state.js';
import type { SeenDoc } from './history.js';

/** Every server serves the torture schema and its read rules (`jobs` only through views). */
const SERVE_ARGS = ['--schema', 'test/torture/schema.ts'];
const serve = (name: string, url: string) => startServer(name, url, 60_000, SERVE_ARGS);

/** The scope every client writes to. */
export const TENANT = 'torture';

/** What a run found. */
export interface TortureResult {
  options: TortureOptions;
  check: CheckResult;
  /** Faults injected, by kind (`client-offline`: episodes the clients chose; `heal`: partitions healed). */
  faults: Record<FaultKind | 'heal' | 'client-offline', number>;
  /** The slowest client's drain after the last heal (ms). */
  drainMs: number;
  seconds: number;
  /** The one-line summary (`torture: seed=… lost=0 duplicated=0 wedged=0 converged=yes`). */
  summary: string;
  /** Problems of the harness itself (a server that would not restart, …). */
  notes: string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs the whole thing; `log` gets progress lines. Rejects only when the harness itself cannot run. */
export async function runTorture(
  o: TortureOptions,
  log: (line: string) => void = () => undefined,
): Promise<TortureResult> {
  const t0 = Date.now();
  const notes: string[] = [];
  const dir = resolve(o.dir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(describeOptions(o));
  const rng = new Rng(o.seed);

  let cluster: PrivateCluster | null = null;
  let adminUrl = process.env.TEST_DATABASE_URL ?? '';
  if (o.pgRestarts) {
    const got = await startPrivateCluster().catch((e: Error) => e.message);
    if (typeof got === 'string') notes.push(`no PostgreSQL restarts: ${got}`);
    else [cluster, adminUrl] = [got, got.url];
  }
  if (!adminUrl)
    throw new Error('torture: needs TEST_DATABASE_URL or a private PostgreSQL cluster (root)');
  const db = await freshDatabase(adminUrl, 'torture');
  const servers: (ServerProcess | null)[] = [];
  const clients: ClientHandle[] = [];
  const proxy = new FaultProxy(o.clients, o.servers, (s) => servers[s]?.port ?? null, rng);
  try {
    servers.push(
      ...(await Promise.all(Array.from({ length: o.servers }, (_, s) => serve(`s${s}`, db.url)))),
    );
    await proxy.start();
    const changesPerOp = 1.35; // a putMany writes 2–4 documents
    const intervalMs = Math.max(
      20,
      Math.round((o.duration * 1000 * o.clients * changesPerOp) / Math.max(1, o.writes)),
    );
    for (let c = 0; c < o.clients; c++) {
      const share = Math.floor(o.writes / o.clients) + (c < o.writes % o.clients ? 1 : 0);
      clients.push(
        new ClientHandle({
          index: c,
          seed: o.seed,
          dbPath: join(dir, `c${c}.sqlite`),
          historyPath: join(dir, `c${c}.jsonl`),
          ports: proxy.portsOf(c),
          token: await tokenFor(`u${c}`, TENANT),
          writes: share,
          intervalMs,
          docs: o.docs,
          users: o.clients,
        }),
      );
    }
    await Promise.all(clients.map((c) => c.start()));
    log(
      `torture: ${o.servers} servers and ${o.clients} clients up after ${((Date.now() - t0) / 1000).toFixed(1)} s; writing`,
    );

    const schedule = new FaultSchedule(
      {
        proxy,
        clients: o.clients,
        servers: o.servers,
        async killServer(s, downMs) {
          await servers[s]!.kill9();
          servers[s] = null;
          await sleep(downMs);
          servers[s] = await serve(`s${s}`, db.url);
        },
        async killClient(c, downMs) {
          await clients[c]!.kill9();
          await sleep(downMs);
          await clients[c]!.start();
        },
        restartPostgres: cluster ? () => cluster.restart() : null,
      },
      rng,
    );
    const totalFaults = o.faultsPerKind * schedule.kinds.length;
    const faultInterval =
      totalFaults > 0 ? Math.max(50, Math.floor((o.duration * 1000) / totalFaults)) : 1e9;
    const hardStop = t0 + 2 * o.duration * 1000 + 60_000;
    const progress = setInterval(
      () =>
        log(
          `torture: ${Math.round((Date.now() - t0) / 1000)} s, ${clients.filter((c) => c.wrote).length}/${o.clients} clients done writing, faults ${JSON.stringify(schedule.counts)}`,
        ),
      30_000,
    );
    try {
      await schedule.run(faultInterval, () => {
        if (Date.now() > hardStop) return true;
        const wrote = clients.every((c) => c.wrote);
        const enough = schedule.kinds.every((k) => schedule.counts[k] >= o.faultsPerKind);
        return wrote && (enough || totalFaults === 0);
      });
    } finally {
      clearInterval(progress);
    }
    notes.push(...schedule.log);
    if (!clients.every((c) => c.wrote))
      notes.push('the write phase hit its time bound before every client wrote its share');

    // The last heal: nothing held, no latency, every server and client process up.
    proxy.healAll();
    for (let s = 0; s < o.servers; s++)
      if (!servers[s] || servers[s]!.child.exitCode !== null)
        servers[s] = await serve(`s${s}`, db.url);
    for (const c of clients) if (!c.running) await c.start();
    log(
      `torture: last heal after ${((Date.now() - t0) / 1000).toFixed(1)} s, faults ${JSON.stringify(schedule.counts)}; draining`,
    );
    const healedAt = Date.now();
    const boundMs = o.convergeSeconds * 1000;
    for (const c of clients) c.order('drain', boundMs);
    await Promise.all(
      clients.map((c) =>
        c
          .waitFor('drained', boundMs + 30_000)
          .catch((e: Error) => void notes.push(e.message.split('\n')[0]!)),
      ),
    );
    for (const c of clients) c.order('final', 30_000);
    await Promise.all(
      clients.map((c) =>
        c.waitFor('final', 60_000).catch((e: Error) => void notes.push(e.message.split('\n')[0]!)),
      ),
    );
    const drainMs = Date.now() - healedAt;

    const token = await tokenFor('checker', TENANT);
    const full = await readFull(servers[0]!.base, token);
    const oplog = await readOplog(db.url, TENANT);
    const { outcomes: ledger, versions: ledgerVersions } = await readLedger(db.url, TENANT);
    const histories: HistoryEvent[][] = clients.map((c) => readHistory(c.config.historyPath));
    // Each client's views as the server answers them, with the client's own token (its actor).
    const views = new Map<number, SeenDoc[]>();
    for (const [c, events] of histories.entries()) {
      const final = events.findLast((e) => e.t === 'final');
      if (!final || final.t !== 'final') continue;
      const union = new Map<string, SeenDoc>();
      for (const v of final.views ?? []) {
        const answer = await readFull(servers[0]!.base, clients[c]!.config.token, {
          rule: v.rule,
          ...(v.params ? { params: v.params } : {}),
        });
        for (const d of answer.docs) union.set(`${d.c}/${d.id}`, d);
      }
      views.set(c, [...union.values()]);
    }
    const check = checkRun({
      histories,
      oplog,
      ledger,
      ledgerVersions,
      full: full.docs,
      ruled: RULED,
      views,
    });
    const faults = {
      ...schedule.counts,
      'client-offline': histories.reduce(
        (n, h) => n + h.filter((e) => e.t === 'offline').length,
        0,
      ),
    };
    const total = Object.entries(faults).reduce((n, [k, v]) => n + (k === 'heal' ? 0 : v), 0);
    const k = check.counts;
    const byKind = new Map<string, number>();
    for (const v of check.violations) byKind.set(v.kind, (byKind.get(v.kind) ?? 0) + 1);
    const violations =
      byKind.size === 0
        ? '0'
        : `${check.violations.length}(${[...byKind].map(([n, v]) => `${n}=${v}`).join(' ')})`;
    const summary =
      `torture: seed=${o.seed} clients=${o.clients} servers=${o.servers} writes=${k.writes} acked=${k.acked} superseded=${k.superseded} faults=${total} ` +
      `(${Object.entries(faults)
        .map(([n, v]) => `${n}=${v}`)
        .join(' ')}) ` +
      `lost=${k.lost} duplicated=${k.duplicated} phantom=${k.phantom} wedged=${k.wedged} converged=${k.converged === k.clients ? 'yes' : `${k.converged}/${k.clients}`} ` +
      `subscribes=${k.subscribes} unsubscribes=${k.unsubscribes} moves=${k.moves} view-docs=${k.viewDocs} integrity=${k.integrity} ` +
      `violations=${violations} drain=${(drainMs / 1000).toFixed(1)}s time=${Math.round((Date.now() - t0) / 1000)}s`;
    const result: TortureResult = {
      options: o,
      check,
      faults,
      drainMs,
      seconds: (Date.now() - t0) / 1000,
      summary,
      notes,
    };
    // What the server held, so the checker can be run again on this run's histories (checkRun in a REPL or test).
    writeFileSync(
      join(dir, 'server.json'),
      JSON.stringify({
        oplog,
        ledger: [...ledger],
        ledgerVersions: [...ledgerVersions],
        full: full.docs,
      }),
    );
    writeFileSync(
      join(dir, 'result.json'),
      JSON.stringify(
        { ...result, check: { ...check, violations: check.violations.slice(0, 200) } },
        null,
        2,
      ),
    );
    if (!check.ok) {
      const failure = describeFailure(o.seed, check);
      writeFileSync(join(dir, 'failure.txt'), failure + '\n');
      log(failure);
    }
    log(summary);
    return result;
  } finally {
    await Promise.all(clients.map((c) => c.kill9()));
    await Promise.all(servers.map((s) => s?.kill9()));
    await proxy.close();
    await db.drop().catch(() => undefined);
    if (cluster) await cluster.stop().catch(() => undefined);
  }
}
