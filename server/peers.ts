/**
 * Optional peer dependencies: the database drivers and server-only parts an app installs only when
 * it uses them. A missing one is named with the command that installs it.
 */

/** Each optional peer and what needs it. */
export const OPTIONAL_PEERS: Readonly<Record<string, string>> = {
  '@electric-sql/pglite':
    'the embedded PGlite store (pgliteStore, `trpc-offline-sync serve` without a database URL)',
  pg: 'the PostgreSQL store on a database URL',
  mongodb: 'the MongoDB store',
  'mongodb-connection-string-url': 'the MongoDB store',
  ws: 'the WebSocket faces (createSyncHttpServer, createRestWebSocketServer, the compat WebSocket)',
  jose: 'JWT authentication (jwtAuthenticator, signDevToken, createSyncHttpServer)',
  'prom-client': 'Prometheus metrics (createMetrics, `trpc-offline-sync serve`)',
};

/** The package a "Cannot find package 'X'" / "Cannot find module 'X'" error is about, when it is an optional peer. */
export function missingPeerOf(error: unknown): string | null {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' && e?.code !== 'MODULE_NOT_FOUND') return null;
  const name = /Cannot find (?:package|module) '([^']+)'/.exec(String(e.message))?.[1];
  if (!name) return null;
  const pkg = name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!;
  return pkg in OPTIONAL_PEERS ? pkg : null;
}

/** The message for a missing optional peer: what needs it and the command that installs it. */
export function missingPeerMessage(pkg: string): string {
  return `the optional peer dependency ${pkg} is not installed; ${OPTIONAL_PEERS[pkg] ?? 'this feature'} needs it: npm install ${pkg}`;
}

/**
 * `import(specifier)` of an optional peer: a missing package throws an error naming it and the
 * command that installs it, instead of the loader's "Cannot find package".
 *
 * @example
 * const { PGlite } = await importPeer('@electric-sql/pglite', () => import('@electric-sql/pglite'));
 */
export async function importPeer<T>(pkg: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (missingPeerOf(error) === pkg) throw new Error(missingPeerMessage(pkg), { cause: error });
    throw error;
  }
}
