/** `trpc-offline-sync serve`: store + engine + one-port server, a dev token when no secret is set, clean shutdown on signals. */
import { jwtAuthenticator, signDevToken } from '../auth/jwt.js';
import { createSyncEngine } from '../engine/engine.js';
import { writerRules, type SyncRules } from '../engine/rules.js';
import { createMetricsServer } from '../http/metrics-server.js';
import { createSyncHttpServer } from '../http/server.js';
import { createWebAppHandler } from '../http/web-app.js';
import { createEventLogger } from '../logging.js';
import { createMetrics } from '../metrics.js';
import { createSyncAppRouter } from '../trpc/app-router.js';
import { CliError, type CliConfig } from './config.js';
import { loadDevSecret } from './dev-secret.js';
import { initStore, openStore } from './open-store.js';
import { releaseMemory } from './release-memory.js';
import { loadRules, loadSchema } from './schema-file.js';
import { demoDefaultViews, demoRules } from '../demo/rules.js';
import { demoSchema } from '../demo/schema.js';
import { installProcessNet } from './process-net.js';
import type { UnexpectedError } from '../unexpected.js';
import { splitLimits } from './limits-env.js';

/** Starts serving; resolves with a `stop()` that closes server, engine and store (signals call it). */
export async function runServe(
  config: CliConfig,
  log: (line: string) => void,
): Promise<{ stop(): Promise<void> }> {
  const schema = await loadSchema(config.schemaFile);
  // Read rules: the demo's with the demo schema, else those the --schema module exports (if any).
  const ruled =
    schema === demoSchema
      ? { rules: demoRules, defaultViews: demoDefaultViews }
      : await loadRules(config.schemaFile);
  const opened = await openStore(config, schema.names);
  await initStore(opened);
  // PGlite's first boot leaves a closed initdb instance's memory behind until a full GC (see release-memory.ts).
  if (opened.store.kind === 'pglite') await releaseMemory();
  const metrics = createMetrics({ store: opened.store, feed: () => engine.feedStatus() });
  // Whatever still escapes a handler is logged and counted (sync_uncaught_errors_total), not a dead server.
  const removeNet = installProcessNet({ count: metrics.uncaughtError });
  const logEvent = createEventLogger({ level: config.logLevel });
  // Every unexpected (500) answer on every listener: one log line with its request id.
  const reportError = ({ requestId, op, error }: UnexpectedError) =>
    logEvent({ type: 'error', where: op, requestId, error });
  // One env table fills both: engine limits for the engine, transport limits for the server's gateway.
  const split = splitLimits(config.limits, config.stream);
  // SYNC_COMPAT_VISIBILITY=user: a writer rule per collection, the default view of every face.
  const writers = config.compatVisibility === 'user' ? writerRules(schema) : null;
  const engine = createSyncEngine<typeof schema, SyncRules>({
    store: opened.store,
    schema,
    // The demo schema comes with its views (`mine`, `all`; `all` by default, so nothing changes for clients that do not subscribe).
    // With compat per-user visibility, the writer rules join them and are the default views.
    ...((writers
      ? { rules: { ...(ruled.rules ?? {}), ...writers }, defaultViews: Object.keys(writers) }
      : ruled) as Pick<Parameters<typeof createSyncEngine>[0], 'rules' | 'defaultViews'>),
    ...(config.rateLimit ? { rateLimit: config.rateLimit } : {}),
    limits: split.limits,
    stream: split.stream,
    ...(config.minSchemaVersion ? { minSchemaVersion: config.minSchemaVersion } : {}),
    onEvent: (event) => {
      metrics.onEvent(event);
      logEvent(event);
    },
  });
  let secret = config.jwtSecret;
  const { jwt } = config;
  const identityProvider = Boolean(jwt.jwksUrl || jwt.publicKey);
  let devToken: string | undefined; // written into the web app's page only for a secret generated here
  if (!secret && !identityProvider) {
    // Kept in the data folder, so tokens signed with it (the page's, `token` command's) survive restarts.
    const dev = loadDevSecret(config.dataDir);
    secret = dev.secret;
    const token = await signDevToken(secret, { sub: 'dev', tenant: 'dev', expiresIn: '24h' });
    log(
      `SYNC_JWT_SECRET not set; ${dev.created ? 'generated a development secret' : 'using the development secret'} in ${dev.path} (trpc-offline-sync token --sub NAME signs more tokens with it)`,
    );
    log(`dev token (user "dev", tenant "dev", valid 24 h): ${token}`);
    devToken = token;
  }
  const server = createSyncHttpServer({
    engine,
    limits: split.transport,
    authenticate: jwtAuthenticator({
      secret,
      jwksUrl: jwt.jwksUrl,
      publicKey: jwt.publicKey,
      issuer: jwt.issuer,
      audience: jwt.audience,
      userClaim: jwt.userClaim,
      scopeClaim: jwt.scopeClaim,
      ...(jwt.requireScopeClaim === null ? {} : { requireScopeClaim: jwt.requireScopeClaim }),
    }),
    router: createSyncAppRouter(engine),
    onError: reportError,
    ...(config.ipRateLimit
      ? { ipRateLimit: config.ipRateLimit, trustProxy: config.trustProxy, onEvent: logEvent }
      : {}),
    ...config.requestBounds,
    ...config.timeouts,
    ...(config.cors ? { cors: config.cors } : {}),
    compatVisibility: config.compatVisibility,
    metrics,
    metricsToken: config.metricsToken,
    serveMetrics: config.metricsPort === null,
    // An app's own schema gets the collection browser, unless it has the task app's collections (`tasks`, `notes`).
    webApp: createWebAppHandler({
      ...(devToken ? { devToken } : {}),
      ...(config.schemaFile && !fitsTaskApp(schema) ? { schema } : {}),
      onError: reportError,
    }),
  });
  const metricsServer =
    config.metricsPort === null
      ? null
      : createMetricsServer({
          metrics,
          metricsToken: config.metricsToken,
          onError: reportError,
          ...config.timeouts,
        });
  const stop = async () => {
    await metricsServer?.close();
    await server.close();
    await engine.close();
    await opened.close();
    removeNet();
  };
  let address;
  try {
    address = await server.listen(config.port, config.host);
  } catch (error) {
    await stop().catch(() => undefined);
    const e = error as Error & { code?: string };
    throw new CliError(`cannot listen on ${config.host}:${config.port}: ${e.code ?? e.message}`);
  }
  const { url, host, port } = address;
  let metricsUrl: string | null = null;
  if (metricsServer) {
    try {
      metricsUrl = (await metricsServer.listen(config.metricsPort!, config.metricsHost)).url;
    } catch (error) {
      await stop().catch(() => undefined);
      const e = error as Error & { code?: string };
      throw new CliError(
        `SYNC_METRICS_PORT: cannot listen on ${config.metricsHost}:${config.metricsPort}: ${e.code ?? e.message}`,
      );
    }
  }
  log(`store: ${opened.description}; collections: ${schema.names.join(', ')}`);
  if (identityProvider) {
    const checks = [
      jwt.issuer && `iss ${jwt.issuer}`,
      jwt.audience && `aud ${jwt.audience.join('|')}`,
    ]
      .filter(Boolean)
      .join(', ');
    log(
      `tokens: ${jwt.jwksUrl ? `JWKS ${jwt.jwksUrl}` : 'PEM public key'}${secret ? ' and HS256' : ''}${checks ? `; ${checks}` : ''}; claims ${jwt.userClaim} → user, ${jwt.scopeClaim} → scope (no dev token: tokens come from your identity provider)`,
    );
  } else if (jwt.userClaim !== 'sub' || jwt.scopeClaim !== 'tenant')
    log(`tokens: claims ${jwt.userClaim} → user, ${jwt.scopeClaim} → scope`);
  if (config.rateLimit)
    log(
      `rate limit: ${config.rateLimit.requests} requests per ${config.rateLimit.windowMs} ms per user`,
    );
  if (config.ipRateLimit)
    log(
      `rate limit: ${config.ipRateLimit.requests} requests per ${config.ipRateLimit.windowMs} ms per client address${config.trustProxy ? ` (from X-Forwarded-For, ${config.trustProxy} trusted prox${config.trustProxy === 1 ? 'y' : 'ies'})` : ''}`,
    );
  if (Object.keys(config.requestBounds).length > 0)
    log(
      `request bounds: ${Object.entries(config.requestBounds)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    );
  if (config.cors)
    log(`CORS: ${config.cors === true ? 'any origin' : (config.cors as string[]).join(', ')}`);
  if (Object.keys(config.limits).length > 0)
    log(
      `limits: ${Object.entries(config.limits)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    );
  log(
    `listening on ${url} (trpc: /trpc, ws: ws://${host}:${port}/trpc, rest: /sync, openapi: /openapi.json)`,
  );
  if (metricsUrl)
    log(
      `metrics: ${metricsUrl}/metrics${config.metricsToken ? ' (bearer SYNC_METRICS_TOKEN)' : ''}; not served on the main port`,
    );
  const app =
    config.schemaFile && !fitsTaskApp(schema) ? 'collection browser for your schema' : 'task app';
  log(
    `web app: ${url}/ (${app}; ${devToken ? 'signed in with the dev token' : 'asks for a token'})`,
  );
  return { stop };
}

/** Whether a schema has the task app's collections (`tasks`, `notes`), so `/` can serve the task app for it. */
function fitsTaskApp(schema: { collections: Record<string, unknown> }): boolean {
  return Object.hasOwn(schema.collections, 'tasks') && Object.hasOwn(schema.collections, 'notes');
}
