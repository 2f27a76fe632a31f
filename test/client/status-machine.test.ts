/**
 * Unit tests of the status machinery on a scripted clock (no real sleeps): backoff bounds, jitter
 * and cap; hysteresis (transitions counted over scripted sequences: no flapping); the stall
 * watchdog; the reachability ping's bound; what a failure says about the server.
 */
import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { createSyncClient, createTokenSource, type SyncApi } from '../../client/index.js';
import { PoisonTracker } from '../../client/dead-letters.js';
import { DiagnosticsRecorder, RECENT_ERRORS } from '../../client/diagnostics.js';
import { demoSchema } from '../../server/demo/schema.js';
import { eventually } from './harness.js';
import { Pinger } from '../../client/ping.js';
import { backoffDelay, retryDelay, withRetry, type RetryOptions } from '../../client/retry.js';
import {
  classifyFailure,
  deriveStatus,
  offlineError,
  StatusTracker,
  type StatusDetail,
  type StatusFacts,
} from '../../client/status.js';
import { StallWatchdog } from '../../client/watchdog.js';
import type { OutboxEntry } from '../../client/local-store.js';
import { FakeTimers } from './fake-timers.js';
import { fakeConnectivity } from './fake-connectivity.js';

const RETRY: RetryOptions = { retries: 5, baseMs: 250, maxMs: 30_000 };

/** A tRPC-like failure: `data: null` is "no answer" (the network), else an answer with this code and HTTP status. */
const noAnswer = () => TRPCClientError.from(new Error('fetch failed: connect ECONNREFUSED'));
const answered = (
  code: string,
  httpStatus: number,
  sync: Record<string, unknown> | null = { code },
) => Object.assign(new Error(`${code} from the server`), { data: { code, httpStatus, sync } });

/** Lets promise callbacks run (not a sleep: time does not move). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function tracker(online = true) {
  const timers = new FakeTimers();
  const connectivity = fakeConnectivity(online);
  const seen: StatusDetail[] = [];
  const status = new StatusTracker((d) => seen.push(d), connectivity, timers);
  connectivity.subscribe((up) => status.connectivityChanged(up));
  return { status, seen, timers, connectivity, states: () => seen.map((d) => d.status) };
}

describe('backoff', () => {
  it('is exponential from baseMs, between half and all of its ceiling, and capped at maxMs', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(RETRY.maxMs, RETRY.baseMs * 2 ** attempt);
      expect(backoffDelay(attempt, RETRY, () => 0)).toBe(ceiling / 2);
      expect(backoffDelay(attempt, RETRY, () => 0.999999)).toBeCloseTo(ceiling, 1);
      expect(backoffDelay(attempt, RETRY)).toBeLessThanOrEqual(RETRY.maxMs);
    }
    expect(backoffDelay(0, RETRY, () => 0)).toBe(125);
    expect(backoffDelay(3, RETRY, () => 0)).toBe(1000);
    expect(backoffDelay(1000, RETRY, () => 1)).toBe(30_000); // huge attempt numbers stay finite and capped
  });

  it('has jitter: delays of one attempt spread over the upper half of the ceiling', () => {
    const delays = Array.from({ length: 2000 }, () => backoffDelay(4, RETRY)); // ceiling 4000
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(4000);
    expect(new Set(delays.map((d) => Math.floor(d / 200))).size).toBeGreaterThanOrEqual(9); // all 10 buckets of 200 ms, give or take one
    const below = delays.filter((d) => d < 3000).length;
    expect(below).toBeGreaterThan(800);
    expect(below).toBeLessThan(1200);
  });

  it('waits as long as the server asks (retryAfterMs), never above maxMs', () => {
    const limited = (ms: number) =>
      answered('TOO_MANY_REQUESTS', 429, { code: 'TOO_MANY_REQUESTS', retryAfterMs: ms });
    expect(retryDelay(limited(5000), 0, RETRY, () => 0)).toBe(5000);
    expect(retryDelay(limited(10), 3, RETRY, () => 0)).toBe(1000); // the backoff when it is longer
    expect(retryDelay(limited(120_000), 0, RETRY, () => 0)).toBe(30_000);
  });

  it('withRetry stops before a retry once the guard says offline (no request sent)', async () => {
    let online = true;
    let calls = 0;
    const run = withRetry(
      async () => {
        calls++;
        online = false; // the network goes while the first request fails
        throw noAnswer();
      },
      { retries: 5, baseMs: 1, maxMs: 1 },
      undefined,
      undefined,
      () => {
        if (!online) throw offlineError('push()');
      },
    );
    await expect(run).rejects.toThrow(/offline/);
    expect(calls).toBe(1);
  });
});

describe('what a failure says about the server', () => {
  it('no answer and 502/503/504 are unreachable; 408/429/500 and unreadable answers are transient; 4xx refusals are refusals', () => {
    expect(classifyFailure(noAnswer())).toBe('unreachable');
    expect(classifyFailure(answered('BAD_GATEWAY', 502, null))).toBe('unreachable');
    expect(classifyFailure(answered('SERVICE_UNAVAILABLE', 503))).toBe('unreachable');
    expect(classifyFailure(answered('INTERNAL_SERVER_ERROR', 500))).toBe('transient');
    expect(classifyFailure(answered('TOO_MANY_REQUESTS', 429))).toBe('transient');
    const html413 = TRPCClientError.from(
      new SyntaxError(`Unexpected token '<', "<html>413"... is not valid JSON`),
    );
    expect(classifyFailure(html413)).toBe('transient');
    expect(classifyFailure(answered('UNAUTHORIZED', 401))).toBe('refusal');
    expect(classifyFailure(answered('FORBIDDEN', 403))).toBe('refusal');
    expect(
      classifyFailure(answered('PRECONDITION_FAILED', 426, { code: 'UPGRADE_REQUIRED' })),
    ).toBe('upgrade');
  });
});

describe('hysteresis: a state holds until its condition changes', () => {
  it('platform offline with a pending write: 25 live push attempts (each rejected at once) → one transition, not 50', () => {
    const { status, connectivity, states } = tracker(true);
    connectivity.set(false);
    for (let i = 0; i < 25; i++) {
      status.begin();
      status.end('push', offlineError('push()'));
    }
    expect(states()).toEqual(['offline']);
    expect(status.reason?.code).toBe('PLATFORM_OFFLINE');
  });

  it('server unreachable: retries do not flip offline → syncing → offline; the first answer ends it', () => {
    const { status, states, seen } = tracker(true);
    status.begin();
    status.end('push', noAnswer());
    for (let i = 0; i < 30; i++) {
      status.begin(); // a retry starting proves nothing
      expect(status.value).toBe('offline');
      status.end('push', noAnswer());
      status.observe('stream', noAnswer());
      status.observe('ping', noAnswer());
    }
    expect(states()).toEqual(['syncing', 'offline']);
    expect(seen[1]!.reason).toMatchObject({ code: 'SERVER_UNREACHABLE' });
    expect(seen[1]!.reason!.message).toMatch(/ECONNREFUSED/);
    status.begin();
    status.end('push');
    expect(states()).toEqual(['syncing', 'offline', 'online']);
  });

  it('after the platform comes back, offline holds until something answers (no offline → online → offline blip)', () => {
    const { status, connectivity, seen } = tracker(true);
    connectivity.set(false);
    connectivity.set(true);
    expect(status.value).toBe('offline');
    expect(status.reason?.code).toBe('SERVER_UNREACHABLE');
    status.begin();
    status.end('push', noAnswer());
    expect(status.value).toBe('offline');
    status.reachable(); // the live connection opened
    // Two events while offline: the reason's code changed (no network → the server has not answered yet).
    expect(seen.map((d) => [d.status, d.reason?.code ?? null])).toEqual([
      ['offline', 'PLATFORM_OFFLINE'],
      ['offline', 'SERVER_UNREACHABLE'],
      ['online', null],
    ]);
  });

  it('a refused push is `error` with its code and reason, and stream heartbeats do not clear it (no error ↔ online flapping)', () => {
    const { status, states, seen } = tracker(true);
    status.begin();
    status.end('push', answered('FORBIDDEN', 403));
    for (let i = 0; i < 20; i++) {
      status.observe('stream'); // heartbeats
      status.reachable();
      status.begin();
      status.end('push', answered('FORBIDDEN', 403)); // the same refusal again: no event
    }
    expect(states()).toEqual(['syncing', 'error']);
    expect(seen[1]!.reason).toMatchObject({
      code: 'FORBIDDEN',
      message: 'FORBIDDEN from the server',
    });
    status.begin();
    status.end('push');
    expect(states()).toEqual(['syncing', 'error', 'online']);
  });

  it('a transient answer (500, 429) keeps the server reachable and is not an error; upgrade-required is sticky', () => {
    const { status, states } = tracker(true);
    status.begin();
    status.end('push', answered('INTERNAL_SERVER_ERROR', 500));
    status.observe('ping', answered('TOO_MANY_REQUESTS', 429));
    expect(states()).toEqual(['syncing', 'online']);
    status.observe('pull', answered('PRECONDITION_FAILED', 426, { code: 'UPGRADE_REQUIRED' }));
    status.begin();
    status.end('push');
    status.connectivityChanged(false);
    status.connectivityChanged(true);
    expect(status.value).toBe('upgrade-required');
    expect(status.reason?.code).toBe('UPGRADE_REQUIRED');
  });

  it('live push retries after transient answers hold `syncing` (not syncing ↔ online per attempt) until one works', () => {
    const { status, states } = tracker(true);
    status.retrying(true); // live mode starts pushing
    for (let i = 0; i < 20; i++) {
      status.begin();
      status.end('push', answered('TOO_MANY_REQUESTS', 429));
    }
    status.begin();
    status.end('push');
    status.retrying(false);
    expect(states()).toEqual(['syncing', 'online']);
  });

  it('the status event carries the pending count and the age of the oldest pending write', () => {
    const { status, seen, timers } = tracker(true);
    status.outbox(7, timers.now() - 6 * 3600_000);
    status.begin();
    status.end('push', noAnswer());
    expect(seen.at(-1)).toMatchObject({
      status: 'offline',
      pending: 7,
      oldestPendingAgeMs: 6 * 3600_000,
    });
    status.outbox(0, null);
    expect(status.detail()).toMatchObject({ pending: 0, oldestPendingAgeMs: null });
  });

  it('deriveStatus: precedence upgrade > offline > stalled > error > syncing > online', () => {
    const base: StatusFacts = {
      platformOnline: true,
      server: 'reachable',
      refusal: null,
      stalled: null,
      running: 0,
      upgrade: false,
    };
    const r = { code: 'X', message: 'x', since: '' };
    expect(deriveStatus(base, 'online')).toBe('online');
    expect(deriveStatus({ ...base, running: 1 }, 'online')).toBe('syncing');
    expect(deriveStatus({ ...base, running: 1, refusal: r }, 'online')).toBe('error');
    expect(deriveStatus({ ...base, refusal: r, stalled: r }, 'error')).toBe('stalled');
    expect(deriveStatus({ ...base, stalled: r, server: 'unreachable' }, 'stalled')).toBe('offline');
    expect(deriveStatus({ ...base, server: 'unknown' }, 'offline')).toBe('offline');
    expect(deriveStatus({ ...base, server: 'unknown' }, 'online')).toBe('online');
    expect(deriveStatus({ ...base, platformOnline: false, upgrade: true }, 'online')).toBe(
      'upgrade-required',
    );
  });
});

describe('live mode against a server that does not answer (scripted api)', () => {
  it('one request per push attempt (no retries nested inside live retries), one transition, growing delays', async () => {
    const pushes: number[] = [];
    const api: SyncApi = {
      push: { mutate: async () => (pushes.push(Date.now()), Promise.reject(noAnswer())) },
      pull: { query: async () => Promise.reject(noAnswer()) },
      full: { query: async () => Promise.reject(noAnswer()) },
      stream: {
        subscribe: (_input, observer) => (
          queueMicrotask(() => observer.onError?.(noAnswer())),
          { unsubscribe() {} }
        ),
      },
    };
    const client = createSyncClient({
      api,
      schema: demoSchema,
      connectivity: null,
      ping: false,
      pushDebounceMs: 0,
      retry: { retries: 5, baseMs: 4, maxMs: 64 },
    });
    const seen: string[] = [];
    let pushErrors = 0;
    client.on('status', (e) => seen.push(e.status));
    client.on('error', (e) => void (e.where === 'push' && pushErrors++));
    await client.start(); // its first sync() fails: explicit steps keep their own retries (5)
    const afterStart = pushes.length;
    await client.collection('tasks').put('a', { title: 'pending' });
    await eventually(() => expect(pushes.length - afterStart).toBeGreaterThanOrEqual(12));
    await client.close();
    expect(afterStart).toBe(0); // nothing was pending at start: no push request
    await eventually(() => expect(pushes.length).toBe(pushErrors)); // one request per live attempt, each reported once (the last may be settling)
    expect(seen).toEqual(['syncing', 'offline']); // the start's sync(), then offline held across every retry
    const gaps = pushes.slice(1).map((t, i) => t - pushes[i]!);
    expect(Math.max(...gaps.slice(-3))).toBeGreaterThanOrEqual(32); // capped backoff reached (half of 64 at least)
  });
});

describe('a stream refused as unauthorized again and again (a new server secret)', () => {
  it('refreshes the token and resubscribes at once the first time, then backs off instead of looping; status error UNAUTHORIZED', async () => {
    const subscribes: number[] = [];
    let refreshes = 0;
    const unauthorized = answered('UNAUTHORIZED', 401);
    const api: SyncApi = {
      push: { mutate: async () => ({ results: [], serverTime: '' }) },
      pull: { query: async () => ({ changes: [], checkpoint: 'c1.e.1', hasMore: false }) },
      full: { query: async () => Promise.reject(noAnswer()) },
      stream: {
        subscribe: (_input, observer) => (
          subscribes.push(Date.now()),
          setTimeout(() => observer.onError?.(unauthorized), 0),
          { unsubscribe() {} }
        ),
      },
    };
    const tokens = createTokenSource(async () => (refreshes++, 'the-same-refused-token'));
    const client = createSyncClient({
      api,
      schema: demoSchema,
      connectivity: null,
      ping: false,
      tokens,
      retry: { retries: 0, baseMs: 20, maxMs: 160 },
    });
    await client.start();
    await eventually(() => expect(subscribes.length).toBeGreaterThanOrEqual(6));
    await client.close();
    const gaps = subscribes.slice(1).map((t, i) => t - subscribes[i]!);
    expect(Math.max(...gaps.slice(-3))).toBeGreaterThanOrEqual(80); // backing off toward the cap, not a tight loop
    expect(refreshes).toBeGreaterThanOrEqual(subscribes.length - 1);
    expect(client.statusDetail().reason?.code).toBe('UNAUTHORIZED');
    expect(client.status()).toBe('error');
  });
});

describe('stall watchdog', () => {
  function watchdog(stallAfterMs = 60_000) {
    const timers = new FakeTimers();
    const verdicts: (string | null)[] = [];
    const dog = new StallWatchdog(timers, stallAfterMs, (reason) =>
      verdicts.push(reason ? reason.message : null),
    );
    return { timers, dog, verdicts };
  }

  it('connected with 7 changes pending and none acknowledged for stallAfterMs → stalled with its reason; progress clears it', () => {
    const { timers, dog, verdicts } = watchdog();
    dog.outbox(7, 1);
    dog.setArmed(true);
    dog.pushOutcome({ code: 'INTERNAL_SERVER_ERROR', message: 'boom' });
    timers.advance(59_999);
    expect(verdicts).toEqual([]);
    timers.advance(1);
    expect(verdicts).toEqual([
      '7 pending changes, none acknowledged for 60 s while connected; last push: INTERNAL_SERVER_ERROR: boom',
    ]);
    dog.outbox(7, 1); // recounted, nothing moved
    timers.advance(120_000);
    expect(verdicts).toHaveLength(1);
    dog.outbox(6, 2); // one acknowledged
    expect(verdicts).toEqual([expect.any(String), null]);
    timers.advance(60_000);
    expect(verdicts).toHaveLength(3);
    dog.outbox(0, null); // drained
    expect(verdicts.at(-1)).toBeNull();
    expect(timers.pending).toBe(0);
  });

  it('a draining outbox never stalls, however long it takes', () => {
    const { timers, dog, verdicts } = watchdog(10_000);
    dog.setArmed(true);
    for (let left = 100_000; left > 0; left -= 500) {
      dog.outbox(left, 100_001 - left);
      timers.advance(9_000);
    }
    expect(verdicts).toEqual([]);
  });

  it('time while disarmed (offline, not live) does not count, and disarming clears the verdict', () => {
    const { timers, dog, verdicts } = watchdog(10_000);
    dog.outbox(3, 1);
    timers.advance(3_600_000); // an hour not armed
    expect(verdicts).toEqual([]);
    dog.setArmed(true);
    timers.advance(9_000);
    dog.setArmed(false);
    timers.advance(60_000);
    expect(verdicts).toEqual([]);
    dog.setArmed(true);
    timers.advance(10_000);
    expect(verdicts).toHaveLength(1);
    dog.setArmed(false);
    expect(verdicts).toEqual([expect.any(String), null]);
  });
});

describe('reachability ping', () => {
  function pinger(options = { intervalMs: 5000, timeoutMs: 4000 }) {
    const t = tracker(true);
    const probes: { resolve: () => void; reject: (e: unknown) => void; signal: AbortSignal }[] = [];
    const probe = (signal: AbortSignal) =>
      new Promise<void>((resolve, reject) => void probes.push({ resolve, reject, signal }));
    const ping = new Pinger(
      t.timers,
      options,
      { retries: 0, baseMs: 1000, maxMs: 8000 },
      probe,
      t.status,
      undefined,
      () => 0,
    );
    return { ...t, ping, probes };
  }

  it('a server that goes silent is offline within intervalMs + timeoutMs of its last sign of life', async () => {
    const { ping, probes, timers, status, states } = pinger();
    ping.setArmed(true);
    status.reachable();
    timers.advance(3000);
    ping.alive(); // a stream event: the silence clock starts again
    timers.advance(4999);
    expect(probes).toHaveLength(0);
    timers.advance(1); // 5 s of silence
    expect(probes).toHaveLength(1);
    timers.advance(3999);
    await flush();
    expect(status.value).toBe('online');
    timers.advance(1); // no answer within 4 s
    await flush();
    expect(probes[0]!.signal.aborted).toBe(true);
    expect(status.value).toBe('offline');
    expect(status.reason?.message).toMatch(/no answer within 4000 ms/);
    expect(states()).toEqual(['offline']); // one transition (online was the start)
  });

  it('unreachable: pings back off (exponential, capped); one answer ends it; a connection error pings at once', async () => {
    const { ping, probes, timers, status } = pinger();
    ping.setArmed(true);
    ping.suspect(); // the live connection closed with an error
    timers.advance(0);
    expect(probes).toHaveLength(1);
    probes[0]!.reject(noAnswer());
    await flush();
    expect(status.value).toBe('offline');
    const gaps: number[] = [];
    for (let i = 1; i <= 5; i++) {
      gaps.push(timers.nextIn!);
      timers.advance(timers.nextIn!);
      expect(probes).toHaveLength(i + 1);
      probes[i]!.reject(noAnswer());
      await flush();
    }
    expect(gaps).toEqual([500, 1000, 2000, 4000, 4000]); // random() = 0: half of 1000·2^n, capped at maxMs 8000
    timers.advance(timers.nextIn!);
    probes[6]!.resolve();
    await flush();
    expect(status.value).toBe('online');
    expect(timers.nextIn).toBe(5000); // back to the silence interval
  });

  it('disarmed (offline, not live) it sends nothing', () => {
    const { ping, probes, timers } = pinger();
    ping.setArmed(true);
    ping.setArmed(false);
    timers.advance(3_600_000);
    ping.suspect();
    timers.advance(60_000);
    expect(probes).toHaveLength(0);
  });
});

describe('diagnostics recorder', () => {
  it('keeps the last RECENT_ERRORS errors, and says what it knows of the lag', () => {
    const timers = new FakeTimers();
    const diag = new DiagnosticsRecorder(timers);
    for (let i = 0; i < 50; i++) diag.error('push', answered('INTERNAL_SERVER_ERROR', 500));
    expect(diag.errors()).toHaveLength(RECENT_ERRORS);
    expect(diag.lag(false)).toEqual({ changes: null, seconds: null, headSeenAt: null });
    const started = timers.now();
    timers.advance(120);
    diag.step('pull', started, undefined, 3); // a pull to the end: local = head
    expect(diag.lastPull).toMatchObject({ ok: true, durationMs: 120, count: 3 });
    expect(diag.lag(false)).toMatchObject({ changes: 0, seconds: 0 });
    timers.advance(30_000);
    expect(diag.lag(false)).toMatchObject({ changes: null, seconds: 30 }); // at most 30 s behind, changes unknown
    expect(diag.lag(true)).toMatchObject({ changes: 0, seconds: 0 }); // live and caught up
    diag.connectionState('connecting', noAnswer()); // lost: a resumed stream catches up first
    diag.connectionState('connected');
    expect(diag.lag(true)).toMatchObject({ changes: null, seconds: 30 });
    timers.advance(1);
    diag.streamEvent('heartbeat');
    expect(diag.lag(true)).toMatchObject({ changes: 0, seconds: 0 });
  });
});

describe('dead-letter judge', () => {
  const entry = (mutationId: number): OutboxEntry => ({
    mutationId,
    collection: 'tasks',
    id: `t${mutationId}`,
    op: 'upsert',
    data: { title: 'x' },
    baseVersion: null,
    hlc: '',
  });

  it('splits a batch on a 500, dead-letters a lone change after afterAttempts failures only while the server answers, never for no answer or 429', async () => {
    let healthy = false;
    let isolating = 0;
    const judge = new PoisonTracker(
      { afterAttempts: 3 },
      async () => healthy,
      () => isolating++,
    );
    const boom = answered('INTERNAL_SERVER_ERROR', 500);
    expect(await judge.judge([entry(1), entry(2)], boom)).toMatchObject({
      code: 'INTERNAL_SERVER_ERROR',
      issues: [],
    });
    expect(isolating).toBe(1);
    expect(await judge.judge([entry(1), entry(2)], noAnswer())).toBeNull();
    expect(await judge.judge([entry(1)], answered('TOO_MANY_REQUESTS', 429))).toBeNull();
    expect(await judge.judge([entry(1)], boom)).toBeNull(); // 1
    expect(await judge.judge([entry(1)], boom)).toBeNull(); // 2
    expect(await judge.judge([entry(1)], boom)).toBeNull(); // 3, but the server answers nothing else: not the change's fault
    healthy = true;
    const verdict = await judge.judge([entry(1)], boom); // 4
    expect(verdict).toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
    expect(verdict!.message).toMatch(/failed 4 times in a row/);
  });
});
