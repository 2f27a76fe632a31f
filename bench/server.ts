/** The benchmark's server process: the one-port sync server (tRPC + REST + WS) on 127.0.0.1:0, driven over IPC. */
import WebSocket, { WebSocketServer } from 'ws';
import { decodeCheckpoint } from '../shared/checkpoint.js';
import { jwtAuthenticator } from '../server/auth/jwt.js';
import { createAppRouter } from '../server/demo/app-router.js';
import { createSyncHttpServer } from '../server/http/server.js';
import type { EngineFor } from '../server/trpc/inputs.js';
import type { DemoSchema } from '../server/demo/schema.js';
import { openPglite, openPostgres, type BenchDb } from './db.js';
import { benchEngine, seedDocs } from './data.js';
import { rawScan } from './full.js';
import { collectGarbage } from './memory.js';
import { BENCH_SECRET } from './tokens.js';

/** Requests the parent sends; each is answered with `{ id, ok, value | error }`. */
export type ServerRequest =
  | { op: 'seed'; scope: string; count: number }
  | { op: 'rawScan'; scope: string }
  | { op: 'gc' }
  | { op: 'recordCommits'; scope: string }
  | { op: 'commitTimes' }
  | { op: 'sendLatencies' }
  | { op: 'rawWsPort' }
  | { op: 'rawBroadcast'; bytes: number; k: number }
  | { op: 'close' };

/** Warnings of the server under test are real findings: print each distinct one once, with a count at exit. */
function dedupeWarnings(): void {
  const seen = new Map<string, number>();
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    const key = `${warning.name}: ${warning.message}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (n === 1) console.error(`[bench server] ${key}`);
  });
  process.on('exit', () => {
    for (const [key, n] of seen) if (n > 1) console.error(`[bench server] (${n}x) ${key}`);
  });
}

/**
 * Server-side send times: every `ws` send made while recording, stamped right after `send()`
 * returned (the frame was handed to the kernel, or queued behind an earlier one), keyed by the
 * payload so each distinct frame is parsed once afterwards. Measures the server's fan-out alone,
 * without the bench clients' receive/parse cost.
 */
const sends = new Map<unknown, number[]>();
let recordingSends = false;
const originalSend = WebSocket.prototype.send;
WebSocket.prototype.send = function send(this: WebSocket, data: unknown, ...rest: unknown[]) {
  (originalSend as (...args: unknown[]) => void).call(this, data, ...rest);
  if (!recordingSends) return;
  const at = performance.timeOrigin + performance.now();
  let times = sends.get(data);
  if (!times) sends.set(data, (times = []));
  times.push(at);
} as typeof WebSocket.prototype.send;

async function main(): Promise<void> {
  dedupeWarnings();
  const url = process.env.BENCH_SERVER_DB_URL;
  const db: BenchDb = url ? await openPostgres(url) : await openPglite();
  const engine = benchEngine(db.store);
  const http = createSyncHttpServer({
    engine,
    authenticate: jwtAuthenticator({ secret: BENCH_SECRET }),
    router: createAppRouter(engine as unknown as EngineFor<DemoSchema>),
  });
  const { port } = await http.listen(0, '127.0.0.1');
  /** Commit times (epoch ms, sub-ms precision) by seq of the recorded scope, taken right after COMMIT. */
  const commits = new Map<number, number>();
  let unlisten: (() => void) | null = null;
  /**
   * The fan-out baseline: a bare `ws` server in this same process, to which the bench connects the
   * same number of sockets; one pre-encoded frame of a `changes` frame's size is sent to all of
   * them in a plain loop. No engine, no stream, no auth: the transport's own cost on this machine.
   */
  let raw: WebSocketServer | null = null;

  const handle = async (req: ServerRequest): Promise<unknown> => {
    switch (req.op) {
      case 'seed':
        // VACUUM ANALYZE: neither the raw scan nor the export pays for hint bits or stale statistics.
        await seedDocs(db.store, req.scope, req.count);
        return db.raw.query(`VACUUM ANALYZE ${db.table('sync_docs')}`);
      case 'rawScan': {
        const started = performance.now();
        const docs = await rawScan(db, req.scope);
        return { ms: performance.now() - started, docs };
      }
      case 'gc':
        return collectGarbage();
      case 'recordCommits':
        unlisten?.();
        commits.clear();
        sends.clear();
        recordingSends = true;
        unlisten = db.store.onEvent((event) => {
          if (event.type === 'commit' && event.scope === req.scope)
            commits.set(event.seq, performance.timeOrigin + performance.now());
        });
        return null;
      case 'commitTimes':
        return [...commits.entries()];
      case 'sendLatencies': {
        // commit → send() returned, for every `changes` frame of a recorded commit.
        recordingSends = false;
        const out: Array<[seq: number, latencyMs: number]> = [];
        for (const [data, times] of sends) {
          const event = JSON.parse(String(data)) as { type: string; checkpoint?: string };
          if (event.type !== 'changes' || !event.checkpoint) continue;
          const seq = decodeCheckpoint(event.checkpoint)!.seq;
          const committed = commits.get(seq);
          if (committed !== undefined) for (const t of times) out.push([seq, t - committed]);
        }
        sends.clear();
        return out;
      }
      case 'rawWsPort': {
        if (!raw) {
          const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
          await new Promise<void>((resolve) => server.once('listening', () => resolve()));
          raw = server;
        }
        return (raw.address() as { port: number }).port;
      }
      case 'rawBroadcast': {
        const head = `{"type":"raw","k":${req.k},"pad":"`;
        const payload = Buffer.from(
          `${head}${'x'.repeat(Math.max(0, req.bytes - head.length - 2))}"}`,
          'utf8',
        );
        const t0 = performance.timeOrigin + performance.now();
        for (const client of raw?.clients ?? [])
          client.send(payload, { binary: false, compress: false, fin: true });
        return { t0 };
      }
      case 'close':
        unlisten?.();
        if (raw) {
          for (const client of raw.clients) client.terminate();
          await new Promise<void>((resolve) => raw!.close(() => resolve()));
        }
        await http.close();
        await engine.close();
        await db.close();
        setImmediate(() => process.exit(0));
        return null;
    }
  };
  process.on('message', (message: { id: number; req: ServerRequest }) => {
    handle(message.req).then(
      (value) => process.send!({ id: message.id, ok: true, value }),
      (error: unknown) =>
        process.send!({
          id: message.id,
          ok: false,
          error: String((error as Error)?.stack ?? error),
        }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready: true, port, kind: db.kind });
}

if (process.env.BENCH_SERVER_CHILD === '1' && process.send) {
  main().catch((error) => {
    console.error('bench server failed:', error);
    process.exit(1);
  });
}
