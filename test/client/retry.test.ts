/** The client's error classification and retry loop (client/retry.ts) as a table: what is retried, what is a resync, a refusal of the changes, an upgrade or an identity conflict, and how long to wait (kills retry.ts mutants the client suites left alive). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  clientIdConflict,
  errorCode,
  isResyncRequired,
  isRetryable,
  isUnauthorized,
  isUpgradeRequired,
  pushRefusal,
  retryDelay,
  sleep,
  withRetry,
} from '../../client/retry.js';

/** A tRPC-like client error: `data` as the sync error formatter (or another server) shapes it. */
const err = (data: Record<string, unknown> | null | undefined, message = 'refused') =>
  Object.assign(new Error(message), data === undefined ? {} : { data });
const sync = (code: string, extra: Record<string, unknown> = {}) => ({ code, ...extra });

describe('isRetryable', () => {
  it('retries no answer at all, 408, 429, 5xx and the retryable tRPC codes; nothing else', () => {
    expect(isRetryable(new TypeError('fetch failed'))).toBe(true);
    expect(isRetryable(null)).toBe(true);
    for (const status of [408, 429, 500, 502, 503])
      expect(isRetryable(err({ httpStatus: status })), String(status)).toBe(true);
    for (const status of [400, 401, 404, 409, 413, 426, 499])
      expect(isRetryable(err({ httpStatus: status })), String(status)).toBe(false);
    expect(isRetryable(err({ code: 'TIMEOUT' }))).toBe(true);
    expect(isRetryable(err({ code: 'BAD_REQUEST' }))).toBe(false);
    expect(isRetryable(err({ code: 'BAD_REQUEST', httpStatus: '500' }))).toBe(false); // a status that is not a number
    expect(
      isRetryable(
        err({ code: 'INTERNAL_SERVER_ERROR', httpStatus: 500, sync: sync('UPGRADE_REQUIRED') }),
      ),
    ).toBe(false);
    expect(
      isRetryable(
        err({ code: 'INTERNAL_SERVER_ERROR', httpStatus: 500, sync: sync('CLIENT_ID_CONFLICT') }),
      ),
    ).toBe(false);
  });
});

describe('isResyncRequired', () => {
  it('reads the sync code, or a CONFLICT / data-less error whose message says so', () => {
    expect(isResyncRequired(err({ code: 'CONFLICT', sync: sync('RESYNC_REQUIRED') }))).toBe(true);
    expect(isResyncRequired(err({ code: 'CONFLICT' }, 'RESYNC_REQUIRED: rebuild'))).toBe(true);
    expect(isResyncRequired(err(undefined, 'resync required: from full'))).toBe(true);
    expect(isResyncRequired(err({ code: 'BAD_REQUEST' }, 'resync required'))).toBe(false);
    expect(isResyncRequired(err({ code: 'CONFLICT' }, 'other conflict'))).toBe(false);
    expect(
      isResyncRequired(
        err({ code: 'CONFLICT', sync: sync('CLIENT_ID_CONFLICT') }, 'resync required'),
      ),
    ).toBe(false);
    expect(isResyncRequired('resync required')).toBe(false);
    expect(isResyncRequired(null)).toBe(false);
    expect(isResyncRequired(undefined)).toBe(false); // `throw undefined`
    // Only a string message is read: a message object whose text says so is not a resync.
    expect(isResyncRequired({ message: ['RESYNC_REQUIRED'], data: { code: 'CONFLICT' } })).toBe(
      false,
    );
  });
});

describe('clientIdConflict and isUpgradeRequired', () => {
  it('read their codes and nothing else', () => {
    expect(
      clientIdConflict(err({ sync: sync('CLIENT_ID_CONFLICT', { recorded: [3, 'x', 4.5, 7] }) })),
    ).toEqual({ recorded: [3, 7] });
    expect(clientIdConflict(err({ sync: sync('CLIENT_ID_CONFLICT') }))).toEqual({ recorded: [] });
    expect(clientIdConflict(err({ sync: sync('BAD_REQUEST') }))).toBeNull();
    expect(clientIdConflict(null)).toBeNull();
    expect(clientIdConflict(new TypeError('fetch failed'))).toBeNull(); // no answer: no `data`
    expect(isUpgradeRequired(err({ sync: sync('UPGRADE_REQUIRED') }))).toBe(true);
    expect(isUpgradeRequired(err({ httpStatus: 426 }))).toBe(true);
    expect(isUpgradeRequired(err({ httpStatus: 400 }))).toBe(false);
    expect(isUpgradeRequired(null)).toBe(false);
  });
});

describe('errorCode and isUnauthorized', () => {
  it('errorCode prefers the sync code to the tRPC code and returns only strings', () => {
    expect(errorCode(err({ code: 'CONFLICT', sync: sync('RESYNC_REQUIRED') }))).toBe(
      'RESYNC_REQUIRED',
    );
    expect(errorCode(err({ code: 'BAD_REQUEST', httpStatus: 400 }))).toBe('BAD_REQUEST'); // no sync
    expect(errorCode(err({ code: 'BAD_REQUEST', sync: null }))).toBe('BAD_REQUEST');
    expect(errorCode(err({ code: 5 }))).toBeNull();
    expect(errorCode(err({ httpStatus: 500 }))).toBeNull();
    expect(errorCode(new TypeError('fetch failed'))).toBeNull();
    expect(errorCode(null)).toBeNull();
  });

  it('isUnauthorized: the tRPC code, the sync code or HTTP 401, each alone', () => {
    expect(isUnauthorized(err({ code: 'UNAUTHORIZED' }))).toBe(true);
    expect(isUnauthorized(err({ sync: sync('UNAUTHORIZED') }))).toBe(true);
    expect(isUnauthorized(err({ httpStatus: 401 }))).toBe(true);
    expect(
      isUnauthorized(err({ code: 'FORBIDDEN', httpStatus: 403, sync: sync('FORBIDDEN') })),
    ).toBe(false);
    expect(isUnauthorized(err({}))).toBe(false);
    expect(isUnauthorized(new TypeError('fetch failed'))).toBe(false);
    expect(isUnauthorized(null)).toBe(false);
  });
});

describe('pushRefusal', () => {
  it('tells refusals of the changes from everything else', () => {
    expect(
      pushRefusal(
        err(
          {
            code: 'BAD_REQUEST',
            httpStatus: 400,
            sync: sync('BAD_REQUEST', {
              issues: [
                { path: 'changes.1.data', message: 'm' },
                null,
                { path: 5 },
                { path: 'changes.2' },
              ],
            }),
          },
          'bad',
        ),
      ),
    ).toEqual({
      code: 'BAD_REQUEST',
      message: 'bad',
      issues: [
        { path: 'changes.1.data', message: 'm' },
        { path: 'changes.2', message: '' },
      ],
    });
    expect(pushRefusal(err({ code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 }))).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      issues: [],
    });
    expect(pushRefusal(err({ httpStatus: 413 }))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(pushRefusal(err({ code: 'PAYLOAD_TOO_LARGE' }))).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(pushRefusal(err({ code: 'BAD_REQUEST', httpStatus: 400 }))).toMatchObject({
      code: 'BAD_REQUEST',
      issues: [],
    }); // a server without the formatter
    expect(pushRefusal(err({ code: 'BAD_REQUEST', httpStatus: 400, sync: null }))).toBeNull(); // "not from the sync kit"
    expect(
      pushRefusal(
        err({
          code: 'BAD_REQUEST',
          sync: sync('BAD_REQUEST', { issues: [{ path: 'clientId', message: 'x' }] }),
        }),
      ),
    ).toBeNull();
    expect(
      pushRefusal(
        err({
          code: 'BAD_REQUEST',
          sync: sync('BAD_REQUEST', { issues: [{ path: 'changes', message: 'x' }] }),
        }),
      ),
    ).toMatchObject({ code: 'BAD_REQUEST' });
    expect(
      pushRefusal(err({ code: 'FORBIDDEN', httpStatus: 403, sync: sync('FORBIDDEN') })),
    ).toBeNull();
    expect(
      pushRefusal(err({ code: 'CONFLICT', httpStatus: 409, sync: sync('RESYNC_REQUIRED') })),
    ).toBeNull();
    expect(pushRefusal(err({ code: 'INTERNAL_SERVER_ERROR', httpStatus: 500 }))).toBeNull();
    expect(
      pushRefusal(Object.assign({ message: 5 }, { data: { code: 'PAYLOAD_TOO_LARGE' } })),
    ).toMatchObject({ message: 'PAYLOAD_TOO_LARGE' });
    expect(pushRefusal(null)).toBeNull();
    expect(pushRefusal('PAYLOAD_TOO_LARGE')).toBeNull();
  });

  it('reads the sync code, never refuses a retryable answer, and needs one issue about the changes', () => {
    // The sync kit's PAYLOAD_TOO_LARGE keeps its issues, whatever they name (only BAD_REQUEST is checked).
    expect(
      pushRefusal(
        err(
          {
            code: 'PAYLOAD_TOO_LARGE',
            httpStatus: 413,
            sync: sync('PAYLOAD_TOO_LARGE', { issues: [{ path: 'body', message: 'too big' }] }),
          },
          'too large',
        ),
      ),
    ).toEqual({
      code: 'PAYLOAD_TOO_LARGE',
      message: 'too large',
      issues: [{ path: 'body', message: 'too big' }],
    });
    // A refused request without the formatter that is not BAD_REQUEST / 413: not a refusal of the changes.
    expect(pushRefusal(err({ code: 'FORBIDDEN', httpStatus: 403 }))).toBeNull();
    // One issue about a change is enough, even next to a request-level one.
    expect(
      pushRefusal(
        err({
          code: 'BAD_REQUEST',
          sync: sync('BAD_REQUEST', {
            issues: [
              { path: 'clientId', message: 'x' },
              { path: 'changes.0.data', message: 'y' },
            ],
          }),
        }),
      ),
    ).toMatchObject({
      code: 'BAD_REQUEST',
      issues: [{ path: 'clientId' }, { path: 'changes.0.data' }],
    });
    // A 5xx is retried, whatever its sync code says.
    expect(
      pushRefusal(
        err({
          code: 'INTERNAL_SERVER_ERROR',
          httpStatus: 500,
          sync: sync('BAD_REQUEST', { issues: [{ path: 'changes.0', message: 'x' }] }),
        }),
      ),
    ).toBeNull();
  });
});

describe('retryDelay and withRetry', () => {
  const options = { retries: 2, baseMs: 1, maxMs: 50 };
  it('waits the server’s retryAfterMs when longer than the backoff, never above maxMs', () => {
    const noJitter = () => 1;
    const backoff = retryDelay(new TypeError('x'), 0, options, noJitter);
    expect(retryDelay(err({ sync: { retryAfterMs: 30 } }), 0, options, noJitter)).toBe(30);
    expect(retryDelay(err({ sync: { retryAfterMs: 5000 } }), 0, options, noJitter)).toBe(50);
    expect(retryDelay(err({ sync: { retryAfterMs: backoff } }), 0, options, noJitter)).toBe(
      backoff,
    );
    expect(retryDelay(err({ sync: { retryAfterMs: '30' } }), 0, options, noJitter)).toBe(backoff);
    expect(retryDelay(null, 0, options, noJitter)).toBe(backoff);
    expect(
      retryDelay(err({ code: 'INTERNAL_SERVER_ERROR', httpStatus: 500 }), 0, options, noJitter),
    ).toBe(backoff); // an answer without `data.sync`
  });

  it('retries up to `retries` times, stops at once on a fatal error or a resync, refreshes a token once', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw new TypeError('down');
      }, options),
    ).rejects.toThrow('down');
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw err({ code: 'BAD_REQUEST', httpStatus: 400 });
      }, options),
    ).rejects.toThrow();
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw err(undefined, 'resync required');
      }, options),
    ).rejects.toThrow();
    expect(calls).toBe(1);
    calls = 0;
    let refreshes = 0;
    const unauthorized = () => err({ code: 'UNAUTHORIZED', httpStatus: 401 });
    await expect(
      withRetry(
        async () => {
          calls++;
          throw unauthorized();
        },
        options,
        undefined,
        async () => void refreshes++,
      ),
    ).rejects.toThrow();
    expect([calls, refreshes]).toEqual([2, 1]);
    calls = 0;
    expect(
      await withRetry(
        async () => (++calls < 2 ? Promise.reject(unauthorized()) : 'ok'),
        options,
        undefined,
        async () => undefined,
      ),
    ).toBe('ok');
  });

  it('a token refresh does not spend a retry', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw calls === 1
            ? err({ code: 'UNAUTHORIZED', httpStatus: 401 })
            : new TypeError('down');
        },
        options,
        undefined,
        async () => undefined,
      ),
    ).rejects.toThrow('down');
    expect(calls).toBe(1 + 1 + options.retries); // the refused call, then the first attempt and its retries
  });
});

describe('sleep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** The promise's state, read without waiting for it. */
  const track = (promise: Promise<void>) => {
    const state: { settled: 'pending' | 'resolved' | 'rejected'; reason?: unknown } = {
      settled: 'pending',
    };
    promise.then(
      () => (state.settled = 'resolved'),
      (reason: unknown) => Object.assign(state, { settled: 'rejected', reason }),
    );
    return state;
  };

  it('resolves after `ms`, not before', async () => {
    vi.useFakeTimers();
    const state = track(sleep(100));
    await vi.advanceTimersByTimeAsync(99);
    expect(state.settled).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(state.settled).toBe('resolved');
  });

  it('rejects with the abort reason at once: already aborted, or aborted while waiting (its timer cleared)', async () => {
    vi.useFakeTimers();
    const gone = new Error('gone');
    const before = new AbortController();
    before.abort(gone);
    const early = track(sleep(10_000, before.signal));
    await vi.advanceTimersByTimeAsync(0);
    expect(early).toEqual({ settled: 'rejected', reason: gone });
    expect(vi.getTimerCount()).toBe(0);

    const during = new AbortController();
    const late = track(sleep(10_000, during.signal));
    await vi.advanceTimersByTimeAsync(10);
    expect(late.settled).toBe('pending');
    during.abort(gone);
    await vi.advanceTimersByTimeAsync(0);
    expect(late).toEqual({ settled: 'rejected', reason: gone });
    expect(vi.getTimerCount()).toBe(0); // no timer left to fire 10 s later
  });

  it('rejects with an Error when the signal has no reason (React Native)', async () => {
    const signal = {
      aborted: true,
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
    } as unknown as AbortSignal;
    await expect(sleep(10_000, signal)).rejects.toThrow('aborted');
  });
});
