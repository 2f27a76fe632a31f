/**
 * A test double of the sync router AT THE API BOUNDARY ONLY, honouring the views contract
 * (docs/protocol.md, "Views"): rules with equality filters, per-view pull/full/stream with moves sent
 * as `left: true` deletes, RESYNC_REQUIRED for a refreshed view, 400/403 refusals, default views.
 * For the client's bookkeeping unit tests; the real proof runs against the real server.
 */
import { encodeCheckpoint, decodeCheckpoint } from '../../shared/checkpoint.js';
import type {
  ChangeOut,
  FullDoc,
  PushInput,
  PushResponse,
  StreamEvent,
} from '../../shared/protocol.js';
import type { StreamObserver, SyncApi, ViewRequestInput } from '../../client/index.js';

type Data = Record<string, unknown> | null;
/** A rule: its collection, a filter of top-level equalities from the params, and who may subscribe. */
export interface FakeRule {
  collection: string;
  where?: (params: Record<string, unknown>) => Record<string, unknown>;
  /** Param names that must be strings (else 400 naming `view.params.<name>`). */
  params?: string[];
  allow?: (params: Record<string, unknown>) => boolean;
}
interface Entry {
  seq: number;
  collection: string;
  id: string;
  data: Data;
  version: string;
}

const EPOCH = 'fake';
const MARKER = '__refresh';
const cp = (seq: number) => encodeCheckpoint({ epoch: EPOCH, seq });
const seqOf = (since: string | null | undefined) => decodeCheckpoint(since)?.seq ?? 0;

/** A tRPC-like error: what the client's error helpers read. */
export function trpcError(
  code: string,
  httpStatus: number,
  message: string,
  syncCode = code,
): Error {
  return Object.assign(new Error(message), {
    data: { code, httpStatus, sync: { code: syncCode, message, issues: [] } },
  });
}

export function fakeViewServer(options: {
  rules: Record<string, FakeRule>;
  defaultViews?: ViewRequestInput[];
}) {
  const { rules } = options;
  const log: Entry[] = [];
  const docs = new Map<string, Entry>();
  /** Per view key: the seq at which `refresh` was called (a checkpoint before it answers RESYNC_REQUIRED). */
  const refreshed = new Map<string, number>();
  const streams = new Set<{
    view: ViewRequestInput | undefined;
    since: number;
    observer: StreamObserver;
    closed: boolean;
  }>();
  const calls: { method: string; input: Record<string, unknown> }[] = [];
  let offline = false;
  /** Checks re-run after every call and stream change (see `when`). */
  const watchers = new Set<() => void>();
  const poke = () =>
    queueMicrotask(() => {
      for (const w of [...watchers]) w();
    });
  let version = 0;
  const ruled = new Set(Object.values(rules).map((r) => r.collection));
  const key = (v: ViewRequestInput) => `${v.rule}${JSON.stringify(v.params ?? {})}`;

  function check(view: ViewRequestInput): FakeRule {
    const rule = rules[view.rule];
    if (!rule) throw trpcError('BAD_REQUEST', 400, `view.rule: no rule named "${view.rule}"`);
    for (const name of rule.params ?? [])
      if (typeof view.params?.[name] !== 'string')
        throw trpcError('BAD_REQUEST', 400, `view.params.${name}: required string`);
    if (rule.allow && !rule.allow(view.params ?? {}))
      throw trpcError('FORBIDDEN', 403, `view ${view.rule}: not allowed`);
    return rule;
  }
  const matches = (view: ViewRequestInput, collection: string, data: Data): boolean => {
    const rule = rules[view.rule]!;
    if (data === null || rule.collection !== collection) return false;
    const where = rule.where?.(view.params ?? {}) ?? {};
    return Object.entries(where).every(([f, v]) => data[f] === v);
  };
  /** Whether the request (a view, or the default request) covers this document state. */
  const covers = (view: ViewRequestInput | undefined, collection: string, data: Data): boolean => {
    if (view) return matches(view, collection, data);
    if (!ruled.has(collection)) return data !== null;
    return (options.defaultViews ?? []).some((v) => matches(v, collection, data));
  };
  /** The changes a request sees for one oplog entry (given the state before it). */
  function changeFor(
    view: ViewRequestInput | undefined,
    entry: Entry,
    before: Data,
  ): ChangeOut | null {
    if (entry.collection === MARKER) return null;
    const after = covers(view, entry.collection, entry.data);
    const was =
      covers(view, entry.collection, before) ||
      (!ruled.has(entry.collection) && !view && before === null && entry.data === null);
    if (after)
      return {
        collection: entry.collection,
        id: entry.id,
        op: 'upsert',
        data: entry.data,
        version: entry.version,
      };
    if (entry.data === null && (was || (!view && !ruled.has(entry.collection))))
      return {
        collection: entry.collection,
        id: entry.id,
        op: 'delete',
        data: null,
        version: entry.version,
      };
    if (was)
      return {
        collection: entry.collection,
        id: entry.id,
        op: 'delete',
        data: null,
        version: entry.version,
        left: true,
      } as ChangeOut;
    return null;
  }
  function changesSince(
    view: ViewRequestInput | undefined,
    since: number,
    limit = Infinity,
  ): { changes: ChangeOut[]; last: number; more: boolean } {
    const changes: ChangeOut[] = [];
    let last = since;
    let taken = 0;
    for (const entry of log) {
      if (entry.seq <= since) continue;
      if (taken >= limit) return { changes, last, more: true };
      taken++;
      const prev = [...log]
        .reverse()
        .find((e) => e.seq < entry.seq && e.collection === entry.collection && e.id === entry.id);
      const change = changeFor(view, entry, prev?.data ?? null);
      if (change) changes.push(change);
      last = entry.seq;
    }
    return { changes, last: Math.max(last, log.at(-1)?.seq ?? 0), more: false };
  }
  const head = () => log.at(-1)?.seq ?? 0;

  /** A server-side write (another device, an admin): appended to the oplog and streamed. */
  function write(collection: string, id: string, data: Data): string {
    version++;
    const v = `20261207T100000.000Z-${String(version).padStart(4, '0')}-fake`;
    const entry: Entry = { seq: head() + 1, collection, id, data, version: v };
    const prev = docs.get(`${collection}/${id}`);
    log.push(entry);
    docs.set(`${collection}/${id}`, entry);
    for (const s of streams) {
      if (s.closed) continue;
      const change = changeFor(s.view, entry, prev?.data ?? null);
      s.observer.onData?.({
        id: cp(entry.seq),
        data: { type: 'changes', checkpoint: cp(entry.seq), changes: change ? [change] : [] },
      });
    }
    return v;
  }
  const guard = () => {
    if (offline)
      throw Object.assign(new Error('fetch failed: network unreachable (fake)'), {
        data: undefined,
      });
  };

  const api: SyncApi = {
    push: {
      async mutate(input: PushInput): Promise<PushResponse> {
        calls.push({ method: 'push', input: input as never });
        poke();
        guard();
        const results = input.changes.map((c) => {
          const current = docs.get(`${c.collection}/${c.id}`)?.data ?? null;
          const data =
            c.op === 'delete'
              ? null
              : c.op === 'patch'
                ? { ...(current ?? {}), ...(c.data ?? {}) }
                : (c.data ?? {});
          const v = write(c.collection, c.id, data);
          return {
            mutationId: c.mutationId,
            collection: c.collection,
            id: c.id,
            status: 'accepted' as const,
            version: v,
          };
        });
        return { results, serverTime: '20261207T100000.000Z-0000-fake' };
      },
    },
    pull: {
      async query(input) {
        calls.push({ method: 'pull', input: input as never });
        poke();
        guard();
        const since = seqOf(input.since);
        if (input.view) {
          check(input.view);
          if ((refreshed.get(key(input.view)) ?? -1) > since)
            throw trpcError(
              'CONFLICT',
              410,
              'RESYNC_REQUIRED: the view changed',
              'RESYNC_REQUIRED',
            );
        }
        const { changes, last, more } = changesSince(input.view, since, input.limit ?? Infinity);
        return { changes, checkpoint: cp(last), hasMore: more };
      },
    },
    full: {
      async query(input) {
        calls.push({ method: 'full', input: input as never });
        poke();
        guard();
        if (input.view) check(input.view);
        const at = input.cursor
          ? (JSON.parse(input.cursor) as { seq: number; after: string })
          : { seq: head(), after: '' };
        const all = [...docs.values()]
          .filter(
            (e) =>
              covers(input.view, e.collection, e.data) || (!input.view && !ruled.has(e.collection)),
          )
          .sort((a, b) => (`${a.collection}/${a.id}` < `${b.collection}/${b.id}` ? -1 : 1));
        const rest = all.filter((e) => `${e.collection}/${e.id}` > at.after);
        const page = rest.slice(0, input.limit ?? 500);
        const out: FullDoc[] = page.map((e) => ({
          collection: e.collection,
          id: e.id,
          data: e.data,
          version: e.version,
          deleted: e.data === null,
        }));
        const more = rest.length > page.length;
        return {
          docs: out,
          cursor: more
            ? JSON.stringify({
                seq: at.seq,
                after: `${page.at(-1)!.collection}/${page.at(-1)!.id}`,
              })
            : null,
          checkpoint: cp(at.seq),
        };
      },
    },
    stream: {
      subscribe(input, observer) {
        calls.push({ method: 'stream', input: input as never });
        poke();
        const s = { view: input.view, since: seqOf(input.since), observer, closed: false };
        queueMicrotask(() => {
          if (s.closed) return;
          if (offline)
            return observer.onError?.(
              Object.assign(new Error('fetch failed (fake)'), { data: undefined }),
            );
          try {
            if (input.view) check(input.view);
          } catch (error) {
            return observer.onError?.(error);
          }
          if (input.view && (refreshed.get(key(input.view)) ?? -1) > s.since) {
            observer.onData?.({
              id: 'r',
              data: { type: 'resync_required', message: 'view changed' },
            });
            s.closed = true;
            return observer.onComplete?.();
          }
          streams.add(s);
          poke();
          const { changes, last } = changesSince(input.view, s.since);
          const event: StreamEvent = { type: 'changes', checkpoint: cp(last), changes };
          observer.onData?.({ id: cp(last), data: event });
        });
        return { unsubscribe: () => ((s.closed = true), streams.delete(s), poke()) };
      },
    },
  };

  return {
    api,
    calls,
    write,
    /** Outside state changed for this view: a pull or stream from before now answers RESYNC_REQUIRED, open streams end. */
    refresh(view: ViewRequestInput) {
      // A marker commit no reader sees (as the real engine's), so even a view at the head is behind it.
      log.push({ seq: head() + 1, collection: MARKER, id: key(view), data: null, version: '' });
      refreshed.set(key(view), head());
      for (const s of streams) {
        if (!s.view || key(s.view) !== key(view)) continue;
        s.closed = true;
        streams.delete(s);
        s.observer.onData?.({
          id: 'r',
          data: { type: 'resync_required', message: 'view changed' },
        });
        s.observer.onComplete?.();
      }
    },
    /** Resolves once `check()` holds, re-checked after every call and stream change (no timers). */
    when(check: () => boolean): Promise<void> {
      return new Promise((resolve) => {
        const w = () => {
          if (!check()) return;
          watchers.delete(w);
          resolve();
        };
        watchers.add(w);
        w();
      });
    },
    setOffline(v: boolean) {
      offline = v;
    },
    /** What the server's own query of a view returns now (ids). */
    idsOf(view: ViewRequestInput): string[] {
      return [...docs.values()]
        .filter((e) => matches(view, e.collection, e.data))
        .map((e) => e.id)
        .sort();
    },
    /** Number of open streams. */
    get openStreams() {
      return streams.size;
    },
  };
}
