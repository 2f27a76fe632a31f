/** CLI flags and environment → one validated config, with the help text and one-line errors for bad input. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { algorithmsForPublicKey } from '../auth/jwt.js';
import type { RateLimitOptions } from '../engine/rate-limit.js';
import { parseLogLevel, type LogLevel } from '../logging.js';
import type { StreamOptions, SyncLimits } from '../engine/types.js';
import type { RequestBounds } from '../http/request-bounds.js';
import {
  LIMITS_HELP,
  parseTrustProxy,
  readLimitsEnv,
  readRequestBoundsEnv,
  readStreamEnv,
  REQUEST_BOUNDS_HELP,
} from './limits-env.js';
import type { TransportTimeouts } from '../http/transport-guard.js';
import { readTimeoutsEnv, TIMEOUTS_HELP } from './timeouts-env.js';
import { parseCorsOrigins } from '../http/cors.js';
import type { CorsOrigin } from '../rest/cors.js';

/** An error the CLI prints as one line (`error: …`) before exiting with code 1. */
export class CliError extends Error {}

/** Everything `serve` and `init` need, flags taking precedence over the environment. */
export interface CliConfig {
  command: 'serve' | 'init' | 'verify' | 'help';
  /** `verify`: the scope whose integrity checksums are recomputed (--scope). */
  scope?: string;
  /** `verify --reset`: set drifted checksums to the recomputed ones. */
  reset?: boolean;
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | null;
  mongodbUri: string | null;
  /** Prefix of the MongoDB store's own collections (env SYNC_MONGODB_PREFIX); absent: the store's default `sync_`. */
  mongodbPrefix?: string;
  schemaFile: string | null;
  jwtSecret: string | null;
  /** Identity provider settings (env SYNC_JWT_JWKS_URL, SYNC_JWT_PUBLIC_KEY, SYNC_JWT_ISSUER, SYNC_JWT_AUDIENCE, SYNC_JWT_USER_CLAIM, SYNC_JWT_SCOPE_CLAIM). */
  jwt: JwtConfig;
  /** Bearer token `/metrics` and `/sync/status` require (env SYNC_METRICS_TOKEN), or null. */
  metricsToken: string | null;
  /** Port of a separate `/metrics` listener (env SYNC_METRICS_PORT), or null: `/metrics` on the main port. */
  metricsPort: number | null;
  /** Interface of that listener (env SYNC_METRICS_HOST, default 127.0.0.1). */
  metricsHost: string;
  /** Structured log level (env SYNC_LOG). */
  logLevel: LogLevel;
  /** Per-user request rate limit (env SYNC_RATE_LIMIT), or null for none. */
  rateLimit: Pick<RateLimitOptions, 'requests' | 'windowMs'> | null;
  /** Per-IP request limit (env SYNC_RATE_LIMIT_IP), or null for none. */
  ipRateLimit: Pick<RateLimitOptions, 'requests' | 'windowMs'> | null;
  /** Proxies whose X-Forwarded-For the per-IP limit trusts (env SYNC_TRUST_PROXY), 0 for none. */
  trustProxy: number;
  /** Engine limits set by SYNC_MAX_* / SYNC_*_LIMIT variables (see `LIMIT_ENV`); the rest keep their defaults. */
  limits: Partial<SyncLimits>;
  /** Server request and socket bounds set by SYNC_MAX_BATCH_CALLS, SYNC_MAX_RESPONSE_BYTES, SYNC_WS_* (see `readRequestBoundsEnv`). */
  requestBounds: RequestBounds;
  /** Live-stream options set by SYNC_STREAM_* variables (see `readStreamEnv`). */
  stream: Partial<StreamOptions>;
  /** Listener timeouts set by SYNC_REQUEST_TIMEOUT_MS / SYNC_HEADERS_TIMEOUT_MS (see `readTimeoutsEnv`); main and metrics port. */
  timeouts: TransportTimeouts;
  /** Oldest client schema version served (env SYNC_MIN_SCHEMA_VERSION), or null for none. */
  minSchemaVersion: number | null;
  /** Origins whose browser apps may call the server (env SYNC_CORS_ORIGINS: `*` or a comma-separated list); absent: CORS off. */
  cors?: CorsOrigin;
  /** Per-user visibility (env SYNC_COMPAT_VISIBILITY=user): each user sees the documents they last wrote. @default 'all' */
  compatVisibility?: 'all' | 'user';
}

/** Token verification settings beyond the HS256 secret; `publicKey` is the PEM text (read from a file when a path was given). */
export interface JwtConfig {
  jwksUrl: string | null;
  publicKey: string | null;
  issuer: string | null;
  audience: string[] | null;
  userClaim: string;
  scopeClaim: string;
  /** SYNC_JWT_REQUIRE_SCOPE_CLAIM; null: the authenticator's default (on with a JWKS or public key, off with only a secret). */
  requireScopeClaim: boolean | null;
}

/** SYNC_JWT_* → validated JWT settings (a bad URL, an unreadable key file or a PEM that is no public key fail with one line). */
export function readJwtConfig(env: NodeJS.ProcessEnv): JwtConfig {
  const value = (name: string) => (env[name]?.trim() ? env[name]!.trim() : null);
  const jwksUrl = value('SYNC_JWT_JWKS_URL');
  if (jwksUrl) checkUrl(jwksUrl, 'SYNC_JWT_JWKS_URL', ['https:', 'http:']);
  let publicKey = value('SYNC_JWT_PUBLIC_KEY');
  if (jwksUrl && publicKey)
    throw new CliError('give either SYNC_JWT_JWKS_URL or SYNC_JWT_PUBLIC_KEY, not both');
  if (publicKey && !publicKey.includes('-----BEGIN')) {
    try {
      publicKey = readFileSync(publicKey, 'utf8');
    } catch (error) {
      throw new CliError(
        `SYNC_JWT_PUBLIC_KEY: neither PEM text nor a readable file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  }
  if (publicKey) {
    try {
      algorithmsForPublicKey(publicKey.replace(/\\n/g, '\n'));
    } catch (error) {
      throw new CliError(`SYNC_JWT_PUBLIC_KEY: ${(error as Error).message.replace(/^jwt: /, '')}`);
    }
    publicKey = publicKey.replace(/\\n/g, '\n');
  }
  const claim = (name: string, fallback: string) => {
    const v = value(name) ?? fallback;
    if (v.length > 200) throw new CliError(`${name}: a claim name of at most 200 characters`);
    return v;
  };
  const audience = value('SYNC_JWT_AUDIENCE');
  const requireScope = value('SYNC_JWT_REQUIRE_SCOPE_CLAIM')?.toLowerCase() ?? null;
  if (requireScope !== null && requireScope !== 'true' && requireScope !== 'false')
    throw new CliError(
      `SYNC_JWT_REQUIRE_SCOPE_CLAIM: true or false, got ${JSON.stringify(env.SYNC_JWT_REQUIRE_SCOPE_CLAIM)}`,
    );
  return {
    jwksUrl,
    publicKey,
    issuer: value('SYNC_JWT_ISSUER'),
    audience: audience
      ? audience
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean)
      : null,
    userClaim: claim('SYNC_JWT_USER_CLAIM', 'sub'),
    scopeClaim: claim('SYNC_JWT_SCOPE_CLAIM', 'tenant'),
    requireScopeClaim: requireScope === null ? null : requireScope === 'true',
  };
}

export const HELP = `trpc-offline-sync — offline-first sync server (tRPC + REST + WebSocket + SSE)

Usage:
  trpc-offline-sync serve [options]   start the server
  trpc-offline-sync init [options]    create the tables/collections and indexes, then exit
  trpc-offline-sync verify --scope ID [--reset] [options]
                                      recompute a scope's integrity checksums from its stored
                                      documents and compare them with the kept ones (exit code 2
                                      on a mismatch); --reset sets drifted ones to the recomputed
  trpc-offline-sync token --sub ID [--tenant ID] [--ttl 24h]
                                      print a token signed with SYNC_JWT_SECRET, else with the
                                      dev secret in the data folder, with the SYNC_JWT_* claims,
                                      issuer and audience (see token --help)
  trpc-offline-sync --help

Options:
  --host HOST           interface to bind (env HOST, default 127.0.0.1)
  --port PORT           port, 0 = any free port (env PORT, default 3000)
  --data-dir DIR        embedded PGlite data directory (env SYNC_DATA_DIR, default ./.sync-data)
  --database-url URL    PostgreSQL, e.g. postgres://user:pass@host:5432/db (env DATABASE_URL)
  --mongodb-uri URI     MongoDB, e.g. mongodb://host:27017/db (env MONGODB_URI)
  --schema FILE         module exporting a defineSyncSchema() result (default: demo tasks + notes);
                        .ts files load through tsx when it is installed; / then serves a
                        collection browser for that schema instead of the task app; its
                        \`rules\` and \`defaultViews\` exports, if any, are the read rules
  -h, --help            show this help

Environment:
  SYNC_JWT_SECRET       HS256 secret for bearer tokens; when unset a random one is generated once
                        into <data dir>/dev-secret (mode 0600, kept across restarts) and a
                        development token valid for 24 hours is printed.
  SYNC_JWT_JWKS_URL     JWKS of your identity provider (Auth0, Clerk, Cognito, Firebase, Supabase,
                        Keycloak…): RS256/ES256/EdDSA tokens, keys cached, rotation followed.
  SYNC_JWT_PUBLIC_KEY   a PEM public key (the text, or a path to a .pem file) instead of a JWKS.
                        With either one set, no dev token is printed (tokens come from your IdP);
                        SYNC_JWT_SECRET may still be set to accept HS256 tokens too.
  SYNC_JWT_ISSUER       required iss claim (default: not checked)
  SYNC_JWT_AUDIENCE     required aud claim; comma-separated for several (default: not checked)
  SYNC_JWT_USER_CLAIM   claim holding the user id (default sub)
  SYNC_JWT_SCOPE_CLAIM  claim holding the scope/tenant id (default tenant; absent: the user id)
  SYNC_JWT_REQUIRE_SCOPE_CLAIM
                        true: refuse (401) tokens without the scope claim; false: their scope is
                        the user id (default true with SYNC_JWT_JWKS_URL or SYNC_JWT_PUBLIC_KEY,
                        false with only SYNC_JWT_SECRET)
  SYNC_MONGODB_PREFIX   prefix of the MongoDB store's own collections (default sync_), e.g. tos_
                        beside a fastapi-offline-sync server that owns sync_oplog.
  SYNC_METRICS_TOKEN    bearer token required by /metrics and /sync/status (default: /metrics open,
                        /sync/status needs a valid user token).
  SYNC_METRICS_PORT     serve /metrics on this port instead of the main one (0 = any free port);
                        the main port then answers /metrics with 404.
  SYNC_METRICS_HOST     interface of that port (default 127.0.0.1, so only local scrapers reach it).
  SYNC_LOG              structured JSON log lines on stdout: silent, error, info (default:
                        errors, slow-subscriber resyncs, rate-limit refusals, prunes) or debug
                        (every request).
  SYNC_RATE_LIMIT       per-user request limit as REQUESTS/WINDOW, e.g. 600/1m, 20/1s, 5000/1h
                        (push, pull, full pages and stream openings; over it: 429 + Retry-After).
                        Default: no limit.
  SYNC_RATE_LIMIT_IP    per-client-address limit, same syntax (e.g. 1200/1m): every HTTP request
                        and WebSocket upgrade, authenticated or not, before anything is read.
                        Default: no limit.
  SYNC_TRUST_PROXY      number of proxies in front of the server (usually 1) whose X-Forwarded-For
                        names the client for SYNC_RATE_LIMIT_IP. Default 0: the socket's address.
  SYNC_MIN_SCHEMA_VERSION  oldest client schema version served (defineSyncSchema(…, { version }));
                        older clients get 426 UPGRADE_REQUIRED. Default: none.
  SYNC_CORS_ORIGINS     origins whose browser apps may call the server from another origin (a Vite
                        dev server, say): * for any, or a comma-separated list such as
                        http://localhost:5173,https://app.example.com. Preflights are answered on
                        every path. Default: none (no CORS headers).
  SYNC_COMPAT_VISIBILITY  all (default) or user: fastapi-offline-sync's per-user visibility, each
                        user sees only the documents they last wrote (a writer rule per
                        collection, the default view of every face that does not subscribe).
${LIMITS_HELP}${REQUEST_BOUNDS_HELP}${TIMEOUTS_HELP}`;

/** `{ [key]: value }`, or nothing when the value is undefined (exactOptionalPropertyTypes-friendly). */
const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });

function checkLogLevel(value: string | undefined): LogLevel {
  try {
    return parseLogLevel(value);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

/** `3` → clients older than schema version 3 get 426 UPGRADE_REQUIRED; empty or unset → no minimum. */
export function parseMinSchemaVersion(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return null;
  if (!/^\s*[1-9][0-9]{0,9}\s*$/.test(value) || Number(value) > 2_147_483_647) {
    throw new CliError(
      `SYNC_MIN_SCHEMA_VERSION: expected a positive integer (the oldest client schema version served), got "${value}"`,
    );
  }
  return Number(value);
}

const WINDOW_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `600/1m` → 600 requests per 60,000 ms; empty or unset → no limit. */
export function parseRateLimit(
  value: string | undefined,
  name = 'SYNC_RATE_LIMIT',
): CliConfig['rateLimit'] {
  if (value === undefined || value.trim() === '') return null;
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*(ms|s|m|h)\s*$/.exec(value);
  const requests = match ? Number(match[1]) : 0;
  const windowMs = match ? Number(match[2]) * WINDOW_UNITS[match[3]!]! : 0;
  if (
    !match ||
    requests < 1 ||
    windowMs < 1 ||
    !Number.isSafeInteger(requests) ||
    !Number.isSafeInteger(windowMs)
  ) {
    throw new CliError(
      `${name}: expected REQUESTS/WINDOW such as 600/1m (units ms, s, m, h; both above 0), got "${value}"`,
    );
  }
  return { requests, windowMs };
}

function checkUrl(value: string, flag: string, protocols: string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`${flag}: not a valid URL: ${value}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new CliError(
      `${flag}: expected a ${protocols.map((p) => p + '//').join(' or ')} URL, got ${url.protocol}//`,
    );
  }
  return value;
}

/**
 * The scheme only: `new URL` refuses multi-host URIs (`mongodb://h1:27017,h2:27018/db?replicaSet=rs0`);
 * the driver's own parser reads the rest when the store is opened (server/stores/mongodb/uri.ts).
 */
function checkMongoUri(value: string): string {
  if (!/^mongodb(\+srv)?:\/\//.test(value))
    throw new CliError(
      `--mongodb-uri: expected a mongodb:// or mongodb+srv:// URI, got ${JSON.stringify(value.split(':')[0])}`,
    );
  return value;
}

function checkPort(value: string, name = '--port'): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw new CliError(`${name}: expected a number from 0 to 65535, got "${value}"`);
  return port;
}

/** Parses argv (without `node` and the script) and the environment. */
export function readConfig(argv: string[], env: NodeJS.ProcessEnv): CliConfig {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        'database-url': { type: 'string' },
        'mongodb-uri': { type: 'string' },
        schema: { type: 'string' },
        scope: { type: 'string' },
        reset: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(message);
    throw new CliError(
      `${unknown ? `unknown option ${unknown[1]}` : message.split('\n')[0]} (see --help)`,
    );
  }
  const { values, positionals } = parsed;
  const [command = 'help', ...rest] = positionals;
  if (rest.length > 0) throw new CliError(`unexpected argument "${rest[0]}" (see --help)`);
  if (
    !values.help &&
    command !== 'serve' &&
    command !== 'init' &&
    command !== 'verify' &&
    command !== 'help'
  ) {
    throw new CliError(`unknown command "${command}": expected serve, init or verify (see --help)`);
  }
  if (!values.help && command === 'verify' && !values.scope)
    throw new CliError('verify: --scope is required (the scope id whose checksums to recompute)');
  if ((values.scope !== undefined || values.reset) && command !== 'verify')
    throw new CliError('--scope and --reset go with verify (see --help)');
  const databaseUrl = values['database-url'] ?? env.DATABASE_URL ?? null;
  const mongodbUri = values['mongodb-uri'] ?? env.MONGODB_URI ?? null;
  if (databaseUrl && mongodbUri)
    throw new CliError('give either a PostgreSQL URL or a MongoDB URI, not both');
  return {
    command: values.help ? 'help' : (command as CliConfig['command']),
    ...(values.scope !== undefined ? { scope: values.scope } : {}),
    ...(values.reset ? { reset: true } : {}),
    host: values.host ?? env.HOST ?? '127.0.0.1',
    port: checkPort(values.port ?? env.PORT ?? '3000'),
    dataDir: values['data-dir'] ?? env.SYNC_DATA_DIR ?? './.sync-data',
    databaseUrl:
      databaseUrl && checkUrl(databaseUrl, '--database-url', ['postgres:', 'postgresql:']),
    mongodbUri: mongodbUri && checkMongoUri(mongodbUri),
    ...(env.SYNC_MONGODB_PREFIX ? { mongodbPrefix: env.SYNC_MONGODB_PREFIX } : {}),
    schemaFile: values.schema ?? null,
    jwtSecret: env.SYNC_JWT_SECRET || null,
    jwt: readJwtConfig(env),
    metricsToken: env.SYNC_METRICS_TOKEN?.trim() || null,
    metricsPort: env.SYNC_METRICS_PORT?.trim()
      ? checkPort(env.SYNC_METRICS_PORT.trim(), 'SYNC_METRICS_PORT')
      : null,
    metricsHost: env.SYNC_METRICS_HOST?.trim() || '127.0.0.1',
    logLevel: checkLogLevel(env.SYNC_LOG),
    rateLimit: parseRateLimit(env.SYNC_RATE_LIMIT),
    ipRateLimit: parseRateLimit(env.SYNC_RATE_LIMIT_IP, 'SYNC_RATE_LIMIT_IP'),
    trustProxy: parseTrustProxy(env.SYNC_TRUST_PROXY, (m) => new CliError(m)),
    limits: readLimitsEnv(env, (m) => new CliError(m)),
    stream: readStreamEnv(env, (m) => new CliError(m)),
    requestBounds: readRequestBoundsEnv(env, (m) => new CliError(m)),
    timeouts: readTimeoutsEnv(env, (m) => new CliError(m)),
    minSchemaVersion: parseMinSchemaVersion(env.SYNC_MIN_SCHEMA_VERSION),
    ...optional(
      'cors',
      parseCorsOrigins(env.SYNC_CORS_ORIGINS, (m) => new CliError(m)),
    ),
    compatVisibility: parseCompatVisibility(env.SYNC_COMPAT_VISIBILITY),
  };
}

/** SYNC_COMPAT_VISIBILITY: `all` (default) or `user`. */
function parseCompatVisibility(value: string | undefined): 'all' | 'user' {
  const v = value?.trim();
  if (!v || v === 'all') return 'all';
  if (v === 'user') return 'user';
  throw new CliError(`SYNC_COMPAT_VISIBILITY must be "all" or "user", not "${v}"`);
}
