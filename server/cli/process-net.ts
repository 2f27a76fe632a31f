/** The CLI's process-level net: an error that escapes every handler is logged as one JSON line and counted (`sync_uncaught_errors_total`) instead of ending the server. */
import { describeError } from '../unexpected.js';

/** What the net reports to. */
export interface ProcessNetOptions {
  /** Counts one escaped error (e.g. `metrics.uncaughtError`). */
  count: (kind: 'exception' | 'rejection') => void;
  /** Writes one log line. @default stderr */
  write?: (line: string) => void;
}

/**
 * Installs `uncaughtException` and `unhandledRejection` handlers that log one JSON line at level
 * error (`event: "uncaught"`) and count it, so the process keeps serving every other client.
 * Every such line is a bug: tests assert the counter stays 0. Returns a function that removes both.
 */
export function installProcessNet(options: ProcessNetOptions): () => void {
  const write = options.write ?? ((line: string) => void process.stderr.write(line + '\n'));
  const report = (kind: 'exception' | 'rejection', error: unknown) => {
    try {
      options.count(kind);
      write(
        JSON.stringify({
          time: new Date().toISOString(),
          level: 'error',
          event: 'uncaught',
          kind,
          error: describeError(error),
        }),
      );
    } catch {
      // the net itself never throws
    }
  };
  const onException = (error: Error) => report('exception', error);
  const onRejection = (reason: unknown) => report('rejection', reason);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
