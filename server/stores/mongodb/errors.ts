// MongoDB server error codes the store reacts to.

// Read by shape, not `instanceof MongoServerError`: the app's `Db` may come from another copy of the driver.
function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null
    ? (error as { code?: unknown }).code
    : undefined;
}

/** E11000: a unique index (or `_id`) already holds the key. */
export function isDuplicateKey(error: unknown): boolean {
  return codeOf(error) === 11000;
}

/** 48 NamespaceExists: `createCollection` lost a race with another process. */
export function isNamespaceExists(error: unknown): boolean {
  return codeOf(error) === 48;
}

/** 27 IndexNotFound: `dropIndex` of an index that is not there. */
export function isIndexNotFound(error: unknown): boolean {
  return codeOf(error) === 27;
}

/** 26 NamespaceNotFound: the collection does not exist. */
export function isNamespaceNotFound(error: unknown): boolean {
  return codeOf(error) === 26;
}
