/** The client's schema version on the REST face: the `X-Sync-Schema-Version` header, or `?schemaVersion=` where headers cannot be set (EventSource). */
import { SyncError } from '../../shared/errors.js';

/** Request header carrying the client's schema version. */
export const SCHEMA_VERSION_HEADER = 'X-Sync-Schema-Version';
/** Response header of a 426: the oldest schema version the server accepts. */
export const MIN_SCHEMA_VERSION_HEADER = 'X-Sync-Min-Schema-Version';

const POSITIVE_INT = /^[1-9][0-9]{0,9}$/;

function parse(raw: string, name: string): number {
  const value = Number(raw.trim());
  if (!POSITIVE_INT.test(raw.trim()) || value > 2_147_483_647) {
    throw new SyncError(
      'BAD_REQUEST',
      `${name}: must be a positive integer (the client's schema version)`,
      [{ path: name, message: 'must be a positive integer' }],
    );
  }
  return value;
}

/**
 * The schema version the request carries (header first, then the `schemaVersion` query
 * parameter), or undefined. A malformed or contradictory value is a BAD_REQUEST naming it.
 */
export function requestSchemaVersion(req: Request, url: URL): number | undefined {
  const header = req.headers.get(SCHEMA_VERSION_HEADER);
  const queryValues = url.searchParams.getAll('schemaVersion');
  if (queryValues.length > 1)
    throw new SyncError('BAD_REQUEST', 'schemaVersion: given more than once', [
      { path: 'schemaVersion', message: 'given more than once' },
    ]);
  const fromHeader =
    header === null || header.trim() === '' ? undefined : parse(header, SCHEMA_VERSION_HEADER);
  const fromQuery =
    queryValues[0] === undefined || queryValues[0] === ''
      ? undefined
      : parse(queryValues[0], 'schemaVersion');
  if (fromHeader !== undefined && fromQuery !== undefined && fromHeader !== fromQuery) {
    throw new SyncError(
      'BAD_REQUEST',
      `schemaVersion: the query says ${fromQuery} but ${SCHEMA_VERSION_HEADER} says ${fromHeader}`,
      [{ path: 'schemaVersion', message: 'contradicts the header' }],
    );
  }
  return fromHeader ?? fromQuery;
}
