// LISTEN/NOTIFY feed: one dedicated pg connection per store, reconnected with backoff after a loss.
import type pg from 'pg';
import type { PgClient } from './driver-types.js';

/** What the feed reports to the store. */
export interface ListenFeedHandlers {
  /** A commit announced by any process (this one included). */
  notify(scope: string, seq: number): void;
  /** LISTEN is active (first time, or again after a lost connection): notifications may have been missed. */
  reset(): void;
}

/**
 * Keeps one connection LISTENing on `channel`. Not a pool client: a LISTEN session must stay
 * open, and pooled connections are handed to others between queries.
 */
export class ListenFeed {
  readonly #makeClient: () => pg.Client | Promise<pg.Client>;
  readonly #channel: string;
  readonly #handlers: ListenFeedHandlers;
  #client: pg.Client | null = null;
  #stopped = false;
  #listening = false;
  #failures = 0;
  #timer: NodeJS.Timeout | null = null;
  #connecting: Promise<void> | null = null;

  constructor(
    makeClient: () => PgClient | Promise<PgClient>,
    channel: string,
    handlers: ListenFeedHandlers,
  ) {
    this.#makeClient = makeClient as unknown as () => pg.Client | Promise<pg.Client>; // a PgClient is a pg.Client
    this.#channel = channel;
    this.#handlers = handlers;
  }

  /** True while LISTEN is active, so notifications of this process's own commits will arrive. */
  get listening(): boolean {
    return this.#listening;
  }

  /** Connects and LISTENs; resolves once listening or after the first failed attempt (it keeps retrying). */
  start(): Promise<void> {
    this.#stopped = false;
    if (!this.#connecting && !this.#client) this.#connecting = this.#connect();
    return this.#connecting ?? Promise.resolve();
  }

  /** Stops listening and closes the connection; no reconnect afterwards. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#connecting?.catch(() => undefined);
    if (!this.#stopped) return; // start() was called again meanwhile: keep the connection
    const client = this.#client;
    this.#client = null;
    this.#listening = false;
    if (client) await client.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    let client: pg.Client | null = null;
    try {
      client = await this.#makeClient();
      const current = client;
      // Errors and the end of the connection both lead to one reconnect.
      current.on('error', () => this.#lost(current));
      current.on('end', () => this.#lost(current));
      current.on('notification', (message) => this.#onNotification(message));
      await current.connect();
      await current.query(`LISTEN "${this.#channel}"`);
      if (this.#stopped) {
        await current.end().catch(() => undefined);
        return;
      }
      this.#client = current;
      this.#listening = true;
      this.#failures = 0;
      // Also on the first LISTEN: a subscriber that registered while it was connecting may have
      // missed another process's commit; a reset makes the engine compare heads right away.
      this.#handlers.reset();
    } catch {
      if (client) await client.end().catch(() => undefined);
      this.#schedule();
    } finally {
      this.#connecting = null;
    }
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return; // a client already replaced or being set up
    this.#client = null;
    this.#listening = false;
    client.end().catch(() => undefined);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped || this.#timer) return;
    // Backoff with jitter: 100 ms doubling to 5 s, so a restarting server is not hammered.
    const ceiling = Math.min(5000, 100 * 2 ** this.#failures++);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#stopped && !this.#client && !this.#connecting) this.#connecting = this.#connect();
    }, delay);
    this.#timer.unref?.();
  }

  #onNotification(message: pg.Notification): void {
    if (message.channel !== this.#channel || !message.payload) return;
    // Payload is `<scope> <seq>`; the scope may itself contain spaces, the seq never does.
    const cut = message.payload.lastIndexOf(' ');
    const seq = Number(message.payload.slice(cut + 1));
    if (cut <= 0 || !Number.isSafeInteger(seq)) return;
    this.#handlers.notify(message.payload.slice(0, cut), seq);
  }
}
