/** The client's error classification and retry loop (client/retry.ts) as a table: what is retried, what is a resync, a refusal of the changes, an upgrade or an identity conflict, and how long to wait (kills retry.ts mutants the client suites left alive). */
import { describe, expect, it } from 'vitest';
import {
  clientIdConflict,
  isResyncRequired,
  isRetryable,
  isUpgradeRequired,
  pushRefusal,
  retryDelay,
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
    expect(isUpgradeRequired(err({ sync: sync('UPGRADE_REQUIRED') }))).toBe(true);
    expect(isUpgradeRequired(err({ httpStatus: 426 }))).toBe(true);
    expect(isUpgradeRequired(err({ httpStatus: 400 }))).toBe(false);
    expect(isUpgradeRequired(null)).toBe(false);
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
});
