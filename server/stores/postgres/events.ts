// Commit events for the store's local listeners, merging this process's own commits with LISTEN.
import type { StoreEvent } from '../store.js';

/** Own commits remembered while waiting for their echo from LISTEN (bounded). */
const MAX_PENDING = 10_000;

/**
 * Fans events out to listeners. A commit made here is announced right after COMMIT (fast, and
 * works without LISTEN); when LISTEN is active the same commit also comes back as a notification.
 * Each own commit is heard once, whichever of the two arrives first.
 */
export class CommitEvents {
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  /** Own commits by `scope seq`: `false` before the local announcement, `true` after it. */
  readonly #own = new Map<string, boolean>();

  get size(): number {
    return this.#listeners.size;
  }

  add(listener: (event: StoreEvent) => void): void {
    this.#listeners.add(listener);
  }

  delete(listener: (event: StoreEvent) => void): void {
    this.#listeners.delete(listener);
  }

  /** Called before COMMIT of a transaction that moved the head, when an echo is expected. */
  expectEcho(scope: string, seq: number): void {
    const key = `${scope} ${seq}`;
    this.#own.set(key, false);
    // Echoes lost with a LISTEN connection never come: forget the oldest entries.
    if (this.#own.size > MAX_PENDING) this.#own.delete(this.#own.keys().next().value as string);
  }

  /** Called when that transaction failed: a late echo (commit outcome unknown) counts as foreign. */
  forget(scope: string, seq: number): void {
    this.#own.delete(`${scope} ${seq}`);
  }

  /** Called after COMMIT: announces the commit unless its echo already did. */
  committed(scope: string, seq: number, echoExpected: boolean): void {
    if (!echoExpected) return this.#emit({ type: 'commit', scope, seq });
    const key = `${scope} ${seq}`;
    if (!this.#own.has(key)) return; // LISTEN was faster and announced it
    this.#own.set(key, true);
    this.#emit({ type: 'commit', scope, seq });
  }

  /** A notification from LISTEN: an echo of an own commit is dropped once, others are announced. */
  notified(scope: string, seq: number): void {
    const key = `${scope} ${seq}`;
    const announced = this.#own.get(key);
    if (announced !== undefined) this.#own.delete(key);
    if (announced !== true) this.#emit({ type: 'commit', scope, seq });
  }

  /** LISTEN was re-established: listeners catch up from what they last saw. */
  reset(): void {
    this.#own.clear();
    this.#emit({ type: 'reset' });
  }

  #emit(event: StoreEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A throwing listener must not stop the others nor the transaction that committed.
      }
    }
  }
}
