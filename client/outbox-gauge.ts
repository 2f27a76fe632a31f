/** The outbox's size and oldest entry, re-counted (coalesced) after changes, for the status, the watchdog and diagnostics. */
import { parseHlc } from '../shared/hlc.js';
import type { LocalStore } from './local-store.js';

/** The outbox as last counted. */
export interface OutboxStats {
  count: number;
  /** The lowest pending mutation id. */
  oldestId: number | null;
  /** When the oldest pending write was made (its HLC's wall clock, ms). */
  oldestAtMs: number | null;
}

/** Counts the outbox (two small reads: `countOutbox` and the first entry) when asked, one count at a time. */
export class OutboxGauge {
  stats: OutboxStats = { count: 0, oldestId: null, oldestAtMs: null };
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly store: LocalStore,
    private readonly onUpdate: (stats: OutboxStats) => void,
  ) {}

  /** Counts again (if a count is under way, once more after it); resolves when the stats are current. */
  refresh(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          const [count, first] = await Promise.all([
            this.store.countOutbox(),
            this.store.listOutbox({ limit: 1 }),
          ]);
          const oldest = first[0] ?? null;
          this.stats = {
            count,
            oldestId: oldest?.mutationId ?? null,
            oldestAtMs: oldest ? (parseHlc(oldest.hlc)?.wallMs ?? null) : null,
          };
          this.onUpdate(this.stats);
        } catch {
          // the store closed or failed: keep the last count
        }
      } while (this.again);
    })().finally(() => (this.running = null));
    return this.running;
  }
}
