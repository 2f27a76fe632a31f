/**
 * The in-memory store, for unit tests and demos (nothing survives the process). Transactions are
 * real: writes are staged and applied only when the transaction's function resolves, and one
 * scope's transactions run one at a time.
 */
import { randomBytes } from 'node:crypto';
import { addSum } from '../../shared/checksum.js';
import { compareStrings } from '../../shared/order.js';
import { WRITER_FIELD } from './store.js';
import type {
  ClientLedger,
  DocKey,
  DocMatch,
  MutationRecord,
  OplogEntry,
  ReadOplogOptions,
  ScanDocsOptions,
  ScopeHead,
  Store,
  StoreEvent,
  StoredDoc,
  StoreTx,
  RecordedOutcome,
} from './store.js';

/** What the memory store keeps for one scope (its `raw` map's values). */
export interface ScopeData {
  head: ScopeHead;
  docs: Map<string, StoredDoc>;
  oplog: OplogEntry[];
  clients: Map<string, ClientLedger>;
  mutations: Map<string, { result: RecordedOutcome; at: Date }>;
  /** Integrity checksums by collection (see `StoreTx.addChecksums`). */
  checksums: Map<string, { sum: bigint; seq: number }>;
  /** Tail of the scope's transaction queue (one writer at a time). */
  lock: Promise<void>;
}

/** Whether data matches a `DocMatch` (a missing field counts as null). */
function docMatches(
  match: DocMatch,
  data: Record<string, unknown> | null,
  writer: string,
): boolean {
  if (!data) return false;
  for (const [field, values] of Object.entries(match)) {
    const v = field === WRITER_FIELD ? writer : Object.hasOwn(data, field) ? data[field] : null;
    if (!values.some((w) => (w === null ? v === null || v === undefined : v === w))) return false;
  }
  return true;
}

const docKey = (k: DocKey) => `${k.collection}\u0000${k.id}`;
const copy = <T>(value: T): T => structuredClone(value);

/** A store kept in process memory; `raw` exposes its maps for tests. */
export interface MemoryStore extends Store {
  readonly raw: Map<string, ScopeData>;
}

/**
 * Creates an in-memory store.
 *
 * @example
 * const store = memoryStore();
 * await store.init();
 */
export function memoryStore(): MemoryStore {
  const scopes = new Map<string, ScopeData>();
  const listeners = new Set<(e: StoreEvent) => void>();
  const epoch = randomBytes(5).toString('hex');
  const scopeData = (scope: string): ScopeData => {
    let s = scopes.get(scope);
    if (!s) {
      s = {
        head: { seq: 0, horizon: 0 },
        docs: new Map(),
        oplog: [],
        clients: new Map(),
        mutations: new Map(),
        checksums: new Map(),
        lock: Promise.resolve(),
      };
      scopes.set(scope, s);
    }
    return s;
  };

  /** First oplog index with seq > afterSeq (the oplog is in seq order). */
  const firstAfter = (oplog: OplogEntry[], afterSeq: number) => {
    let lo = 0;
    let hi = oplog.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (oplog[mid]!.seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  return {
    kind: 'memory',
    raw: scopes,
    async init() {},
    epoch: () => epoch,

    async transaction<T>(scope: string, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
      const s = scopeData(scope);
      let release!: () => void;
      const previous = s.lock;
      s.lock = new Promise<void>((r) => (release = r));
      await previous;
      try {
        const stagedDocs = new Map<string, StoredDoc>();
        const stagedOplog: OplogEntry[] = [];
        const stagedMutations: {
          clientId: string;
          last: number;
          records: MutationRecord[];
          at: Date;
          owner: string;
        }[] = [];
        let newHead: number | null = null;
        const stagedSums = new Map<string, { sum: bigint; seq: number }>();
        const tx: StoreTx = {
          head: { ...s.head },
          async getDocs(keys) {
            return keys.flatMap((k) => {
              const d = stagedDocs.get(docKey(k)) ?? s.docs.get(docKey(k));
              return d ? [copy(d)] : [];
            });
          },
          async putDocs(docs) {
            for (const d of docs) stagedDocs.set(docKey(d), copy(d));
          },
          async appendOplog(entries) {
            stagedOplog.push(...copy(entries));
          },
          async setHead(seq) {
            newHead = seq;
          },
          async clientLedger(clientId) {
            for (let i = stagedMutations.length - 1; i >= 0; i--) {
              const m = stagedMutations[i]!;
              if (m.clientId === clientId) return { lastMutationId: m.last, owner: m.owner };
            }
            return copy(s.clients.get(clientId) ?? { lastMutationId: 0, owner: null });
          },
          async getResults(clientId, ids) {
            const out = new Map<number, RecordedOutcome>();
            for (const id of ids) {
              const m = s.mutations.get(`${clientId}\u0000${id}`);
              if (m) out.set(id, copy(m.result));
            }
            return out;
          },
          async recordResults(clientId, last, records, at, owner) {
            stagedMutations.push({ clientId, last, records: copy(records), at, owner });
          },
          async addChecksums(deltas, seq) {
            for (const [collection, delta] of deltas) {
              const sum = stagedSums.get(collection)?.sum ?? s.checksums.get(collection)?.sum ?? 0n;
              stagedSums.set(collection, { sum: addSum(sum, delta), seq });
            }
          },
        };
        const result = await fn(tx);
        // Commit: apply everything staged at once.
        for (const [k, d] of stagedDocs) s.docs.set(k, d);
        s.oplog.push(...stagedOplog);
        for (const [collection, kept] of stagedSums) s.checksums.set(collection, kept);
        for (const m of stagedMutations) {
          s.clients.set(m.clientId, { lastMutationId: m.last, owner: m.owner });
          for (const r of m.records)
            s.mutations.set(`${m.clientId}\u0000${r.mutationId}`, { result: r.result, at: m.at });
        }
        if (newHead !== null) {
          s.head.seq = newHead;
          const event: StoreEvent = { type: 'commit', scope, seq: newHead };
          for (const l of listeners) l(event);
        }
        return result;
      } finally {
        release();
      }
    },

    async head(scope, options) {
      const s = scopeData(scope);
      if (!options?.checksums) return { ...s.head };
      const checksums = options.checksums.flatMap((collection) => {
        const row = s.checksums.get(collection);
        return row ? [{ collection, sum: row.sum, seq: row.seq }] : [];
      });
      return { ...s.head, checksums };
    },

    async readOplog(scope, o: ReadOplogOptions) {
      const oplog = scopeData(scope).oplog;
      const out: OplogEntry[] = [];
      for (let i = firstAfter(oplog, o.afterSeq); i < oplog.length; i++) {
        const e = oplog[i]!;
        if (o.uptoSeq !== undefined && e.seq > o.uptoSeq) break;
        if (o.collections && o.collections.length > 0 && !o.collections.includes(e.collection))
          continue;
        const match = o.match?.get(e.collection);
        if (
          match &&
          e.before !== undefined &&
          e.actor !== o.keepWriter &&
          !match.some(
            (m) => docMatches(m, e.data, e.actor) || docMatches(m, e.before ?? null, e.actor),
          )
        )
          continue;
        out.push(copy(e));
        if (o.limit !== undefined && out.length >= o.limit) break;
      }
      return out;
    },

    async findVersion(scope, key, version) {
      const e = scopeData(scope).oplog.find(
        (x) => x.collection === key.collection && x.id === key.id && x.version === version,
      );
      return e ? copy(e.data) : undefined;
    },

    async scanDocs(scope, o: ScanDocsOptions) {
      const after = o.after ? [o.after.collection, o.after.id] : null;
      const docs = [...scopeData(scope).docs.values()]
        .filter(
          (d) =>
            !o.collections || o.collections.length === 0 || o.collections.includes(d.collection),
        )
        .filter(
          (d) => !o.match || (!d.deleted && o.match.some((m) => docMatches(m, d.data, d.actor))),
        )
        // Code point (UTF-8 byte) order, as PostgreSQL's COLLATE "C" and MongoDB page the same export.
        .filter(
          (d) =>
            !after ||
            compareStrings(d.collection, after[0]!) > 0 ||
            (d.collection === after[0] && compareStrings(d.id, after[1]!) > 0),
        )
        .sort((a, b) => compareStrings(a.collection, b.collection) || compareStrings(a.id, b.id));
      return copy(docs.slice(0, o.limit));
    },

    async checksums(scope, collections) {
      const kept = scopeData(scope).checksums;
      const names = collections ?? [...kept.keys()];
      return names.flatMap((collection) => {
        const row = kept.get(collection);
        return row ? [{ collection, sum: row.sum, seq: row.seq }] : [];
      });
    },

    async prune(before) {
      let removed = 0;
      for (const s of scopes.values()) {
        const keep = s.oplog.filter((e) => e.at >= before);
        for (const e of s.oplog)
          if (e.at < before && e.seq > s.head.horizon) s.head.horizon = e.seq;
        removed += s.oplog.length - keep.length;
        s.oplog = keep;
        for (const [k, m] of s.mutations) if (m.at < before) s.mutations.delete(k);
      }
      return { removed };
    },

    async oplogStats() {
      let entries = 0;
      let oldest: Date | null = null;
      let newest: Date | null = null;
      for (const s of scopes.values()) {
        entries += s.oplog.length;
        // Entries are appended in commit order, so each scope's first and last are its extremes.
        const first = s.oplog[0]?.at;
        const last = s.oplog[s.oplog.length - 1]?.at;
        if (first && (!oldest || first < oldest)) oldest = first;
        if (last && (!newest || last > newest)) newest = last;
      }
      return {
        entries,
        estimated: false,
        oldestAt: oldest && new Date(oldest),
        newestAt: newest && new Date(newest),
      };
    },

    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async close() {
      listeners.clear();
    },
  };
}
