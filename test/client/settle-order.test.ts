/**
 * A push answer that arrives after the stream already delivered a later commit of the same
 * document never moves its server state back (found while adding integrity checksums: the
 * replica would hold an older version with data the server no longer has, and its checksum
 * would disagree at the next checkpoint). Scripted api, live mode, memory store.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSyncSchema } from '../../shared/schema.js';
import type { PushInput, PushResponse, StreamEvent } from '../../shared/protocol.js';
import {
  createSyncClient,
  memoryLocalStore,
  type StreamObserver,
  type SyncApi,
} from '../../client/index.js';

const schema = defineSyncSchema({
  tasks: z.object({ title: z.string(), done: z.boolean().default(false) }),
});
const MINE = '20260502T120000.000Z-0000-srv1';
const LATER = '20260502T120001.000Z-0000-srv1';

describe('settling a push answer after a later commit arrived', () => {
  it('keeps the later server state (version and data) instead of re-applying the change on top', async () => {
    let observer: StreamObserver | null = null;
    let subscribed!: () => void;
    const streaming = new Promise<void>((resolve) => (subscribed = resolve));
    let answer!: (response: PushResponse) => void;
    let pushed!: (input: PushInput) => void;
    const pushSent = new Promise<PushInput>((resolve) => (pushed = resolve));
    const api: SyncApi = {
      push: {
        mutate: (input) =>
          new Promise<PushResponse>((resolve) => {
            answer = resolve;
            pushed(input);
          }),
      },
      pull: { query: async () => ({ changes: [], checkpoint: 'c1.e.0', hasMore: false }) },
      full: { query: async () => ({ docs: [], cursor: null, checkpoint: 'c1.e.0' }) },
      stream: {
        subscribe: (_input, o) => {
          observer = o;
          subscribed();
          return { unsubscribe() {} };
        },
      },
    };
    const client = createSyncClient({
      api,
      schema,
      store: memoryLocalStore(),
      clientId: 'dev1',
      ping: false,
      pushDebounceMs: 0,
    });
    await client.start();
    await streaming;
    const tasks = client.collection('tasks');
    await tasks.put('t1', { title: 'mine' });
    const input = await pushSent;

    // The stream delivers my commit and then another device's later one before my push is answered.
    const applied = new Promise<void>((resolve) => {
      const off = client.on('change', (e) => {
        if (e.source === 'server' && e.ids.includes('t1')) {
          off();
          resolve();
        }
      });
    });
    const event: StreamEvent = {
      type: 'changes',
      checkpoint: 'c1.e.2',
      changes: [
        {
          collection: 'tasks',
          id: 't1',
          op: 'upsert',
          data: { title: 'theirs', done: true },
          version: LATER,
        },
      ],
    };
    observer!.onData?.({ id: 'c1.e.2', data: event });
    await applied;

    const settled = new Promise<void>((resolve) => {
      const off = client.on('change', (e) => {
        if (e.source === 'server' && e.ids.includes('t1')) {
          off();
          resolve();
        }
      });
    });
    answer({
      results: [
        {
          mutationId: input.changes[0]!.mutationId,
          collection: 'tasks',
          id: 't1',
          status: 'accepted',
          version: MINE,
        },
      ],
      serverTime: LATER,
    });
    await settled;
    expect(await client.pending()).toBe(0);
    const doc = await client.store.getDoc('tasks', 't1');
    expect(doc).toMatchObject({
      version: LATER,
      server: { title: 'theirs', done: true },
      data: { title: 'theirs', done: true },
    });
    await client.close();
  });
});
