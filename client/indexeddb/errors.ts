/** Errors of the IndexedDB store, with a code an app can branch on: never a silent loss. */

export type IndexedDbErrorCode =
  'INDEXEDDB_UNAVAILABLE' | 'QUOTA_EXCEEDED' | 'VERSION_CHANGED' | 'WRITE_FAILED';

/** An IndexedDB failure the app should show or act on (the write it came from did not happen). */
export class IndexedDbStoreError extends Error {
  readonly code: IndexedDbErrorCode;
  constructor(code: IndexedDbErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IndexedDbStoreError';
    this.code = code;
  }
}

/** Translates a DOMException from IndexedDB into a clear error naming the problem. */
export function storeError(error: unknown, name: string): Error {
  if (error instanceof IndexedDbStoreError) return error;
  const domName = (error as { name?: string } | null)?.name;
  if (domName === 'QuotaExceededError')
    return new IndexedDbStoreError(
      'QUOTA_EXCEEDED',
      `IndexedDB "${name}": the browser's storage quota is full; the write was not stored (free space or ask for persistent storage)`,
      { cause: error },
    );
  if (
    domName === 'InvalidStateError' ||
    domName === 'UnknownError' ||
    domName === 'SecurityError'
  ) {
    return new IndexedDbStoreError(
      'INDEXEDDB_UNAVAILABLE',
      `IndexedDB "${name}" is not available (private mode, storage disabled or the database was closed): ${(error as Error).message}`,
      { cause: error },
    );
  }
  return error instanceof Error
    ? error
    : new IndexedDbStoreError('WRITE_FAILED', `IndexedDB "${name}": ${String(error)}`);
}
