// Which database errors are worth retrying, and the backoff between attempts.

/** SQLSTATEs after which running the whole transaction again can succeed. */
const RETRYABLE_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '57P01', // admin_shutdown (connection terminated by the server)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (server starting up)
]);

/** Socket-level errors of a lost or refused connection. */
const RETRYABLE_NODE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EHOSTUNREACH',
]);

/** True for serialization failures, deadlocks and connection errors; false for everything else. */
export function isRetryable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (RETRYABLE_SQLSTATES.has(code) || RETRYABLE_NODE_CODES.has(code)) return true;
    if (/^08[0-9A-Z]{3}$/.test(code)) return true; // connection_exception class
  }
  // pg reports a connection that died mid-query without a code.
  const message = (error as { message?: unknown }).message;
  return (
    typeof message === 'string' &&
    /Connection terminated|connection error|Client was closed/i.test(message)
  );
}

/** Exponential backoff with jitter: about 10, 20, 40 ... ms, at most 2 s. */
export function backoffMs(attempt: number): number {
  const ceiling = Math.min(2000, 10 * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Runs `fn`, running it again after a retryable error, at most `maxRetries` more times. */
export async function withRetry<T>(maxRetries: number, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= maxRetries || !isRetryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt)));
    }
  }
}
