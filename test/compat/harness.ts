/** Test fixtures for the fastapi-offline-sync face: the demo server (tRPC + REST + compat) on 127.0.0.1, and a client of the old wire format. */
import WebSocket from 'ws';
import { memoryStore } from '../../server/stores/memory.js';
import { pgliteStore } from '../../server/stores/postgres/index.js';
import type { Store } from '../../server/stores/store.js';
import { api, throwawayPostgresStore } from '../rest/harness.js';

/** The stores the compat suites run on: memory, PGlite, and PostgreSQL when TEST_DATABASE_URL is set (a fresh schema each). */
export const compatStores: { name: string; create: () => Promise<Store> }[] = [
  { name: 'memory', create: async () => memoryStore() },
  { name: 'pglite', create: async () => pgliteStore() },
  ...(process.env.TEST_DATABASE_URL
    ? [{ name: 'postgres', create: () => postgresCase(process.env.TEST_DATABASE_URL!) }]
    : []),
];

async function postgresCase(url: string): Promise<Store> {
  return throwawayPostgresStore(url, 'compat');
}

/** Where the demo server mounts the compat face. */
export const COMPAT = '/compat/fastapi-offline-sync';

/** A JSON request to the compat face. */
export function call(
  base: string,
  path: string,
  init: { token?: string; body?: unknown; method?: string; headers?: Record<string, string> } = {},
) {
  return api(base, `${COMPAT}${path}`, init);
}

/** A WebSocket to `…/sync/stream` collecting every frame; `closed` resolves with the close code. */
export function openStream(port: number, query = '') {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${COMPAT}/sync/stream${query}`);
  const frames: any[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return { ws, frames, opened, closed, send: (v: unknown) => ws.send(JSON.stringify(v)) };
}

/** Every page of `GET /sync/full` read through `X-Sync-Cursor`: the lines and the final `X-Sync-LastSeq`. */
export async function readFull(base: string, token: string, limit = 2) {
  const lines: any[] = [];
  let cursor: string | null = null;
  let lastSeq = '';
  let pages = 0;
  const encodings: (string | null)[] = [];
  do {
    const q: URLSearchParams = new URLSearchParams({
      limit: String(limit),
      ...(cursor ? { cursor } : {}),
    });
    const res: Response = await fetch(`${base}${COMPAT}/sync/full?${q}`, {
      headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'gzip' },
    });
    if (res.status !== 200) throw new Error(`full: ${res.status} ${await res.text()}`);
    encodings.push(res.headers.get('content-encoding'));
    const seq = res.headers.get('x-sync-lastseq')!;
    if (pages > 0 && seq !== lastSeq)
      throw new Error('X-Sync-LastSeq changed between pages of one export');
    lastSeq = seq;
    cursor = res.headers.get('x-sync-cursor');
    for (const line of (await res.text()).split('\n'))
      if (line.trim()) lines.push(JSON.parse(line));
    pages++;
  } while (cursor);
  return { lines, lastSeq, pages, encodings };
}
