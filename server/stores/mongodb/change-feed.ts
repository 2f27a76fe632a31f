// One change stream per store on `sync_scopes`: tells this process of commits made by any process.
import type { ChangeStreamOptions, Document, ResumeToken } from 'mongodb';
import type { StoreEvent } from '../store.js';

/**
 * Only updates that move a scope's `seq` are commits (`setHead`); the lock bump, the horizon and
 * the collection list are other updates of the same documents and are filtered out server-side.
 */
export const PIPELINE: Document[] = [
  { $match: { operationType: 'update', 'updateDescription.updatedFields.seq': { $exists: true } } },
  { $project: { documentKey: 1, 'updateDescription.updatedFields.seq': 1 } },
];

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 30_000;

/** What the feed needs of a driver `ChangeStream`: its events and `close()`. */
export interface ChangeStreamLike {
  on(event: 'resumeTokenChanged', listener: (token: ResumeToken) => void): unknown;
  on(event: 'change', listener: (change: Document) => void): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  on(event: 'close' | 'end', listener: () => void): unknown;
  close(): Promise<void>;
}

/** Opens a change stream (the store passes `scopes.watch(PIPELINE, options)`). */
export type OpenStream = (options: ChangeStreamOptions) => ChangeStreamLike;

/**
 * Tails `sync_scopes` and emits `{ type: 'commit', scope, seq }` for every commit. It emits
 * `{ type: 'reset' }` each time a stream is established, the first one included, because listeners
 * cannot tell what happened before it (or in between): they re-read heads. The driver resumes by
 * itself after resumable errors; after any other error, or when the stream ends without one (a
 * cursor killed on the server, an invalidate), the feed reopens after the last resume token with
 * backoff. A token the server no longer knows is dropped and the feed starts from now.
 */
export class ChangeFeed {
  #stream: ChangeStreamLike | null = null;
  #token: ResumeToken | undefined;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running = false;
  #backoffMs = MIN_BACKOFF_MS;

  constructor(
    private readonly open: OpenStream,
    private readonly emit: (event: StoreEvent) => void,
  ) {}

  /** Opens the stream (no-op when open). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#open();
  }

  /** Closes the stream and cancels a pending reopen. */
  async stop(): Promise<void> {
    this.#running = false;
    // A later start() begins from now (with a reset): commits made while nobody listened concern nobody.
    this.#token = undefined;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const stream = this.#stream;
    this.#stream = null;
    await stream?.close().catch(() => undefined);
  }

  #open(): void {
    const resumedFrom = this.#token;
    // startAfter (unlike resumeAfter) also resumes after an invalidate event.
    const options: ChangeStreamOptions = resumedFrom ? { startAfter: resumedFrom } : {};
    let stream: ChangeStreamLike;
    try {
      stream = this.open(options);
    } catch {
      this.#scheduleReopen();
      return;
    }
    this.#stream = stream;
    let established = false;

    // Fired with the initial post-batch token too, so it also marks the stream as established.
    stream.on('resumeTokenChanged', (token) => {
      if (this.#stream !== stream) return;
      this.#token = token;
      if (!established) {
        established = true;
        this.#backoffMs = MIN_BACKOFF_MS;
        this.emit({ type: 'reset' });
      }
    });
    stream.on('change', (change) => {
      if (this.#stream !== stream || change.operationType === 'invalidate') return; // the stream closes next; handled there
      const scope = (change.documentKey as { _id?: unknown } | undefined)?._id;
      const seq = (change.updateDescription as { updatedFields?: { seq?: unknown } } | undefined)
        ?.updatedFields?.seq;
      if (typeof scope === 'string' && typeof seq === 'number')
        this.emit({ type: 'commit', scope, seq });
    });
    const ended = (failed: boolean) => {
      if (this.#stream !== stream) return; // closed by stop(), or already handled
      this.#stream = null;
      void stream.close().catch(() => undefined);
      // A token that failed before the stream ever started is likely gone from the server's oplog.
      if (failed && !established && resumedFrom) this.#token = undefined;
      this.#scheduleReopen();
    };
    stream.on('error', () => ended(true));
    stream.on('close', () => ended(false));
    stream.on('end', () => ended(false));
  }

  #scheduleReopen(): void {
    if (!this.#running || this.#timer) return;
    const delay = this.#backoffMs * (0.5 + Math.random() / 2);
    this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#running) this.#open();
    }, delay);
    this.#timer.unref?.();
  }
}
