/** Tokens that expire: one cached bearer token, refreshed before it expires and on demand after an UNAUTHORIZED answer. */

/** Fetches a token from the app's auth layer; `refresh: true` asks for a new one (the old was refused or is about to expire). */
export type GetToken = (options: {
  refresh: boolean;
}) => Promise<string | null | undefined> | string | null | undefined;

/** Options of `createTokenSource`. */
export interface TokenSourceOptions {
  /** Fetch a new token this long before the cached one's `exp` (JWTs only) (ms). @default 30000 */
  refreshBeforeMs?: number;
  /** The clock (tests). @default Date.now */
  now?: () => number;
}

/** The current token for the app's links, shared with the sync client. */
export interface TokenSource {
  /** The cached token, fetched first or refreshed when it is expired or about to expire. */
  get(): Promise<string | null>;
  /** Fetches a new token now (concurrent callers share one fetch). */
  refresh(): Promise<string | null>;
}

/** The `exp` of a JWT in ms, or `null` when the token is not a JWT with one. */
export function tokenExpiry(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const base64 = part
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(part.length / 4) * 4, '=');
    const json = JSON.parse(
      (globalThis as unknown as { atob(data: string): string }).atob(base64),
    ) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * A token source over the app's `getToken`. Pass it to `createSyncClient({ tokens })` and read it
 * in the app's tRPC links, so both always send the same, fresh token.
 *
 * @example
 * const tokens = createTokenSource(async ({ refresh }) => (await auth.getSession({ forceRefresh: refresh })).accessToken);
 * const wsClient = createWSClient({ url, connectionParams: async () => ({ token: await tokens.get() }) });
 * const http = httpBatchLink({ url, transformer: superjson, headers: async () => ({ authorization: `Bearer ${await tokens.get()}` }) });
 * const client = createSyncClient({ api: trpc.sync, schema, store, tokens });
 */
export function createTokenSource(
  getToken: GetToken,
  options: TokenSourceOptions = {},
): TokenSource {
  const before = options.refreshBeforeMs ?? 30_000;
  const now = options.now ?? Date.now;
  let token: string | null = null;
  let expires: number | null = null;
  let fetched = false;
  let inflight: Promise<string | null> | null = null;

  const fetchToken = (refresh: boolean): Promise<string | null> => {
    inflight ??= (async () => {
      try {
        token = (await getToken({ refresh })) ?? null;
        expires = token ? tokenExpiry(token) : null;
        fetched = true;
        return token;
      } finally {
        inflight = null;
      }
    })();
    return inflight;
  };

  return {
    async get() {
      if (inflight) return inflight;
      if (!fetched) return fetchToken(false);
      if (expires !== null && now() >= expires - before) return fetchToken(true);
      return token;
    },
    refresh: () => fetchToken(true),
  };
}
