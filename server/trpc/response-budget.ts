/**
 * The bytes one tRPC request may assemble: `push`, `pull` and `full` answers of one HTTP request
 * (a batch) or of one WebSocket connection run one after another and count against a budget, so a
 * batch of 40 `full` pages builds at most the budget plus one page, never 40 pages at once.
 */
import { SyncError } from '../../shared/errors.js';
import { jsonSize } from '../engine/shape.js';

/** Runs the sync procedures of one request (or connection) one at a time, within a byte budget. */
export interface ResponseBudget {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

const BUDGET = Symbol.for('trpc-offline-sync.responseBudget');

/**
 * A budget of `maxBytes` for the answers of one request. Over HTTP (`res` a Node response) every
 * answer counts until the request ends: the first call always runs (a page is bounded by the
 * engine's page limits), later ones are refused with PAYLOAD_TOO_LARGE once the request's answers
 * hold `maxBytes`. Over a WebSocket (`res` has `bufferedAmount`) what counts is what the socket
 * still holds for its peer: a client that reads its answers is never refused.
 */
export function responseBudget(maxBytes: number, res: unknown): ResponseBudget {
  const socket =
    res && typeof res === 'object' && 'bufferedAmount' in res
      ? (res as { bufferedAmount: number })
      : null;
  let spent = 0;
  let tail: Promise<unknown> = Promise.resolve();
  const held = () => (socket ? socket.bufferedAmount : spent);
  return {
    run<T>(fn: () => Promise<T>): Promise<T> {
      const next = tail.then(async () => {
        // Over a WebSocket, let the previous answer reach the socket before looking at its buffer.
        if (socket) await new Promise((resolve) => setImmediate(resolve));
        const now = held();
        if (now >= maxBytes) {
          const where = socket
            ? `this connection holds ${now} unread bytes of answers`
            : `the answers of this request already hold ${now} bytes`;
          throw new SyncError(
            'PAYLOAD_TOO_LARGE',
            `response too large: ${where}, at most ${maxBytes} (maxResponseBytes); send fewer calls per batch${socket ? ' or read the answers first' : ''}`,
            [
              {
                path: '',
                message: `at most ${maxBytes} bytes of answers per request (maxResponseBytes)`,
              },
            ],
          );
        }
        const result = await fn();
        if (!socket) spent += jsonSize(result, maxBytes - spent);
        return result;
      });
      tail = next.catch(() => undefined);
      return next;
    },
  };
}

/**
 * Marks a tRPC context with a response budget (see `responseBudget`) for the request or WebSocket
 * `res` it came on; `createSyncRouter`'s procedures run within it. `createSyncHttpServer` does this
 * with its `maxResponseBytes`; an app with its own tRPC server calls it in `createContext`.
 * Returns `ctx` (an enumerable symbol, so middleware that spreads the context keeps it).
 *
 * @example
 * createContext: ({ req, res }) => withResponseBudget({ actor: await authenticate(req) }, res, 16 * 1024 * 1024)
 */
export function withResponseBudget<T>(ctx: T, res: unknown, maxBytes: number): T {
  if (ctx && typeof ctx === 'object' && Object.isExtensible(ctx)) {
    try {
      (ctx as Record<symbol, unknown>)[BUDGET] = responseBudget(maxBytes, res);
    } catch {
      // a context that refuses the mark runs its calls without a budget
    }
  }
  return ctx;
}

/** The budget `withResponseBudget` marked `ctx` with, or null. */
export function responseBudgetOf(ctx: unknown): ResponseBudget | null {
  const budget =
    ctx && typeof ctx === 'object' ? (ctx as Record<symbol, unknown>)[BUDGET] : undefined;
  return budget &&
    typeof budget === 'object' &&
    typeof (budget as ResponseBudget).run === 'function'
    ? (budget as ResponseBudget)
    : null;
}
