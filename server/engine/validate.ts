/** Request validation: protocol shape, collections, document schemas and limits, before any write. */
import { z } from 'zod';
import { SyncError, badRequest, issuesFromZod, type SyncIssue } from '../../shared/errors.js';
import type { ChangeInput } from '../../shared/protocol.js';
import type { SyncSchema } from '../../shared/schema.js';
import { checkJsonShape, checkPushShape, jsonSize } from './shape.js';
import type { SyncLimits } from './types.js';

/** Nesting allowed in pull, full and stream inputs (they hold strings, numbers and one list). */
const QUERY_INPUT_DEPTH = 8;

/**
 * Parses `input` with a protocol schema or throws BAD_REQUEST naming the field. The input's
 * nesting is bounded first (iteratively), so zod never recurses into a hostile value.
 */
export function parseInput<T>(
  schema: z.ZodType<T>,
  input: unknown,
  what: string,
  maxDepth = QUERY_INPUT_DEPTH,
): T {
  checkJsonShape(input, { maxDepth, checkKeys: false });
  const result = schema.safeParse(input ?? {});
  if (!result.success)
    throw badRequest(issuesFromZod(result.error.issues), `invalid ${what} request`);
  return result.data;
}

/**
 * Parses a push (or server write) input: depth and document keys checked on the raw value
 * (before zod, which silently drops an own `__proto__` key), then the protocol shape.
 */
export function parsePushInput<T>(
  schema: z.ZodType<T>,
  input: unknown,
  what: string,
  limits: SyncLimits,
): T {
  checkPushShape(input, limits.maxDepth);
  const parsed = parseInput(schema, input, what, limits.maxDepth + 3);
  const clientId = (parsed as { clientId?: unknown }).clientId;
  const bad = typeof clientId === 'string' ? badIdReason(clientId, 128) : null;
  if (bad !== null)
    throw badRequest([{ path: 'clientId', message: bad }], `invalid ${what} request`);
  return parsed;
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a document id or client id is refused, or null (at most `max` units, no control characters, well-formed UTF-16). */
export function badIdReason(id: string, max: number): string | null {
  if (id.length > max) return `must be at most ${max} characters (limits.maxIdLength)`;
  if (CONTROL.test(id)) return 'must not contain control characters';
  if (LONE_SURROGATE.test(id)) return 'must be well-formed Unicode (no lone surrogates)';
  return null;
}

/** A change whose data has been checked against its collection schema. */
export interface ValidChange extends ChangeInput {
  /** Parsed data (defaults applied) for upserts, the normalised patch for patches, null for deletes. */
  parsed: Record<string, unknown> | null;
}

const encoder = new TextEncoder();

/** Size in bytes of a value's JSON text. */
export function jsonBytes(value: unknown): number {
  return encoder.encode(JSON.stringify(value)).length;
}

/**
 * True when a value's JSON text exceeds `max` UTF-8 bytes. Counted by one walk that stops at
 * `max` (`jsonSize`), so the cost is linear in what was received and bounded by the limit: no
 * JSON text of an unbounded value is ever built.
 */
export function exceedsBytes(value: unknown, max: number): boolean {
  return jsonSize(value, max) > max;
}

/**
 * Checks every change of a push. Throws PAYLOAD_TOO_LARGE for a limit, BAD_REQUEST naming each
 * bad field otherwise; nothing has been written when it throws.
 */
export function validateChanges(
  changes: ChangeInput[],
  schema: SyncSchema,
  limits: SyncLimits,
  requireIncreasingIds: boolean,
): ValidChange[] {
  if (changes.length > limits.maxChangesPerPush) {
    throw new SyncError(
      'PAYLOAD_TOO_LARGE',
      `changes: at most ${limits.maxChangesPerPush} changes per push (limits.maxChangesPerPush), got ${changes.length}`,
      [{ path: 'changes', message: `at most ${limits.maxChangesPerPush} changes per push` }],
    );
  }
  const issues: SyncIssue[] = [];
  const tooLarge: SyncIssue[] = [];
  const out: ValidChange[] = [];
  changes.forEach((change, i) => {
    const at = `changes.${i}`;
    if (requireIncreasingIds && i > 0 && change.mutationId <= changes[i - 1]!.mutationId) {
      issues.push({
        path: `${at}.mutationId`,
        message: 'mutation ids must strictly increase within a push',
      });
    }
    const badId = badIdReason(change.id, limits.maxIdLength);
    if (badId !== null) issues.push({ path: `${at}.id`, message: badId });
    if (!schema.has(change.collection)) {
      issues.push({
        path: `${at}.collection`,
        message: `unknown collection "${change.collection}" (known: ${schema.names.join(', ')})`,
      });
      return;
    }
    if (change.op === 'delete') {
      out.push({ ...change, parsed: null });
      return;
    }
    if (change.data === undefined || change.data === null) {
      issues.push({ path: `${at}.data`, message: `${change.op} needs a data object` });
      return;
    }
    if (exceedsBytes(change.data, limits.maxDocumentBytes)) {
      tooLarge.push({
        path: `${at}.data`,
        message: `document is more than ${limits.maxDocumentBytes} bytes of JSON, above limits.maxDocumentBytes (${limits.maxDocumentBytes})`,
      });
      return;
    }
    const result =
      change.op === 'upsert'
        ? schema.parseDocument(change.collection, change.data)
        : schema.parsePatch(change.collection, change.data);
    if (!result.ok) {
      issues.push(
        ...result.issues.map((issue) => ({
          path: `${at}.data${issue.path ? '.' + issue.path : ''}`,
          message: issue.message,
        })),
      );
      return;
    }
    out.push({ ...change, parsed: result.data });
  });
  if (tooLarge.length > 0)
    throw new SyncError(
      'PAYLOAD_TOO_LARGE',
      `${tooLarge[0]!.path}: ${tooLarge[0]!.message}`,
      tooLarge,
    );
  if (issues.length > 0) throw badRequest(issues, 'invalid push');
  return out;
}

/** Checks a page `limit` against its default and maximum. */
export function pageLimit(
  limit: number | undefined,
  defaultLimit: number,
  maxLimit: number,
  option: string,
): number {
  if (limit === undefined) return defaultLimit;
  if (limit > maxLimit) {
    throw new SyncError(
      'BAD_REQUEST',
      `limit: at most ${maxLimit} (limits.${option}), got ${limit}`,
      [{ path: 'limit', message: `must be at most ${maxLimit}` }],
    );
  }
  return limit;
}

/** A `collections` filter may name only collections of the schema (a typo must not read as "no changes"). */
export function checkCollections(
  schema: SyncSchema,
  collections: readonly string[] | undefined,
): void {
  const issues = (collections ?? []).flatMap((name, i) =>
    schema.has(name)
      ? []
      : [
          {
            path: `collections.${i}`,
            message: `unknown collection "${name}" (known: ${schema.names.join(', ')})`,
          },
        ],
  );
  if (issues.length > 0) throw badRequest(issues, 'invalid collections filter');
}
