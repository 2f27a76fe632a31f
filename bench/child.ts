/** Parent side of the server process: fork it (tsx loader), wait for its port, send requests over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServerRequest } from './server.js';

/** A running benchmark server process. */
export interface ServerProcess {
  pid: number;
  port: number;
  url: string;
  kind: 'pglite' | 'postgres';
  call<T = unknown>(req: ServerRequest): Promise<T>;
  close(): Promise<void>;
}

/** Forks `bench/server.ts`; with `databaseUrl` it serves a fresh PostgreSQL schema, else in-memory PGlite. */
export async function startServer(databaseUrl?: string): Promise<ServerProcess> {
  const script = fileURLToPath(new URL('./server.ts', import.meta.url));
  const root = fileURLToPath(new URL('..', import.meta.url));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    BENCH_SERVER_CHILD: '1',
  };
  if (databaseUrl) env.BENCH_SERVER_DB_URL = databaseUrl;
  else delete env.BENCH_SERVER_DB_URL;
  // Profiling the server alone, e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=.tmp/prof".
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = fork(script, [], {
    cwd: root,
    env,
    execArgv: ['--import', 'tsx', ...extra],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const ready = await new Promise<{ port: number; kind: 'pglite' | 'postgres' }>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`bench server exited early (code ${code})`)));
      child.on(
        'message',
        (message: {
          ready?: boolean;
          port: number;
          kind: 'pglite' | 'postgres';
          id?: number;
          ok?: boolean;
          value?: unknown;
          error?: string;
        }) => {
          if (message.ready) return resolve({ port: message.port, kind: message.kind });
          const waiter = message.id === undefined ? undefined : pending.get(message.id);
          if (!waiter) return;
          pending.delete(message.id!);
          if (message.ok) waiter.resolve(message.value);
          else waiter.reject(new Error(`bench server: ${message.error}`));
        },
      );
    },
  );
  child.removeAllListeners('exit');
  child.on('exit', () => {
    for (const waiter of pending.values()) waiter.reject(new Error('bench server exited'));
    pending.clear();
  });
  const call = <T>(req: ServerRequest) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, req });
    });
  return {
    pid: child.pid!,
    port: ready.port,
    url: `http://127.0.0.1:${ready.port}`,
    kind: ready.kind,
    call,
    async close() {
      const exited = new Promise<void>((resolve) =>
        child.exitCode !== null ? resolve() : child.once('exit', () => resolve()),
      );
      await call({ op: 'close' }).catch(() => undefined);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
