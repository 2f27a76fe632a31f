/** Structured logs: the engine's events as one JSON object per line, filtered by level. */
import type { EngineEvent } from './engine/types.js';
import type { IpRateLimitedEvent } from './http/ip-rate-limit.js';
import { describeError } from './unexpected.js';

/** `error`: failures only; `info`: also overflows, rate-limit refusals and prunes; `debug`: every push, pull, full and stream. */
export type LogLevel = 'silent' | 'error' | 'info' | 'debug';

const RANK: Record<LogLevel, number> = { silent: 0, error: 1, info: 2, debug: 3 };

function levelOf(event: EngineEvent | IpRateLimitedEvent): Exclude<LogLevel, 'silent'> {
  if (event.type === 'error') return 'error';
  if (
    event.type === 'stream_overflow' ||
    event.type === 'rate_limited' ||
    event.type === 'ip_rate_limited' ||
    event.type === 'prune'
  )
    return 'info';
  return 'debug';
}

/**
 * An engine `onEvent` hook that writes JSON lines (`{ time, level, event, ... }`).
 *
 * @example
 * const log = createEventLogger({ level: 'info' });
 * const engine = createSyncEngine({ store, schema, onEvent: log });
 */
export function createEventLogger(
  options: { level?: LogLevel; write?: (line: string) => void } = {},
): (event: EngineEvent | IpRateLimitedEvent) => void {
  const threshold = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  return (event) => {
    const level = levelOf(event);
    if (RANK[level] > threshold) return;
    const { type, ...rest } = event as (EngineEvent | IpRateLimitedEvent) & Record<string, unknown>;
    const fields: Record<string, unknown> = { ...rest };
    if ('error' in fields) fields.error = describeError(fields.error);
    if (fields.actor && typeof fields.actor === 'object') {
      const actor = fields.actor as { userId: string; scopeId: string };
      delete fields.actor;
      fields.user = actor.userId;
      fields.scope = actor.scopeId;
    }
    write(JSON.stringify({ time: new Date().toISOString(), level, event: type, ...fields }));
  };
}

/** Parses a `SYNC_LOG` value; unknown values are an error naming the accepted ones. */
export function parseLogLevel(value: string | undefined): LogLevel {
  if (value === undefined || value === '') return 'info';
  if (value in RANK) return value as LogLevel;
  throw new Error(`SYNC_LOG must be one of ${Object.keys(RANK).join(', ')}, got "${value}"`);
}
