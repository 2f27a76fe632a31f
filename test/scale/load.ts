/** Load for the scale tests: REST writers with same-id retries, and observers (pull loop, SSE, raw WS) that resume from their last checkpoint and record every delivery. */
import WebSocket from 'ws';
import { sleep } from './cluster.js';

/** One change as pull and stream deliver it (only the fields the checks use). */
interface ChangeOut {
  collection: string;
  id: string;
  op: string;
}

/** Doc ids of a writer's batch: `w<writer>-b<batch>-c<i>`; the batch id is the part before `-c`. */
export const docId = (writer: number, batch: number, i: number) => `w${writer}-b${batch}-c${i}`;
export const batchOf = (id: string) => id.slice(0, id.lastIndexOf('-c'));

/** What a writer did with one batch. */
export interface BatchRecord {
  batch: string;
  ids: string[];
  /** HTTP 200 received, every change accepted (or, on a retry, duplicate of an accepted one). */
  acked: boolean;
  /** Requests sent for it (1 unless retried). */
  attempts: number;
  /** Why the last failed attempt failed (HTTP 5xx, connection refused...). */
  lastFailure?: string;
}

/** Options of one writer. */
export interface WriterOptions {
  writer: number;
  token: string;
  /** The server to push to; may change between attempts (e.g. after the first one died). */
  base: () => string;
  /** Batches `firstBatch` .. `batches - 1` are pushed. @default 0 */
  firstBatch?: number;
  batches: number;
  changesPerBatch: number;
  /** Retry a failed push with the same body (same mutationIds) until this deadline; else give up on the first failure. */
  retryUntil?: number;
  /** Called after each acknowledged push. */
  onAck?: () => void;
}

/** A writer's log: one record per batch it attempted. */
export type WriterLog = BatchRecord[];

/** Pushes `batches` atomic batches of distinct new docs; stops at the first unretried failure. */
export async function runWriter(o: WriterOptions, signal?: AbortSignal): Promise<WriterLog> {
  const log: WriterLog = [];
  const clientId = `writer-${o.writer}`;
  for (let b = o.firstBatch ?? 0; b < o.batches && !signal?.aborted; b++) {
    const ids = Array.from({ length: o.changesPerBatch }, (_, i) => docId(o.writer, b, i));
    const body = JSON.stringify({
      clientId,
      changes: ids.map((id, i) => ({
        mutationId: b * o.changesPerBatch + i + 1,
        collection: 'tasks',
        id,
        op: 'upsert',
        data: { title: id },
        baseVersion: null,
      })),
    });
    const record: BatchRecord = { batch: batchOf(ids[0]!), ids, acked: false, attempts: 0 };
    log.push(record);
    for (let attempt = 0; ; attempt++) {
      record.attempts++;
      let failure: string;
      try {
        const res = await fetch(`${o.base()}/sync/push`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}` },
          body,
          signal: AbortSignal.timeout(15_000),
        });
        const text = await res.text();
        if (res.status === 200) {
          const { results } = JSON.parse(text) as {
            results: { status: string; original?: string }[];
          };
          const ok =
            results.length === ids.length &&
            results.every(
              (r) =>
                r.status === 'accepted' || (r.status === 'duplicate' && r.original === 'accepted'),
            );
          if (!ok)
            throw new Error(`writer ${o.writer}: unexpected push results ${text.slice(0, 300)}`);
          record.acked = true;
          o.onAck?.();
          break;
        }
        if (res.status < 500)
          throw new Error(`writer ${o.writer}: push answered ${res.status}: ${text.slice(0, 300)}`);
        failure = `HTTP ${res.status}`;
      } catch (error) {
        if (error instanceof Error && error.message.startsWith(`writer ${o.writer}:`)) throw error;
        failure = String((error as Error)?.message ?? error);
      }
      record.lastFailure = failure;
      if (o.retryUntil === undefined || Date.now() > o.retryUntil) return log;
      await sleep(Math.min(1000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2));
    }
  }
  return log;
}

/**
 * What one observer saw: each delivery (one pull response or one stream event) as a list of doc
 * ids, plus how often it had to reconnect or retry.
 */
export class Observer {
  readonly deliveries: string[][] = [];
  readonly counts = new Map<string, number>();
  checkpoint = '';
  reconnects = 0;
  errors: string[] = [];
  #stopped = false;
  #stop = new AbortController();
  #done: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly base: string,
    readonly token: string,
  ) {}

  get stopped(): boolean {
    return this.#stopped;
  }

  #connection = new AbortController();

  /** A fresh signal for one connection: aborted by `stop()` or by `drop()`. */
  protected connectionSignal(): AbortSignal {
    this.#connection = new AbortController();
    return AbortSignal.any([this.#stop.signal, this.#connection.signal]);
  }

  /** Cuts the current connection (as a network blip would); the observer resumes from its checkpoint. */
  drop(): void {
    this.#connection.abort();
  }

  /** Records one delivery of whole commits. */
  protected record(changes: ChangeOut[], checkpoint: string): void {
    if (changes.length > 0) {
      const ids = changes.map((c) => c.id);
      this.deliveries.push(ids);
      for (const id of ids) this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    }
    this.checkpoint = checkpoint;
  }

  start(): this {
    this.#done = this.loop().catch((error) => {
      if (!this.#stopped) this.errors.push(String(error));
    });
    return this;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stop.abort();
    await this.#done;
  }

  /** True once every id in `ids` was seen at least once. */
  sawAll(ids: Iterable<string>): boolean {
    for (const id of ids) if (!this.counts.has(id)) return false;
    return true;
  }

  protected async loop(): Promise<void> {
    throw new Error('abstract');
  }

  /** Waits before a reconnect (bounded backoff), unless stopped. */
  protected async backoff(attempt: number): Promise<void> {
    await sleep(Math.min(1000, 50 * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random() / 2));
  }
}

/** Incremental reader: `GET /sync/pull?since=<checkpoint>` in a loop (small pages), retrying on any failure. */
export class PullObserver extends Observer {
  constructor(
    name: string,
    base: string,
    token: string,
    readonly limit = 37,
  ) {
    super(name, base, token);
  }

  protected override async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        const url = `${this.base}/sync/pull?limit=${this.limit}${this.checkpoint ? `&since=${encodeURIComponent(this.checkpoint)}` : ''}`;
        const res = await fetch(url, {
          headers: { authorization: `Bearer ${this.token}` },
          signal: AbortSignal.any([this.connectionSignal(), AbortSignal.timeout(15_000)]),
        });
        const text = await res.text();
        if (res.status !== 200) {
          if (res.status < 500)
            throw new Error(`${this.name}: pull answered ${res.status}: ${text.slice(0, 300)}`);
          throw Object.assign(new Error(`HTTP ${res.status}`), { retry: true });
        }
        const page = JSON.parse(text) as {
          changes: ChangeOut[];
          checkpoint: string;
          hasMore: boolean;
        };
        this.record(page.changes, page.checkpoint);
        failures = 0;
        if (!page.hasMore) await sleep(40);
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof Error && error.message.startsWith(`${this.name}:`)) throw error;
        this.reconnects++;
        await this.backoff(failures++);
      }
    }
  }
}

/** SSE subscriber on `GET /sync/stream`; after a drop or an `error` event it reconnects with `Last-Event-ID` = its last checkpoint. */
export class SseObserver extends Observer {
  protected override async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        const headers: Record<string, string> = {
          accept: 'text/event-stream',
          authorization: `Bearer ${this.token}`,
        };
        if (this.checkpoint) headers['last-event-id'] = this.checkpoint;
        const res = await fetch(`${this.base}/sync/stream`, {
          headers,
          signal: this.connectionSignal(),
        });
        if (res.status !== 200) {
          const text = await res.text();
          if (res.status < 500)
            throw new Error(`${this.name}: stream answered ${res.status}: ${text.slice(0, 300)}`);
          throw new Error(`HTTP ${res.status}`);
        }
        const reader = res.body!.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end: number;
          let ended = false;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let event = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) event = line.slice(6).trim();
              else if (line.startsWith('data:')) data += line.slice(5).replace(/^ /, '');
            }
            if (!data) continue;
            const parsed = JSON.parse(data) as {
              type: string;
              checkpoint?: string;
              changes?: ChangeOut[];
            };
            failures = 0;
            if (event === 'changes') this.record(parsed.changes ?? [], parsed.checkpoint!);
            else if (event === 'resync_required')
              throw new Error(`${this.name}: resync_required ${data}`);
            else if (event === 'error') ended = true; // the server ends the stream after an error event: resume
          }
          if (ended) {
            await reader.cancel().catch(() => undefined);
            break;
          }
        }
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof Error && error.message.startsWith(`${this.name}:`)) throw error;
      }
      if (this.stopped) return;
      this.reconnects++;
      await this.backoff(failures++);
    }
  }
}

/** Raw WebSocket subscriber on `WS /sync/stream`; reconnects with `lastEventId` = its last checkpoint. */
export class WsObserver extends Observer {
  protected override async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const fatal = await new Promise<Error | null>((resolve) => {
        const ws = new WebSocket(`${this.base.replace(/^http/, 'ws')}/sync/stream`);
        const onAbort = () => ws.terminate();
        const signal = this.connectionSignal();
        signal.addEventListener('abort', onAbort, { once: true });
        let settled: Error | null = null;
        ws.on('open', () =>
          ws.send(
            JSON.stringify({
              type: 'subscribe',
              token: this.token,
              lastEventId: this.checkpoint || null,
            }),
          ),
        );
        ws.on('message', (raw) => {
          const event = JSON.parse(raw.toString()) as {
            type: string;
            checkpoint?: string;
            changes?: ChangeOut[];
          };
          failures = 0;
          if (event.type === 'changes') this.record(event.changes ?? [], event.checkpoint!);
          else if (event.type === 'resync_required') {
            settled = new Error(`${this.name}: resync_required ${raw.toString()}`);
            ws.terminate();
          } else if (
            event.type === 'error' &&
            (event as { error?: { code?: string } }).error?.code !== 'INTERNAL'
          ) {
            settled = new Error(`${this.name}: ${raw.toString()}`);
          }
        });
        ws.on('error', () => undefined); // 'close' follows
        ws.on('close', () => {
          signal.removeEventListener('abort', onAbort);
          resolve(settled);
        });
      });
      if (fatal) throw fatal;
      if (this.stopped) return;
      this.reconnects++;
      await this.backoff(failures++);
    }
  }
}

/** Problems of one observer against the expected set of docs: missing, duplicated, unexpected, and batches split across deliveries. */
export function checkObserver(o: Observer, expected: Set<string>): string[] {
  const problems: string[] = [...o.errors.map((e) => `${o.name}: ${e}`)];
  const missing = [...expected].filter((id) => !o.counts.has(id));
  const dup = [...o.counts].filter(([, n]) => n > 1);
  const extra = [...o.counts.keys()].filter((id) => !expected.has(id));
  if (missing.length)
    problems.push(`${o.name}: ${missing.length} missing, e.g. ${missing.slice(0, 5).join(', ')}`);
  if (dup.length)
    problems.push(
      `${o.name}: ${dup.length} seen more than once, e.g. ${dup
        .slice(0, 5)
        .map(([id, n]) => `${id}×${n}`)
        .join(', ')}`,
    );
  if (extra.length)
    problems.push(`${o.name}: ${extra.length} unexpected, e.g. ${extra.slice(0, 5).join(', ')}`);
  // Each push's changes arrive together: every batch id appears in exactly one delivery.
  const deliveriesOf = new Map<string, number>();
  for (const ids of o.deliveries) {
    for (const batch of new Set(ids.map(batchOf)))
      deliveriesOf.set(batch, (deliveriesOf.get(batch) ?? 0) + 1);
  }
  const split = [...deliveriesOf].filter(([, n]) => n > 1).map(([b]) => b);
  if (split.length)
    problems.push(
      `${o.name}: ${split.length} batches split across deliveries, e.g. ${split.slice(0, 5).join(', ')}`,
    );
  return problems;
}

/** Waits until every observer saw every expected id (or `timeoutMs`), then `settleMs` more for late duplicates. */
export async function waitForObservers(
  observers: Observer[],
  expected: Set<string>,
  timeoutMs: number,
  settleMs = 750,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    Date.now() < deadline &&
    !observers.every((o) => o.sawAll(expected) || o.errors.length > 0)
  )
    await sleep(50);
  await sleep(settleMs);
}

/** Every document of the scope via `GET /sync/full` (NDJSON pages), as id → deleted flag. */
export async function fullDocs(base: string, token: string): Promise<Map<string, boolean>> {
  const docs = new Map<string, boolean>();
  let cursor: string | null = null;
  do {
    const url: string = `${base}/sync/full?limit=10000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`full answered ${res.status}: ${await res.text()}`);
    for (const line of (await res.text()).split('\n')) {
      if (!line) continue;
      const doc = JSON.parse(line) as { id: string; deleted: boolean };
      if (docs.has(doc.id)) throw new Error(`full returned ${doc.id} twice`);
      docs.set(doc.id, doc.deleted);
    }
    cursor = res.headers.get('x-sync-cursor');
  } while (cursor);
  return docs;
}
