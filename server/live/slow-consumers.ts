/**
 * The slow-consumer rule every live face applies: at most `stream.maxBufferedBytes` held for one
 * connection; past it (live) or past the engine's queue, the subscriber gets `resync_required`
 * and its connection is closed. Also where the live-connection caps are taken.
 */
import type { Actor, StreamEvent } from '../../shared/protocol.js';
import type { StreamWatch, SyncEngine } from '../engine/types.js';
import type { SyncGateway } from '../gateway/gateway.js';
import { defaultGateway } from './connections.js';

/** What the rule needs to know of one connection; see `wsTransport` and `responseTransport`. */
export interface LiveTransport {
  /** Names the connection for the caps: every subscription multiplexed on it passes the same object. */
  readonly connection: object;
  /** Bytes held for the peer that it has not taken yet. */
  buffered(): number;
  /** Resolves once the peer took some bytes, the connection closed, or after a short while (the caller re-checks). */
  drained(): Promise<void>;
  /** Cuts the connection at once (the queue overflowed while nobody was asking the stream for events). */
  cut(): void;
  /**
   * Closes the connection after a slow consumer's final `resync_required` was handed to it,
   * cutting it `graceMs` later if the peer still does not take it (absent: the face ends it).
   */
  closeSlow?(graceMs: number): void;
}

/** Options of `openLiveStream`. */
export interface LiveStreamOptions {
  engine: SyncEngine<any>;
  actor: Actor;
  input: unknown;
  signal?: AbortSignal;
  /** Name in metrics and logs. */
  face: 'sse' | 'ws' | 'trpc' | (string & {});
  /** The connection, or null when the face cannot see it (only the engine's queue bound applies). */
  transport: LiveTransport | null;
  /**
   * The gateway whose live caps and `maxBufferedBytes` apply (every face passes its own).
   * @default one default gateway per engine, with the engine's forwarded limits
   */
  gateway?: SyncGateway;
  /** The face's own default views (`StreamWatch.defaultViews`). @default the engine's */
  defaultViews?: StreamWatch['defaultViews'];
}

/** The engine's stream with the rule applied; iterate it once. */
export interface LiveStream extends AsyncIterableIterator<StreamEvent> {
  /** True when the stream ended because its subscriber was too slow (its last event is `resync_required`). */
  readonly slow: boolean;
  /** Ends the stream and releases its place in the caps (also when it was never iterated). */
  return(value?: unknown): Promise<IteratorResult<StreamEvent>>;
}

/**
 * Opens the engine's stream for a face. Throws before any event (the face answers 4xx) for what
 * `engine.stream()` refuses and for `TOO_MANY_REQUESTS` past the caps. While catching up, the
 * stream waits for a peer that holds more than `maxBufferedBytes`; once live it does not: it ends
 * with `resync_required` (`slow` set, `stream_overflow` reason `buffer`). An engine queue overflow
 * ends it the same way, even while it waits, and cuts the connection when its consumer has
 * stopped asking for events (a face that itself waits for the peer, like tRPC's SSE).
 */
export function openLiveStream(options: LiveStreamOptions): LiveStream {
  const { engine, actor, transport, signal, face } = options;
  const gateway = options.gateway ?? defaultGateway(engine);
  const bound = gateway.limits.maxBufferedBytes;
  let live = false;
  let overflowed = false;
  let slow = false;
  /** True while the consumer holds an event and has not asked for the next one. */
  let suspended = false;
  let finished = false;
  /**
   * Bytes the last event added to the transport. A frame bigger than the bound does not by itself
   * make a slow consumer: what counts is what is still held from before it.
   */
  let lastFrame = 0;
  const behind = (t: LiveTransport) => t.buffered() - lastFrame > bound;
  let wake: (() => void) | null = null;
  const watch: StreamWatch = {
    face,
    ...(options.defaultViews ? { defaultViews: options.defaultViews } : {}),
    onLive: () => {
      live = true;
    },
    onOverflow: () => {
      overflowed = true;
      if (wake) return wake();
      // A consumer that is merely between two events asks again within this turn; one that still
      // holds its event a macrotask later is stuck behind its peer, and only cutting frees it.
      if (suspended && transport)
        setImmediate(() => {
          if (suspended && !finished) {
            slow = true;
            transport.cut();
          }
        });
    },
  };
  const inner = engine.stream(actor, options.input, signal, watch)[Symbol.asyncIterator]();
  let release: () => void;
  try {
    release = gateway.live.acquire(actor, transport?.connection ?? {});
  } catch (error) {
    void inner.return?.();
    throw error;
  }

  /** Waits until the peer is back under the bound, the queue overflows, or the stream is stopped. */
  async function waitForPeer(t: LiveTransport): Promise<void> {
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      while (behind(t) && !overflowed && !signal?.aborted) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          void t.drained().then(resolve, resolve);
        });
        wake = null;
      }
    } finally {
      wake = null;
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async function* run(): AsyncGenerator<StreamEvent> {
    try {
      for (;;) {
        const next = await inner.next();
        if (next.done) return;
        let event = next.value;
        if (transport && behind(transport)) {
          if (live) {
            slow = true;
            // Leave the feed now: the resync may wait in the peer's buffers for a while.
            finished = true;
            await inner.return?.();
            engine.slowConsumer(actor, face);
            event = {
              type: 'resync_required',
              message: `resync required: this subscriber fell behind (more than ${bound} bytes waiting to be sent to it)`,
            };
          } else {
            // Catch-up: nothing is lost by waiting, the peer only reads slower than the database.
            await waitForPeer(transport);
            if (overflowed) {
              // The engine counted it; the event held meanwhile is dropped with the feed.
              finished = true;
              await inner.return?.();
              event = {
                type: 'resync_required',
                message: `resync required: this subscriber fell more than ${engine.streamOptions.maxQueue} commits behind`,
              };
            }
          }
        }
        if (event.type === 'resync_required' && overflowed) slow = true;
        const before = transport?.buffered() ?? 0;
        suspended = true;
        try {
          yield event;
        } finally {
          suspended = false;
        }
        // Eager faces write the event before asking for the next one, so this is its size (or less).
        lastFrame = Math.max(0, (transport?.buffered() ?? 0) - before);
        if (event.type === 'resync_required' || signal?.aborted) return;
      }
    } finally {
      finished = true;
      release();
      await inner.return?.();
    }
  }

  const gen = run();
  const stream: LiveStream = {
    get slow() {
      return slow;
    },
    next: () => gen.next(),
    async return(value?: unknown) {
      // A stream never iterated never runs `run`'s finally: release here too.
      try {
        return await gen.return(value as undefined);
      } finally {
        finished = true;
        release();
        await inner.return?.();
      }
    },
    throw: (error?: unknown) => gen.throw(error),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return stream;
}
