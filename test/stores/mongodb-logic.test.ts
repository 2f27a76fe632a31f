// The MongoDB store's logic above the driver, without a server: ordering, orphan and take-over planning, horizons, URIs, the change feed's reopen.
import { EventEmitter } from 'node:events';
import { ObjectId } from 'mongodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChangeFeed, type ChangeStreamLike } from '../../server/stores/mongodb/change-feed.js';
import { keptChecksums } from '../../server/stores/mongodb/checksums.js';
import {
  DOC_INDEX,
  LEGACY_LOOKUP_INDEX,
  collectionNames,
  storeIndexes,
  type OplogDoc,
} from '../../server/stores/mongodb/collections.js';
import {
  fromMongoDoc,
  legacyIdCandidates,
  syncIdOf,
} from '../../server/stores/mongodb/documents.js';
import { LEASE_FREE, takeLeaseUpdate } from '../../server/stores/mongodb/lease.js';
import {
  CommitFilter,
  oplogFilter,
  readBounded,
  type FetchOplog,
} from '../../server/stores/mongodb/oplog-read.js';
import { resolveOptions } from '../../server/stores/mongodb/options.js';
import { planHorizon } from '../../server/stores/mongodb/prune.js';
import { matchFilter, mergeById, scanCollections } from '../../server/stores/mongodb/scan.js';
import { attachRedo, imageFilter, planTakeover } from '../../server/stores/mongodb/standalone.js';
import { parseMongoUri } from '../../server/stores/mongodb/uri.js';
import { readConfig } from '../../server/cli/config.js';
import type { OplogEntry, StoreEvent } from '../../server/stores/store.js';

function entry(seq: number, idx: number, writer?: string, collection = 'tasks'): OplogDoc {
  const e: OplogDoc = {
    scope: 's',
    seq,
    idx,
    collection,
    id: `d${seq}-${idx}`,
    op: 'upsert',
    data: {},
    version: 'v',
    actor: 'a',
    clientId: null,
    mutationId: null,
    at: new Date(0),
  };
  if (writer !== undefined) e.writer = writer;
  return e;
}

/**
 * A list standing in for the result of `find(oplogFilter(...)).sort({seq, idx}).limit(n)`: it
 * applies the same range rule in plain code. It is not MongoDB; it tests the paging decisions of
 * readBounded (what it asks for next, when it stops), which is all the store adds above the driver.
 */
function listFetch(
  all: OplogDoc[],
  calls: Array<{ after: string; limit: number | undefined }>,
): FetchOplog {
  return async (after, upto, limit) => {
    calls.push({ after: `${after.seq}/${after.idx}`, limit });
    const rows = all
      .filter(
        (e) => (e.seq > after.seq || (e.seq === after.seq && e.idx > after.idx)) && e.seq <= upto,
      )
      .sort((a, b) => a.seq - b.seq || a.idx - b.idx);
    return limit === undefined ? rows : rows.slice(0, limit);
  };
}

describe('reading the oplog (no server)', () => {
  it("keeps only each commit's own writer (entry 0 names it); entries without writer are all kept", () => {
    const f = new CommitFilter();
    const kept = [
      entry(1, 0),
      entry(1, 1),
      entry(2, 0, 'w2'),
      entry(2, 1, 'w2'),
      entry(2, 2, 'stale'),
      entry(3, 0, 'w3'),
    ].filter((e) => f.keep(e));
    expect(kept.map((e) => `${e.seq}.${e.idx}`)).toEqual(['1.0', '1.1', '2.0', '2.1', '3.0']);
  });

  it('a page of `limit` wanted entries is not shortened by dropped ones: it fetches on after the last raw entry', async () => {
    const all = [
      entry(1, 0, 'a'),
      entry(1, 1, 'a'),
      entry(1, 2, 'old'),
      entry(1, 3, 'old'),
      entry(2, 0, 'b'),
      entry(3, 0, 'c'),
    ];
    const calls: Array<{ after: string; limit: number | undefined }> = [];
    const page = await readBounded(listFetch(all, calls), { afterSeq: 0, uptoSeq: 10, limit: 3 });
    expect(page.map((e) => `${e.seq}.${e.idx}`)).toEqual(['1.0', '1.1', '2.0']);
    expect(calls).toEqual([
      { after: '0/Infinity', limit: 3 },
      { after: '1/2', limit: 1 },
      { after: '1/3', limit: 1 },
    ]);
  });

  it('never reads above the head it was given, and returns nothing when the range is empty', async () => {
    const all = [entry(1, 0), entry(2, 0), entry(3, 0, 'orphan')];
    const calls: Array<{ after: string; limit: number | undefined }> = [];
    expect(
      (await readBounded(listFetch(all, calls), { afterSeq: 0, uptoSeq: 2 })).map((e) => e.seq),
    ).toEqual([1, 2]);
    expect(await readBounded(listFetch(all, calls), { afterSeq: 2, uptoSeq: 2, limit: 5 })).toEqual(
      [],
    );
    expect(calls).toHaveLength(1); // the empty range asked nothing
  });

  it('with a collection filter, entry 0 of every commit is fetched to learn its writer, then left out', async () => {
    const all = [
      entry(1, 0, 'a', 'notes'),
      entry(1, 1, 'a', 'tasks'),
      entry(1, 2, 'x', 'tasks'),
      entry(2, 0, 'b', 'tasks'),
    ];
    const page = await readBounded(
      listFetch(all, []),
      { afterSeq: 0, uptoSeq: 5, limit: 10 },
      (e) => e.collection === 'tasks',
    );
    expect(page.map((e) => `${e.seq}.${e.idx}`)).toEqual(['1.1', '2.0']);
    expect(oplogFilter('s', { seq: 0, idx: Infinity }, 5, ['tasks'])).toEqual({
      $and: [
        { scope: 's', seq: { $gt: 0, $lte: 5 } },
        { $or: [{ collection: { $in: ['tasks'] } }, { idx: 0 }] },
      ],
    });
    expect(oplogFilter('s', { seq: 1, idx: 2 }, 5)).toEqual({
      scope: 's',
      $or: [{ seq: 1, idx: { $gt: 2 } }, { seq: { $gt: 1, $lte: 5 } }],
    });
  });
});

describe('standalone commits (no server)', () => {
  it('a take-over finishes a pending commit and drops entries above it; without one, drops entries above the head', () => {
    expect(planTakeover({ seq: 4 })).toEqual({ finish: null, dropAbove: 4 });
    expect(planTakeover({ seq: 4, pending: 5, pendingWriter: 'w' })).toEqual({
      finish: { seq: 5, writer: 'w' },
      dropAbove: 5,
    });
    // A pending mark at or below the head is left over from a finished commit: nothing to finish.
    expect(planTakeover({ seq: 5, pending: 5, pendingWriter: 'w' })).toEqual({
      finish: null,
      dropAbove: 5,
    });
  });

  it('attaches each document image to the last entry of that document, tags every entry with its writer', () => {
    const entries: OplogEntry[] = [
      entry(7, 0),
      { ...entry(7, 1), id: 'x' },
      { ...entry(7, 2), id: 'x' },
    ];
    const images = [
      { collection: 'tasks', id: 'x', seq: 7, doc: { _sync_id: 'x' } },
      { collection: 'tasks', id: 'lonely', seq: 7, doc: { _sync_id: 'lonely' } },
    ];
    const docs = attachRedo(entries, images, 'me');
    expect(docs.map((d) => d.writer)).toEqual(['me', 'me', 'me']);
    expect(docs.map((d) => d.redo?.map((r) => r.id))).toEqual([
      undefined,
      undefined,
      ['x', 'lonely'],
    ]);
    expect(entries[0]).not.toHaveProperty('writer'); // the engine's objects are not changed
  });

  it("writes a document image only over a document whose seq is not above the image's", () => {
    expect(imageFilter('s', { id: 'x', seq: 7 })).toEqual({
      _sync_scope_id: 's',
      _sync_id: 'x',
      _sync_seq: { $not: { $gt: 7 } },
    });
  });

  it("the lease is free or expired by the server's clock ($$NOW), and taken until $$NOW + 30 s", () => {
    expect(JSON.stringify(LEASE_FREE)).toContain('$$NOW');
    expect(JSON.stringify(LEASE_FREE)).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    expect(takeLeaseUpdate('me')).toEqual([
      { $set: { leaseOwner: 'me', leaseUntil: { $add: ['$$NOW', 30_000] } } },
    ]);
  });
});

describe('retention horizons (no server)', () => {
  it('moves to the highest old seq, never above the head, never back', () => {
    expect(planHorizon({ seq: 10, horizon: 0 }, 6)).toBe(6);
    expect(planHorizon({ seq: 10, horizon: 0 }, 12)).toBe(10); // an entry above the head belongs to no commit
    expect(planHorizon({ seq: 10, horizon: 8 }, 6)).toBe(8);
    expect(planHorizon({ seq: 10, horizon: 3 }, null)).toBe(3);
  });

  it('no TTL index on the oplog: only prune deletes history', () => {
    const oplog = storeIndexes().oplog;
    expect(oplog.some((i) => i.expireAfterSeconds !== undefined)).toBe(false);
    expect(oplog.map((i) => i.name)).toContain('sync_oplog_scope_at');
  });
});

describe('documents another program wrote (no server)', () => {
  it('without _sync_id, a document\'s id is the string form of _id, never "undefined"', () => {
    const oid = new ObjectId('65f0a1b2c3d4e5f601234567');
    expect(syncIdOf({ _id: oid, _sync_scope_id: 's' })).toBe('65f0a1b2c3d4e5f601234567');
    expect(syncIdOf({ _id: 'a-1', _sync_id: 'x' })).toBe('x');
    expect(
      fromMongoDoc('tasks', { _id: 'plain', title: 't', _sync_scope_id: 's', _sync_version: 'v' }),
    ).toMatchObject({ id: 'plain', data: { title: 't' }, seq: 0 });
    expect(legacyIdCandidates('65f0a1b2c3d4e5f601234567').map(String)).toEqual([
      '65f0a1b2c3d4e5f601234567',
      '65f0a1b2c3d4e5f601234567',
    ]);
    expect(legacyIdCandidates('65f0a1b2c3d4e5f601234567')[1]).toBeInstanceOf(ObjectId);
    expect(legacyIdCandidates('t1')).toEqual(['t1']);
  });

  it('the unique index leaves documents without _sync_id out, so a second one per scope is no duplicate key', () => {
    expect(DOC_INDEX.partialFilterExpression).toEqual({
      _sync_scope_id: { $exists: true },
      _sync_id: { $exists: true },
    });
    expect(LEGACY_LOOKUP_INDEX.unique).toBeUndefined();
  });

  it('a full export without a filter walks listed and configured collections, each once, in code point order', () => {
    expect(scanCollections(['tasks'], ['notes', 'tasks'])).toEqual(['notes', 'tasks']);
    expect(scanCollections(undefined, ['b', 'a'])).toEqual(['a', 'b']);
    expect(scanCollections(['tasks'], ['notes'], ['tasks'])).toEqual(['tasks']);
  });

  it('merges documents with and without _sync_id by id', () => {
    const a = [{ id: 'a' }, { id: 'c' }, { id: 'e' }];
    const b = [{ id: 'b' }, { id: 'd' }];
    expect(mergeById(a, b, 4).map((d) => d.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(mergeById([], b, 10).map((d) => d.id)).toEqual(['b', 'd']);
  });

  it("collectionPrefix names the store's own collections; retentionSeconds is accepted and ignored", () => {
    expect(collectionNames('tos_')).toEqual({
      meta: 'tos_meta',
      scopes: 'tos_scopes',
      oplog: 'tos_oplog',
      clients: 'tos_clients',
      mutations: 'tos_mutations',
    });
    expect(resolveOptions({ retentionSeconds: 60 })).not.toHaveProperty('retentionSeconds');
    expect(resolveOptions({}).collectionPrefix).toBe('sync_');
    expect(() => resolveOptions({ collectionPrefix: 'a.b' })).toThrow(/option collectionPrefix/);
    expect(resolveOptions({}).commitTimeoutMs).toBe(10_000);
  });
});

describe('integrity checksums on the scope document (no server)', () => {
  it('reads the kept sums of the asked collections (all when none asked), leaving out collections never written', () => {
    const doc = {
      checksums: {
        tasks: { sum: '00000000000000ff', seq: 4 },
        notes: { sum: 'ffffffffffffffff', seq: 2 },
      },
    };
    expect(keptChecksums(doc, ['tasks', 'items'])).toEqual([
      { collection: 'tasks', sum: 255n, seq: 4 },
    ]);
    expect(keptChecksums(doc).map((c) => c.collection)).toEqual(['tasks', 'notes']);
    expect(keptChecksums(doc, ['notes'])[0]!.sum).toBe(2n ** 64n - 1n);
    expect(keptChecksums(null, ['tasks'])).toEqual([]);
  });
});

describe("MongoDB URIs (the driver's parser, no server)", () => {
  it('reads multi-host replica-set URIs that new URL refuses', () => {
    const uri = 'mongodb://u:secret@h1:27017,h2:27018,h3/app_db?replicaSet=rs0';
    expect(() => new URL(uri)).toThrow();
    expect(parseMongoUri(uri)).toEqual({
      dbName: 'app_db',
      where: 'mongodb://h1:27017,h2:27018,h3/app_db',
    });
    expect(parseMongoUri('mongodb://h1,h2,h3/db?replicaSet=rs0')).toEqual({
      dbName: 'db',
      where: 'mongodb://h1,h2,h3/db',
    });
    expect(parseMongoUri('mongodb://127.0.0.1:27017/?replicaSet=rs0').dbName).toBeNull();
    expect(parseMongoUri('mongodb+srv://cluster0.example.net/my%20db').dbName).toBe('my db');
  });

  it('refuses what the driver refuses, with its reason', () => {
    expect(() => parseMongoUri('mongodb://')).toThrow(TypeError);
    expect(() => parseMongoUri('mongodb+srv://h1,h2/db')).toThrow(TypeError);
    expect(() => parseMongoUri('http://h1/db')).toThrow(TypeError);
  });

  it('the CLI accepts a multi-host URI and refuses another scheme', () => {
    const config = readConfig(
      ['serve', '--mongodb-uri', 'mongodb://h1:27017,h2:27018/app?replicaSet=rs0'],
      {},
    );
    expect(config.mongodbUri).toBe('mongodb://h1:27017,h2:27018/app?replicaSet=rs0');
    expect(() => readConfig(['serve', '--mongodb-uri', 'postgres://h/db'], {})).toThrow(
      /--mongodb-uri: expected a mongodb:\/\/ or mongodb\+srv:\/\/ URI/,
    );
    expect(
      readConfig(['init'], { MONGODB_URI: 'mongodb://h1,h2/app', SYNC_MONGODB_PREFIX: 'tos_' })
        .mongodbPrefix,
    ).toBe('tos_');
    expect(readConfig(['init'], { MONGODB_URI: 'mongodb://h1,h2/app' })).not.toHaveProperty(
      'mongodbPrefix',
    );
  });
});

/** A scripted change stream: an EventEmitter the test drives. It stands in for the driver's ChangeStream events only. */
class ScriptedStream extends EventEmitter implements ChangeStreamLike {
  closed = false;
  async close(): Promise<void> {
    this.closed = true;
  }
}

describe('change feed reopening (scripted stream events, no server)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('emits a reset on first open, reopens after the last token when the stream ends without an error, and resets again', async () => {
    vi.useFakeTimers();
    const opened: Array<{ options: unknown; stream: ScriptedStream }> = [];
    const events: StoreEvent[] = [];
    const feed = new ChangeFeed(
      (options) => {
        const stream = new ScriptedStream();
        opened.push({ options, stream });
        return stream;
      },
      (e) => events.push(e),
    );
    feed.start();
    expect(opened[0]!.options).toEqual({});
    opened[0]!.stream.emit('resumeTokenChanged', { _data: 't1' });
    expect(events).toEqual([{ type: 'reset' }]);
    opened[0]!.stream.emit('change', {
      operationType: 'update',
      documentKey: { _id: 's' },
      updateDescription: { updatedFields: { seq: 3 } },
    });
    opened[0]!.stream.emit('resumeTokenChanged', { _data: 't2' });
    opened[0]!.stream.emit('close'); // a cursor killed on the server: no error
    await vi.advanceTimersByTimeAsync(1_000);
    expect(opened).toHaveLength(2);
    expect(opened[1]!.options).toEqual({ startAfter: { _data: 't2' } });
    opened[1]!.stream.emit('resumeTokenChanged', { _data: 't3' });
    expect(events).toEqual([
      { type: 'reset' },
      { type: 'commit', scope: 's', seq: 3 },
      { type: 'reset' },
    ]);
    await feed.stop();
    expect(opened[1]!.stream.closed).toBe(true);
    opened[1]!.stream.emit('close');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(opened).toHaveLength(2); // stopped: no reopen
  });

  it('after an error before the stream started, drops a resume token the server may no longer know', async () => {
    vi.useFakeTimers();
    const opened: Array<{ options: unknown; stream: ScriptedStream }> = [];
    const feed = new ChangeFeed(
      (options) => {
        const stream = new ScriptedStream();
        opened.push({ options, stream });
        return stream;
      },
      () => undefined,
    );
    feed.start();
    opened[0]!.stream.emit('resumeTokenChanged', { _data: 't1' });
    opened[0]!.stream.emit('error', new Error('network'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(opened[1]!.options).toEqual({ startAfter: { _data: 't1' } });
    opened[1]!.stream.emit('error', new Error('ChangeStreamHistoryLost'));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(opened[2]!.options).toEqual({});
    await feed.stop();
  });

  it('a watch() that throws (no primary yet) is retried with backoff, and the first stream that opens resets', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const events: StoreEvent[] = [];
    let stream: ScriptedStream | null = null;
    const feed = new ChangeFeed(
      () => {
        calls++;
        if (calls === 1) throw new Error('server selection timed out');
        stream = new ScriptedStream();
        return stream;
      },
      (e) => events.push(e),
    );
    feed.start();
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(2);
    stream!.emit('resumeTokenChanged', { _data: 't1' });
    expect(events).toEqual([{ type: 'reset' }]);
    await feed.stop();
  });
});

describe('matchFilter (view reads)', () => {
  it('live documents, any alternative, each field one of its values, arrays excluded; no alternative matches nothing', () => {
    expect(matchFilter([{ owner: ['ann', null] }, { n: [1] }])).toEqual({
      _sync_deleted: { $ne: true },
      $or: [
        { owner: { $in: ['ann', null], $not: { $type: 'array' } } },
        { n: { $in: [1], $not: { $type: 'array' } } },
      ],
    });
    expect(matchFilter([])).toEqual({ _sync_deleted: { $ne: true }, _id: { $in: [] } });
  });
});
