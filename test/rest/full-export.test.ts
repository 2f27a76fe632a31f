/** `GET /sync/full` over the Node adapter: large pages are written in a few big chunks, without leaking listeners while waiting for `drain`. */
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FULL_CHUNK_BYTES } from '../../server/rest/full.js';
import { api, startServer, storeCases } from './harness.js';
import { rawGet } from './raw-http.js';

const cases = await storeCases();
const { create } = cases[0]!;

/** ~1 KiB documents: 1,000 of them make a ~1 MiB page (many 64 KiB chunks, each waiting for `drain`). */
const bigChanges = (start: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    mutationId: start + i,
    collection: 'tasks',
    id: `big${String(start + i).padStart(5, '0')}`,
    op: 'upsert' as const,
    data: { title: `${start + i} `.padEnd(1000, 'x'), done: false },
  }));

describe(`REST full export through toNodeHandler (${cases[0]!.name})`, () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });

  it('exports a page needing many drains with no MaxListenersExceededWarning, in large chunks, plain and gzip', async () => {
    await using s = await startServer(await create());
    const token = await s.token('alice', 'acme');
    for (let i = 0; i < 1000; i += 250) {
      const res = await api(s.base, '/sync/push', {
        token,
        body: { clientId: 'big', changes: bigChanges(i + 1, 250) },
      });
      expect(res.status).toBe(200);
    }
    for (const gzip of [false, true]) {
      const chunks: number[] = [];
      const res = await rawGet(
        `${s.base}/sync/full?limit=1000`,
        { authorization: `Bearer ${token}`, ...(gzip ? { 'accept-encoding': 'gzip' } : {}) },
        (chunk) => chunks.push(chunk.length),
      );
      expect(res.status).toBe(200);
      expect(res.headers['x-sync-cursor']).toBeUndefined();
      const lines = (gzip ? gunzipSync(res.body) : res.body).toString('utf8').split('\n');
      expect(lines.pop()).toBe('');
      const docs = lines.map((l) => JSON.parse(l));
      expect(docs).toHaveLength(1000);
      expect(docs.map((d) => d.id)).toEqual(bigChanges(1, 1000).map((c) => c.id));
      expect(docs[0]).toMatchObject({
        collection: 'tasks',
        deleted: false,
        data: { title: expect.stringMatching(/^1 x+$/), done: false },
      });
      if (!gzip) {
        // ~1 MiB in chunks of about FULL_CHUNK_BYTES, not one chunk per document.
        expect(res.body.length).toBeGreaterThan(16 * FULL_CHUNK_BYTES * 0.9);
        expect(chunks.length).toBeLessThan(100);
      }
    }
    // Any pending process warning is emitted on nextTick: one macrotask turn later it has arrived.
    await new Promise((r) => setImmediate(r));
    expect(
      warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
    ).toEqual([]);
  });
});
