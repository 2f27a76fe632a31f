/**
 * Client integrity checksums: the same per-collection sums the server keeps (shared/checksum.ts),
 * over the server state the client holds (`LocalDoc.server` at `version`, never pending local
 * edits), kept in the same `LocalStore.write()` as each change to it; the comparison at a
 * checkpoint; and the counters `diagnostics()` reports.
 */
import {
  addSum,
  checksumHex,
  docHash,
  EMPTY_CHECKSUM,
  parseChecksum,
  subSum,
} from '../shared/checksum.js';
import type { SyncApi } from './api.js';
import type { LocalDoc } from './local-store.js';

/** A document's contribution to its collection's checksum: its server state, if the server holds it. */
export function localHash(doc: LocalDoc | null | undefined): bigint {
  return doc && doc.server !== null && doc.version !== null
    ? docHash(doc.id, doc.version, doc.server)
    : 0n;
}

/** What one local write changes in the checksums, by collection. */
export class ChecksumDeltas {
  private readonly deltas = new Map<string, bigint>();

  /** Records one document going from `before` to `after` (either absent); true when its hash changed. */
  change(
    collection: string,
    before: LocalDoc | null | undefined,
    after: LocalDoc | null | undefined,
  ): boolean {
    return this.add(collection, localHash(before), localHash(after));
  }

  /** Records one document's hash going from `before` to `after`; true when it changed. */
  add(collection: string, before: bigint, after: bigint): boolean {
    if (before === after) return false;
    this.deltas.set(collection, addSum(this.deltas.get(collection) ?? 0n, subSum(after, before)));
    return true;
  }

  get size(): number {
    return this.deltas.size;
  }

  /** The stored checksums with these deltas added (a new object). */
  applyTo(stored: Readonly<Record<string, string>> | null): Record<string, string> {
    const out: Record<string, string> = { ...(stored ?? {}) };
    for (const [collection, delta] of this.deltas)
      out[collection] = checksumHex(
        addSum(parseChecksum(out[collection] ?? EMPTY_CHECKSUM) ?? 0n, delta),
      );
    return out;
  }
}

/** A collection whose local checksum disagreed with the server's at a checkpoint. */
export interface IntegrityMismatch {
  collection: string;
  /** The server's checksum at the checkpoint. */
  expected: string;
  /** The client's (kept, or recomputed from its documents by an audit). */
  actual: string;
  checkpoint: string;
  /** The subscription key when the sums were a view's (its repair rebuilds that view alone). */
  view?: string;
}

/**
 * The `integrity` event: a collection's local copy disagreed with the server's at a checkpoint
 * (no local changes of it pending), and what was done about it.
 */
export interface IntegrityEvent extends IntegrityMismatch {
  /**
   * Documents the repair changed (re-fetched with other content, added, or dropped); for a view
   * (`view` set), the documents its rebuild read. `null` when no repair ran now (one ran for this collection less than `integrity.minRepairIntervalMs` ago, or
   * it failed: the mismatch is then found again at a later checkpoint).
   */
  repaired: number | null;
  /** Why `repaired` is null. */
  reason?: 'deferred' | 'failed';
}

/** Counters since the client was created (`diagnostics().integrity`). */
export interface IntegrityCounters {
  /** Collection checksums compared at a checkpoint (collections with pending local changes are not compared). */
  checks: number;
  /** Comparisons that disagreed. */
  mismatches: number;
  /** Targeted repairs run (one full export of one collection each). */
  repairs: number;
  /** Audits: checksums recomputed from the local documents before comparing. */
  audits: number;
}

/** The `integrity` client option. */
export interface IntegrityOptions {
  /**
   * An audit recomputes a collection's checksum from its local documents (one scan) instead of
   * trusting the kept sum, so rows changed behind the client's back (content edited, version
   * untouched) are found too. Audits run on `sync()` / `pull()`: the first, then at most every
   * `auditIntervalMs` (0: every one). @default 300000 (5 minutes)
   */
  auditIntervalMs?: number;
  /**
   * A collection is repaired at most this often; a mismatch found sooner is reported (`repaired:
   * null`) and repaired at a later checkpoint — so drift on the server side (which no client repair
   * can fix) costs one export per interval, not one per checkpoint. @default 60000
   */
  minRepairIntervalMs?: number;
  /**
   * A subscribed view's checksum costs the server one scan of the view's documents (and the client
   * one of its local copy), so the client asks for it (`verifyView`) on a view's first pull after
   * start and then at most every `viewCheckIntervalMs` (0: every pull). A pull whose answer could
   * not be compared (a commit landed meanwhile, a push settled) asks again on the next one.
   * @default 300000 (5 minutes)
   */
  viewCheckIntervalMs?: number;
}

/** The client's integrity state: options, counters, expectations noted from the stream, mismatches to repair. */
export class Integrity {
  readonly counters: IntegrityCounters = { checks: 0, mismatches: 0, repairs: 0, audits: 0 };
  readonly auditIntervalMs: number;
  readonly minRepairIntervalMs: number;
  readonly viewCheckIntervalMs: number;
  /** When each view was last compared (ms), by view key. */
  private readonly viewCheckedAt = new Map<string, number>();
  /** When the last audit ran (ms), or null. */
  lastAudit: number | null = null;
  /** Mismatches found and not repaired yet, by collection (the latest one). */
  readonly pending = new Map<string, IntegrityMismatch>();
  /** Last repair of each collection (ms). */
  private readonly repairedAt = new Map<string, number>();
  /** Checksums of stream events by checkpoint, until the event is applied (see `note`). */
  private readonly noted = new Map<string, Record<string, string>>();
  /** Marks of repairs under way by collection: documents the stream writes meanwhile get them (so the sweep keeps them). */
  readonly marks = new Map<string, string>();
  /** Push answers taken so far: a view pull that saw some arrive meanwhile is not compared (see `checkView`). */
  settles = 0;
  /** Told when a mismatch is found (the client schedules the repair). */
  onMismatch: (() => void) | null = null;

  constructor(
    options: IntegrityOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.auditIntervalMs = options.auditIntervalMs ?? 300_000;
    this.minRepairIntervalMs = options.minRepairIntervalMs ?? 60_000;
    this.viewCheckIntervalMs = options.viewCheckIntervalMs ?? 300_000;
  }

  /** Whether view `key`'s next pull should ask for its checksum (never compared, or not for an interval). */
  viewCheckDue(key: string): boolean {
    const at = this.viewCheckedAt.get(key);
    return at === undefined || this.now() - at >= this.viewCheckIntervalMs;
  }

  /** Records that view `key` was compared now. */
  viewChecked(key: string): void {
    this.viewCheckedAt.set(key, this.now());
  }

  /**
   * Whether an audit is due now (and, if so, records that it runs). `fresh`: the store held nothing
   * from the server when this pull began, so its sums were all kept here — no audit, and the next
   * is due an interval from now.
   */
  auditDue(fresh = false): boolean {
    const now = this.now();
    if (fresh) {
      this.lastAudit = now;
      return false;
    }
    if (this.lastAudit !== null && now - this.lastAudit < this.auditIntervalMs) return false;
    this.lastAudit = now;
    return true;
  }

  /**
   * Notes the checksums a stream event carried: the event is applied by the live loop with its
   * changes and checkpoint only, so the replica finds them here by checkpoint. Bounded.
   */
  note(checkpoint: string, checksums: Record<string, string>): void {
    this.noted.set(checkpoint, checksums);
    if (this.noted.size > 64) this.noted.delete(this.noted.keys().next().value!);
  }

  /** The checksums noted for a checkpoint (forgotten once taken). */
  take(checkpoint: string): Record<string, string> | undefined {
    const found = this.noted.get(checkpoint);
    if (found) this.noted.delete(checkpoint);
    return found;
  }

  /** Records a mismatch to repair. */
  flag(mismatch: IntegrityMismatch): void {
    this.counters.mismatches++;
    this.pending.set(mismatch.collection, mismatch);
    this.onMismatch?.();
  }

  /** Whether `collection` may be repaired now (and, if so, records that it is). */
  mayRepair(collection: string): boolean {
    const now = this.now();
    const last = this.repairedAt.get(collection);
    if (last !== undefined && now - last < this.minRepairIntervalMs) return false;
    this.repairedAt.set(collection, now);
    return true;
  }
}

/**
 * The app's `sync` api with stream events' checksums noted for the replica (the live loop applies
 * each event with its changes and checkpoint; the replica finds the checksums by checkpoint).
 */
export function noteStreamChecksums(api: SyncApi, integrity: Integrity): SyncApi {
  return {
    push: api.push,
    pull: api.pull,
    full: api.full,
    stream: {
      subscribe(input, observer) {
        return api.stream.subscribe(input, {
          ...observer,
          onData(value) {
            const event = value.data;
            // A view stream's sums are its view's, not the collection's: not noted for the default replica.
            const fromView = (input as { view?: unknown }).view !== undefined;
            if (
              !fromView &&
              event.type !== 'resync_required' &&
              event.checkpoint &&
              event.checksums
            )
              integrity.note(event.checkpoint, event.checksums);
            observer.onData?.(value);
          },
        });
      },
    },
  };
}
