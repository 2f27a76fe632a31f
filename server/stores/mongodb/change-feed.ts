// One change stream per store on `sync_scopes`: tells this process of commits made by any process.
import type { ChangeStream, ChangeStreamOptions, Collection, Document, ResumeToken } from 'mongodb';
import type { StoreEvent } from '../store.js';
import type { ScopeDoc } from './collections.js';

/**
 * Only updates that move a scope's `seq` are commits (`setHead`); the lock bump, the horizon and
 * the collection list are other updates of the same documents and are filtered out server-side.
 */
const PIPELINE: Document[] = [
  { $match: { operationType: 'update', 'updateDescription.updatedFields.seq': { $exists: true } } },
  { $project: { documentKey: 1, 'updateDescription.updatedFields.seq': 1 } },
];

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 30_000;

/**
 * Tails `sync_scopes` and emits `{ type: 'commit', scope, seq }` for every commit. The driver
 * resumes by itself after resumable errors; after any other error the feed reopens after the last
 * resume token and emits `{ type: 'reset' }` once the new stream is established, because listeners
 * cannot tell what happened in between. A token the server no longer knows is dropped and the feed
 * starts from now (the reset makes listeners re-read heads).
 */
export class ChangeFeed {
  #stream: ChangeStream<ScopeDoc, Document> | null = null;
  #token: ResumeToken | undefined;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running = false;
  #backoffMs = MIN_BACKOFF_MS;

  constructor(
    private readonly scopes: Collection<ScopeDoc>,
    private readonly emit: (event: StoreEvent) => void,
  ) {}

  /** Opens the stream (no-op when open). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#open(false);
  }

  /** Closes the stream and cancels a pending reopen. */
  async stop(): Promise<void> {
    this.#running = false;
    // A later start() begins from now: commits made while nobody listened concern nobody.
    this.#token = undefined;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const stream = this.#stream;
    this.#stream = null;
    await stream?.close().catch(() => undefined);
  }

  #open(reopened: boolean): void {
    const resumedFrom = this.#token;
    // startAfter (unlike resumeAfter) also resumes after an invalidate event.
    const options: ChangeStreamOptions = resumedFrom ? { startAfter: resumedFrom } : {};
    const stream = this.scopes.watch<ScopeDoc, Document>(PIPELINE, options);
    this.#stream = stream;
    let established = false;

    // Fired with the initial post-batch token too, so it also marks the stream as established.
    stream.on('resumeTokenChanged', (token) => {
      this.#token = token;
      if (!established) {
        established = true;
        this.#backoffMs = MIN_BACKOFF_MS;
        if (reopened) this.emit({ type: 'reset' });
      }
    });
    stream.on('change', (change) => {
      if (change.operationType === 'invalidate') return; // the stream closes and errors next; handled there
      const scope = (change.documentKey as { _id?: unknown } | undefined)?._id;
      const seq = (change.updateDescription as { updatedFields?: { seq?: unknown } } | undefined)?.updatedFields?.seq;
      if (typeof scope === 'string' && typeof seq === 'number') this.emit({ type: 'commit', scope, seq });
    });
    stream.on('error', () => {
      if (this.#stream !== stream) return;
      this.#stream = null;
      void stream.close().catch(() => undefined);
      // A token that failed before the stream ever started is likely gone from the server's oplog.
      if (!established && resumedFrom) this.#token = undefined;
      this.#scheduleReopen();
    });
  }

  #scheduleReopen(): void {
    if (!this.#running || this.#timer) return;
    const delay = this.#backoffMs * (0.5 + Math.random() / 2);
    this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#running) this.#open(true);
    }, delay);
    this.#timer.unref?.();
  }
}
