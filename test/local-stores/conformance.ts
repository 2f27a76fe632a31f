/**
 * The client-store conformance suite: one specification of the `LocalStore` contract, run on every
 * local store (memory, IndexedDB, SQLite, key-value). Each store's test file only opens a store and calls it.
 */
import { describe, expect, it } from 'vitest';
import type {
  LocalDoc,
  LocalStore,
  LocalWrite,
  OutboxEntry,
  ViewState,
} from '../../client/index.js';

export interface LocalStoreFixture {
  name: string;
  /** A new, empty store. */
  open(): Promise<LocalStore>;
  /** Closes `store` and opens the same data again (omit for stores that keep nothing). */
  reopen?(store: LocalStore): Promise<LocalStore>;
  /** Makes the store's next `write()` fail part way through at the storage layer (after some of its writes), if the store can. */
  failNextWrite?(store: LocalStore): void;
  /** Tests to skip, each with its reason. */
  skip?: Record<string, string>;
}

const HLC = '20260502T120000.000Z-0001-a1b2';

export function doc(
  collection: string,
  id: string,
  data: LocalDoc['data'],
  extra: Partial<LocalDoc> = {},
): LocalDoc {
  return { collection, id, data, version: null, server: null, ...extra };
}

export function entry(
  mutationId: number,
  collection = 'tasks',
  id = `t${mutationId}`,
  data: OutboxEntry['data'] = { title: `m${mutationId}` },
): OutboxEntry {
  return { mutationId, collection, id, op: 'upsert', data, baseVersion: null, hlc: HLC };
}

const put = (d: LocalDoc): LocalWrite => ({ type: 'putDoc', doc: d });

/**
 * Ids and strings in the one canonical order of every store, client and server: Unicode code point
 * order, which is UTF-8 byte order (PostgreSQL's COLLATE "C", MongoDB, SQLite's BINARY). It differs
 * from JavaScript's `<` (UTF-16 code units) where a BMP character above the surrogates (U+FF01 `！`)
 * meets an astral one (U+1F600 😀, stored as the surrogates D83D DE00): code points put 😀 last.
 */
export const CODE_POINT_ORDER = [
  'A',
  'a',
  'a\uff01',
  'a\uffff',
  'a\u{10000}',
  'a😀',
  'z',
  'é',
  '\ud7ff',
  '\ue000',
  '\uff01',
  '\uff01!',
  '\uffff',
  '😀',
  '😀!',
  '\u{10ffff}',
];
/** The same strings in JavaScript's UTF-16 order, to show the test can tell the two apart. */
const UTF16_ORDER = [...CODE_POINT_ORDER].sort();
const append = (e: OutboxEntry): LocalWrite => ({ type: 'appendOutbox', entry: e });

/** Runs the whole contract against one store. */
export function runLocalStoreConformance(fixture: LocalStoreFixture): void {
  /** A contract test; one that `needs` a fixture hook the store lacks is reported as skipped with that reason, never as passed. */
  const test = (name: string, fn: () => Promise<void>, needs?: 'failNextWrite' | 'reopen') => {
    const reason =
      fixture.skip?.[name] ??
      (needs && !fixture[needs] ? `the ${fixture.name} fixture has no ${needs} hook` : undefined);
    if (reason) it.skip(`${name} (skipped: ${reason})`, fn);
    else it(name, fn);
  };
  const withStore = async (fn: (s: LocalStore) => Promise<void>) => {
    const store = await fixture.open();
    try {
      await fn(store);
    } finally {
      await store.close?.();
    }
  };

  describe(`local store conformance: ${fixture.name}`, () => {
    describe('documents', () => {
      test('answers null for a document it does not have', () =>
        withStore(async (s) => {
          expect(await s.getDoc('tasks', 'nope')).toBeNull();
          expect(await s.getDocs('tasks', ['a', 'b'])).toEqual([null, null]);
        }));

      test('stores a document with every field as given, unicode ids included', () =>
        withStore(async (s) => {
          const d = doc(
            'tasks',
            'ü/ß 😀\'"',
            { title: 'x', n: 1.5, tags: ['a'], nested: { deep: [1, { b: null }] }, done: false },
            { version: HLC, server: { title: 'old' }, pending: true, mark: 'r1' },
          );
          await s.write([put(d)]);
          expect(await s.getDoc('tasks', d.id)).toEqual(d);
        }));

      test('returns copies: changing an answer does not change the store', () =>
        withStore(async (s) => {
          await s.write([put(doc('tasks', 'a', { title: 'x' }))]);
          const got = (await s.getDoc('tasks', 'a'))!;
          got.data!.title = 'changed';
          expect((await s.getDoc('tasks', 'a'))!.data).toEqual({ title: 'x' });
        }));

      test('reads several documents by key, in the order asked', () =>
        withStore(async (s) => {
          await s.write([
            put(doc('tasks', 'a', { n: 1 })),
            put(doc('tasks', 'c', { n: 3 })),
            put(doc('notes', 'b', { n: 9 })),
          ]);
          const got = await s.getDocs('tasks', ['c', 'b', 'a']);
          expect(got.map((d) => d?.data ?? null)).toEqual([{ n: 3 }, null, { n: 1 }]);
        }));

      test('keeps collections apart', () =>
        withStore(async (s) => {
          await s.write([put(doc('tasks', 'a', { t: 1 })), put(doc('notes', 'a', { n: 1 }))]);
          expect((await s.getDoc('tasks', 'a'))!.data).toEqual({ t: 1 });
          expect((await s.getDoc('notes', 'a'))!.data).toEqual({ n: 1 });
          expect((await s.listDocs('notes')).map((d) => d.id)).toEqual(['a']);
        }));

      test('replaces a document and deletes it', () =>
        withStore(async (s) => {
          await s.write([put(doc('tasks', 'a', { v: 1 }))]);
          await s.write([put(doc('tasks', 'a', { v: 2 }, { version: HLC }))]);
          expect((await s.getDoc('tasks', 'a'))!.data).toEqual({ v: 2 });
          await s.write([{ type: 'deleteDoc', collection: 'tasks', id: 'a' }]);
          expect(await s.getDoc('tasks', 'a')).toBeNull();
          await s.write([{ type: 'deleteDoc', collection: 'tasks', id: 'never-there' }]);
        }));

      test('applies the writes of one batch in order', () =>
        withStore(async (s) => {
          await s.write([
            put(doc('tasks', 'a', { v: 1 })),
            { type: 'deleteDoc', collection: 'tasks', id: 'a' },
            put(doc('tasks', 'b', { v: 1 })),
            put(doc('tasks', 'b', { v: 2 })),
          ]);
          expect(await s.getDoc('tasks', 'a')).toBeNull();
          expect((await s.getDoc('tasks', 'b'))!.data).toEqual({ v: 2 });
        }));

      test('lists a collection in pages in id order, tombstones included', () =>
        withStore(async (s) => {
          const ids = Array.from(
            { length: 25 },
            (_, i) => `d${String(i).padStart(3, '0')}`,
          ).reverse();
          await s.write(ids.map((id, i) => put(doc('tasks', id, i % 5 === 0 ? null : { i }))));
          await s.write([put(doc('notes', 'd005', { other: true }))]);
          const seen: string[] = [];
          let after: string | undefined;
          for (;;) {
            const page = await s.listDocs('tasks', { after, limit: 7 });
            if (page.length === 0) break;
            expect(page.length).toBeLessThanOrEqual(7);
            seen.push(...page.map((d) => d.id));
            after = page[page.length - 1]!.id;
          }
          expect(seen).toEqual([...ids].sort());
          expect(
            (await s.listDocs('tasks', { after: 'd0105', limit: 100 })).map((d) => d.id),
          ).toEqual([
            'd011',
            'd012',
            'd013',
            'd014',
            'd015',
            'd016',
            'd017',
            'd018',
            'd019',
            'd020',
            'd021',
            'd022',
            'd023',
            'd024',
          ]);
          expect(await s.listDocs('empty')).toEqual([]);
        }));

      test('lists ids in code point (UTF-8 byte) order, astral ids after U+FFFF-range ones, in pages and after any id', () =>
        withStore(async (s) => {
          expect(UTF16_ORDER).not.toEqual(CODE_POINT_ORDER);
          const shuffled = [...CODE_POINT_ORDER]
            .reverse()
            .sort((a, b) => (a.length % 3) - (b.length % 3));
          await s.write(shuffled.map((id, i) => put(doc('tasks', id, i === 3 ? null : { i }))));
          const seen: string[] = [];
          let after: string | undefined;
          for (;;) {
            const page = await s.listDocs('tasks', { after, limit: 3 });
            if (page.length === 0) break;
            seen.push(...page.map((d) => d.id));
            after = page[page.length - 1]!.id;
          }
          expect(seen).toEqual(CODE_POINT_ORDER);
          // A range that starts between the two orders' disagreements, and at ids the store does not hold.
          expect(
            (await s.listDocs('tasks', { after: '\uff01', limit: 100 })).map((d) => d.id),
          ).toEqual(['\uff01!', '\uffff', '😀', '😀!', '\u{10ffff}']);
          expect(
            (await s.listDocs('tasks', { after: '\ufffe', limit: 2 })).map((d) => d.id),
          ).toEqual(['\uffff', '😀']);
          expect(
            (await s.listDocs('tasks', { after: '\ud83d\ude00', limit: 1 })).map((d) => d.id),
          ).toEqual(['😀!']);
        }));

      test('counts live documents without tombstones', () =>
        withStore(async (s) => {
          expect(await s.countDocs('tasks')).toBe(0);
          await s.write([
            put(doc('tasks', 'a', { v: 1 })),
            put(doc('tasks', 'b', null)),
            put(doc('tasks', 'c', { v: 1 })),
            put(doc('notes', 'x', { v: 1 })),
          ]);
          expect(await s.countDocs('tasks')).toBe(2);
          await s.write([
            put(doc('tasks', 'a', null)),
            { type: 'deleteDoc', collection: 'tasks', id: 'c' },
            put(doc('tasks', 'b', { v: 2 })),
          ]);
          expect(await s.countDocs('tasks')).toBe(1);
          expect(await s.countDocs('notes')).toBe(1);
        }));
    });

    describe('queries', () => {
      const seed = async (s: LocalStore) => {
        await s.write([
          put(doc('tasks', 'a', { title: 'pear', done: false, priority: 2, owner: 'ann' })),
          put(doc('tasks', 'b', { title: 'apple', done: true, priority: 1, owner: 'bob' })),
          put(doc('tasks', 'c', { title: 'fig', done: false, priority: 3 })),
          put(doc('tasks', 'd', { title: 'kiwi', done: false, priority: 2, owner: 'ann' })),
          put(doc('tasks', 'e', null)),
          put(doc('tasks', 'f', { title: 'date', done: true, priority: 5, owner: null })),
          put(doc('notes', 'a', { title: 'pear', done: false })),
        ]);
      };
      const ids = (docs: LocalDoc[]) => docs.map((d) => d.id);

      test('matches fields by equality (strings, numbers, booleans), never tombstones or other collections', () =>
        withStore(async (s) => {
          await seed(s);
          expect(ids(await s.queryDocs('tasks', {}))).toEqual(['a', 'b', 'c', 'd', 'f']);
          expect(ids(await s.queryDocs('tasks', { where: { done: false } }))).toEqual([
            'a',
            'c',
            'd',
          ]);
          expect(ids(await s.queryDocs('tasks', { where: { owner: 'ann', priority: 2 } }))).toEqual(
            ['a', 'd'],
          );
          expect(ids(await s.queryDocs('tasks', { where: { title: 'pear' } }))).toEqual(['a']);
          expect(ids(await s.queryDocs('tasks', { where: { priority: 2.5 } }))).toEqual([]);
          expect(ids(await s.queryDocs('tasks', { where: { done: 'false' } }))).toEqual([]);
          expect(ids(await s.queryDocs('tasks', { where: { priority: '2' } }))).toEqual([]);
        }));

      test('null matches a null or missing field', () =>
        withStore(async (s) => {
          await seed(s);
          expect(ids(await s.queryDocs('tasks', { where: { owner: null } }))).toEqual(['c', 'f']);
        }));

      test('orders by a field (then id), both directions, with limit and offset', () =>
        withStore(async (s) => {
          await seed(s);
          expect(ids(await s.queryDocs('tasks', { orderBy: { field: 'priority' } }))).toEqual([
            'b',
            'a',
            'd',
            'c',
            'f',
          ]);
          expect(
            ids(await s.queryDocs('tasks', { orderBy: { field: 'priority', direction: 'desc' } })),
          ).toEqual(['f', 'c', 'a', 'd', 'b']);
          expect(ids(await s.queryDocs('tasks', { orderBy: { field: 'title' } }))).toEqual([
            'b',
            'f',
            'c',
            'd',
            'a',
          ]);
          expect(
            ids(
              await s.queryDocs('tasks', {
                where: { done: false },
                orderBy: { field: 'priority' },
                limit: 2,
              }),
            ),
          ).toEqual(['a', 'd']);
          expect(
            ids(
              await s.queryDocs('tasks', { orderBy: { field: 'priority' }, limit: 2, offset: 2 }),
            ),
          ).toEqual(['d', 'c']);
          expect(ids(await s.queryDocs('tasks', { offset: 4 }))).toEqual(['f']);
          expect(ids(await s.queryDocs('tasks', { orderBy: { field: 'owner' } }))).toEqual([
            'c',
            'f',
            'a',
            'd',
            'b',
          ]);
        }));

      test('orders strings and breaks ties by id in code point (UTF-8 byte) order, on the indexed and the scanning path', () =>
        withStore(async (s) => {
          // `label` is a plain field; `la"bel` cannot be quoted in a SQLite JSON path, so SQLite answers it in JS (its predicate path).
          const n = CODE_POINT_ORDER.length;
          await s.write(
            CODE_POINT_ORDER.map((v, i) =>
              put(
                doc('tasks', `id-${String((i * 7) % n).padStart(2, '0')}`, {
                  label: v,
                  'la"bel': v,
                  same: 'x',
                  kind: i % 2 === 0 ? 'even' : 'odd',
                }),
              ),
            ),
          );
          await s.write(
            CODE_POINT_ORDER.map((v) => put(doc('ties', v, { same: 'x', 'sa"me': 'x' }))),
          );
          const labels = (docs: LocalDoc[]) => docs.map((d) => d.data!.label);
          for (const field of ['label', 'la"bel']) {
            const asc = await s.queryDocs('tasks', { orderBy: { field } });
            expect(asc.map((d) => d.data![field])).toEqual(CODE_POINT_ORDER);
            const desc = await s.queryDocs('tasks', { orderBy: { field, direction: 'desc' } });
            expect(desc.map((d) => d.data![field])).toEqual([...CODE_POINT_ORDER].reverse());
            const page = await s.queryDocs('tasks', { orderBy: { field }, offset: 12, limit: 2 });
            expect(page.map((d) => d.data![field])).toEqual(CODE_POINT_ORDER.slice(12, 14));
          }
          expect(
            labels(
              await s.queryDocs('tasks', { where: { kind: 'even' }, orderBy: { field: 'label' } }),
            ),
          ).toEqual(CODE_POINT_ORDER.filter((_, i) => i % 2 === 0));
          expect(labels(await s.queryDocs('tasks', { where: { label: '😀' } }))).toEqual(['😀']);
          expect(labels(await s.queryDocs('tasks', { where: { 'la"bel': '\uff01' } }))).toEqual([
            '\uff01',
          ]);
          // Equal values: ties by id, ascending in both directions, on both paths.
          const ids = (docs: LocalDoc[]) => docs.map((d) => d.id);
          expect(ids(await s.queryDocs('ties', {}))).toEqual(CODE_POINT_ORDER);
          expect(
            ids(await s.queryDocs('ties', { orderBy: { field: 'same', direction: 'desc' } })),
          ).toEqual(CODE_POINT_ORDER);
          expect(ids(await s.queryDocs('ties', { orderBy: { field: 'sa"me' } }))).toEqual(
            CODE_POINT_ORDER,
          );
          expect(
            ids(await s.queryDocs('ties', { where: { 'sa"me': 'x' }, limit: 3, offset: 12 })),
          ).toEqual(CODE_POINT_ORDER.slice(12, 15));
        }));

      test('answers the documents whole', () =>
        withStore(async (s) => {
          await seed(s);
          const [a] = await s.queryDocs('tasks', { where: { title: 'pear' } });
          expect(a).toEqual(
            doc('tasks', 'a', { title: 'pear', done: false, priority: 2, owner: 'ann' }),
          );
        }));
    });

    describe('outbox', () => {
      test('lists entries in mutation id order, by limit, range, collection and document', () =>
        withStore(async (s) => {
          await s.write([
            append(entry(1, 'tasks', 'a')),
            append(entry(2, 'notes', 'a')),
            append(entry(3, 'tasks', 'b')),
          ]);
          await s.write([append(entry(4, 'tasks', 'a')), append(entry(7, 'tasks', 'c'))]);
          const m = (es: OutboxEntry[]) => es.map((e) => e.mutationId);
          expect(m(await s.listOutbox())).toEqual([1, 2, 3, 4, 7]);
          expect(await s.listOutbox({ limit: 1 })).toEqual([entry(1, 'tasks', 'a')]);
          expect(m(await s.listOutbox({ limit: 2, afterMutationId: 2 }))).toEqual([3, 4]);
          expect(m(await s.listOutbox({ collection: 'tasks' }))).toEqual([1, 3, 4, 7]);
          expect(m(await s.listOutbox({ collection: 'tasks', id: 'a' }))).toEqual([1, 4]);
          expect(m(await s.listOutbox({ collection: 'notes', id: 'a' }))).toEqual([2]);
          expect(await s.countOutbox()).toBe(5);
        }));

      test('keeps entries exactly as appended (delete and patch changes too)', () =>
        withStore(async (s) => {
          const del: OutboxEntry = {
            mutationId: 1,
            collection: 'tasks',
            id: 'x',
            op: 'delete',
            data: null,
            baseVersion: HLC,
            hlc: HLC,
          };
          const patch: OutboxEntry = {
            mutationId: 2,
            collection: 'tasks',
            id: 'x',
            op: 'patch',
            data: { title: null, n: 2 },
            baseVersion: null,
            hlc: HLC,
          };
          await s.write([append(del), append(patch)]);
          expect(await s.listOutbox()).toEqual([del, patch]);
        }));

      test('removes answered entries, leaving the rest in order', () =>
        withStore(async (s) => {
          await s.write([1, 2, 3, 4, 5].map((i) => append(entry(i))));
          await s.write([{ type: 'removeOutbox', mutationIds: [1, 3, 99] }]);
          expect((await s.listOutbox()).map((e) => e.mutationId)).toEqual([2, 4, 5]);
          expect(await s.countOutbox()).toBe(3);
          expect((await s.listOutbox({ collection: 'tasks', id: 't3' })).length).toBe(0);
          await s.write([{ type: 'removeOutbox', mutationIds: [2, 4, 5] }]);
          expect(await s.countOutbox()).toBe(0);
          await s.write([append(entry(6))]);
          expect((await s.listOutbox()).map((e) => e.mutationId)).toEqual([6]);
        }));
    });

    describe('metadata', () => {
      test('answers null before a key is set, then the last value set', () =>
        withStore(async (s) => {
          expect(await s.getMeta('checkpoint')).toBeNull();
          expect(await s.getMeta('resync')).toBeNull();
          await s.write([
            { type: 'setMeta', key: 'checkpoint', value: 'c1.x.1' },
            { type: 'setMeta', key: 'clientId', value: 'c-1' },
            { type: 'setMeta', key: 'nextMutationId', value: 7 },
            { type: 'setMeta', key: 'hlc', value: HLC },
            {
              type: 'setMeta',
              key: 'resync',
              value: { mark: 'r1', cursor: 'k', checkpoint: 'c1.x.1', done: 10 },
            },
          ]);
          await s.write([{ type: 'setMeta', key: 'nextMutationId', value: 8 }]);
          expect(await s.getMeta('checkpoint')).toBe('c1.x.1');
          expect(await s.getMeta('clientId')).toBe('c-1');
          expect(await s.getMeta('nextMutationId')).toBe(8);
          expect(await s.getMeta('hlc')).toBe(HLC);
          expect(await s.getMeta('resync')).toEqual({
            mark: 'r1',
            cursor: 'k',
            checkpoint: 'c1.x.1',
            done: 10,
          });
          await s.write([
            { type: 'setMeta', key: 'resync', value: null },
            { type: 'setMeta', key: 'checkpoint', value: null },
          ]);
          expect(await s.getMeta('resync')).toBeNull();
          expect(await s.getMeta('checkpoint')).toBeNull();
        }));

      test('keeps a list of rejected changes', () =>
        withStore(async (s) => {
          const rejected = [
            {
              change: entry(1),
              error: {
                code: 'INVALID_DOCUMENT',
                message: 'bad',
                issues: [{ path: 'changes.0.data.title', message: 'x' }],
              },
              kind: 'result' as const,
              at: '2026-12-02T10:00:00.000Z',
            },
          ];
          await s.write([{ type: 'setMeta', key: 'rejected', value: rejected }]);
          expect(await s.getMeta('rejected')).toEqual(rejected);
        }));
    });

    describe('subscriptions (views)', () => {
      const view = (key: string, extra: Partial<ViewState> = {}): ViewState => ({
        key,
        rule: key.split('{')[0]!,
        params: null,
        collection: null,
        checkpoint: null,
        rebuild: null,
        ready: false,
        leaving: false,
        at: '2026-12-07T10:00:00.000Z',
        ...extra,
      });

      test('stores the views of a document as given, and replaces them on the next put', () =>
        withStore(async (s) => {
          const d = doc(
            'tasks',
            'a',
            { title: 'x' },
            {
              version: HLC,
              server: { title: 'x' },
              views: { '': '', 'project{"projectId":"p1"}': 'r9' },
            },
          );
          await s.write([put(d), put(doc('tasks', 'b', { title: 'y' }, { views: {} }))]);
          expect(await s.getDoc('tasks', 'a')).toEqual(d);
          expect((await s.getDocs('tasks', ['b']))[0]!.views).toEqual({});
          expect((await s.listDocs('tasks')).map((x) => x.views)).toEqual([d.views, {}]);
          expect((await s.queryDocs('tasks', { where: { title: 'x' } }))[0]!.views).toEqual(
            d.views,
          );
          await s.write([put({ ...d, views: { '': '' } })]);
          expect((await s.getDoc('tasks', 'a'))!.views).toEqual({ '': '' });
          await s.write([put(doc('tasks', 'a', { title: 'x' }))]);
          expect((await s.getDoc('tasks', 'a'))!.views ?? undefined).toBeUndefined();
        }));

      test('keeps the subscriptions with their checkpoints and rebuild cursors in metadata', () =>
        withStore(async (s) => {
          expect(await s.getMeta('views')).toBeNull();
          const views = {
            mine: view('mine', { checkpoint: 'c1.x.3', ready: true, collection: 'tasks' }),
            'project{"projectId":"p1"}': view('project{"projectId":"p1"}', {
              params: { projectId: 'p1' },
              rebuild: { mark: 'v1', cursor: 'k9', checkpoint: 'c1.x.2', done: 500 },
            }),
          };
          await s.write([{ type: 'setMeta', key: 'views', value: views }]);
          expect(await s.getMeta('views')).toEqual(views);
        }));

      test(
        'keeps subscriptions and document views across a close and reopen',
        async () => {
          let s = await fixture.open();
          const views = {
            mine: view('mine', {
              checkpoint: 'c1.x.3',
              ready: true,
              rebuild: { mark: 'v2', cursor: 'k', checkpoint: 'c1.x.3', done: 2 },
            }),
          };
          await s.write([
            put(doc('tasks', 'a', { v: 1 }, { views: { mine: 'v2' } })),
            { type: 'setMeta', key: 'views', value: views },
          ]);
          s = await fixture.reopen!(s);
          try {
            expect((await s.getDoc('tasks', 'a'))!.views).toEqual({ mine: 'v2' });
            expect(await s.getMeta('views')).toEqual(views);
          } finally {
            await s.close?.();
          }
        },
        'reopen',
      );
    });

    describe('atomic batches', () => {
      const state = async (s: LocalStore) => ({
        docs: await s.listDocs('tasks'),
        outbox: await s.listOutbox(),
        next: await s.getMeta('nextMutationId'),
        count: await s.countDocs('tasks'),
      });

      test('refuses an outbox entry whose mutation id is not above the ones before, and then writes nothing of its batch', () =>
        withStore(async (s) => {
          await s.write([
            put(doc('tasks', 'a', { v: 1 })),
            append(entry(5)),
            { type: 'setMeta', key: 'nextMutationId', value: 6 },
          ]);
          const before = await state(s);
          await expect(
            s.write([
              put(doc('tasks', 'a', { v: 2 })),
              put(doc('tasks', 'b', { v: 1 })),
              { type: 'setMeta', key: 'nextMutationId', value: 9 },
              append(entry(4)),
            ]),
          ).rejects.toThrow();
          expect(await state(s)).toEqual(before);
          await expect(s.write([append(entry(6)), append(entry(6))])).rejects.toThrow();
          expect(await state(s)).toEqual(before);
        }));

      test('a value that cannot be stored fails the whole batch', () =>
        withStore(async (s) => {
          await s.write([put(doc('tasks', 'a', { v: 1 }))]);
          const before = await state(s);
          await expect(
            s.write([
              put(doc('tasks', 'a', { v: 2 })),
              append(entry(1)),
              put(doc('tasks', 'bad', { n: 10n as unknown as number })),
            ]),
          ).rejects.toThrow();
          expect(await state(s)).toEqual(before);
        }));

      test(
        'a storage failure part way through a batch leaves nothing',
        async () => {
          await withStore(async (s) => {
            await s.write([put(doc('tasks', 'a', { v: 1 }))]);
            const before = await state(s);
            fixture.failNextWrite!(s);
            await expect(
              s.write([
                put(doc('tasks', 'a', { v: 2 })),
                put(doc('tasks', 'b', { v: 1 })),
                append(entry(1)),
                { type: 'setMeta', key: 'nextMutationId', value: 2 },
              ]),
            ).rejects.toThrow();
            expect(await state(s)).toEqual(before);
            await s.write([put(doc('tasks', 'c', { v: 1 }))]);
            expect(await s.countDocs('tasks')).toBe(2);
          });
        },
        'failNextWrite',
      );
    });

    describe('reopen', () => {
      test(
        'keeps documents, a pending outbox and metadata across a close and reopen',
        async () => {
          let s = await fixture.open();
          await s.write([
            put(doc('tasks', 'a', { v: 1 }, { pending: true })),
            put(doc('tasks', 'z', null)),
            append(entry(1, 'tasks', 'a')),
            append(entry(2, 'tasks', 'a')),
            { type: 'setMeta', key: 'nextMutationId', value: 3 },
            { type: 'setMeta', key: 'checkpoint', value: 'c1.x.7' },
          ]);
          await s.write([{ type: 'removeOutbox', mutationIds: [1] }]);
          s = await fixture.reopen!(s);
          try {
            expect(await s.getDoc('tasks', 'a')).toEqual(
              doc('tasks', 'a', { v: 1 }, { pending: true }),
            );
            expect(await s.countDocs('tasks')).toBe(1);
            expect((await s.listDocs('tasks')).map((d) => d.id)).toEqual(['a', 'z']);
            expect((await s.listOutbox()).map((e) => e.mutationId)).toEqual([2]);
            expect(await s.getMeta('nextMutationId')).toBe(3);
            expect(await s.getMeta('checkpoint')).toBe('c1.x.7');
            await expect(s.write([append(entry(2))])).rejects.toThrow();
            await s.write([append(entry(3))]);
            expect(await s.countOutbox()).toBe(2);
          } finally {
            await s.close?.();
          }
        },
        'reopen',
      );
    });

    describe('scale', () => {
      test('writes 3,000 documents in batches and pages through them all', () =>
        withStore(async (s) => {
          for (let b = 0; b < 6; b++) {
            await s.write(
              Array.from({ length: 500 }, (_, i) =>
                put(
                  doc('tasks', `k${String(b * 500 + i).padStart(5, '0')}`, {
                    i: b * 500 + i,
                    even: i % 2 === 0,
                  }),
                ),
              ),
            );
          }
          expect(await s.countDocs('tasks')).toBe(3000);
          let n = 0;
          let after: string | undefined;
          for (;;) {
            const page = await s.listDocs('tasks', { after, limit: 1000 });
            if (page.length === 0) break;
            n += page.length;
            after = page[page.length - 1]!.id;
          }
          expect(n).toBe(3000);
          expect((await s.queryDocs('tasks', { where: { even: true } })).length).toBe(1500);
          expect(
            (
              await s.queryDocs('tasks', { orderBy: { field: 'i', direction: 'desc' }, limit: 1 })
            )[0]!.data,
          ).toEqual({ i: 2999, even: false });
        }));
    });
  });
}
