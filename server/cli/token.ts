/**
 * `trpc-offline-sync token --sub ID [--tenant ID] [--ttl 1h]`: prints an HS256 token the server
 * accepts, signed with its secret and carrying its configured claims, issuer and audience.
 */
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { CliError, readJwtConfig } from './config.js';
import { devSecretPath, readDevSecret } from './dev-secret.js';

export const TOKEN_HELP = `trpc-offline-sync token — print a signed token for development and tests

Usage:
  trpc-offline-sync token --sub ID [--tenant ID] [--ttl SPAN] [--data-dir DIR]

  --sub ID          the user; required
  --tenant ID       the scope (tenant); none: the user's own scope
  --ttl SPAN        lifetime: seconds or a span like 30m, 1h, 24h, 7d (default 24h; --expires too)
  --data-dir DIR    where serve keeps its dev secret (default $SYNC_DATA_DIR or ./.sync-data)

Signs with SYNC_JWT_SECRET when it is set (the server must use the same), else with the
development secret <data dir>/dev-secret that \`serve\` creates when SYNC_JWT_SECRET is unset.
The server's token settings are honoured: the user and scope go in the claims named by
SYNC_JWT_USER_CLAIM / SYNC_JWT_SCOPE_CLAIM (default sub / tenant), and SYNC_JWT_ISSUER /
SYNC_JWT_AUDIENCE become iss / aud. Only the token goes to stdout:
  TOKEN=$(trpc-offline-sync token --sub alice --tenant acme --ttl 1h)`;

const SPAN =
  /^\d+(\.\d+)?\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?|y|yrs?|years?)$/i;

/**
 * The secret `serve` would verify HS256 tokens with, given the same environment and data folder.
 */
function signingSecret(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  identityProvider: boolean,
): { secret: string; from: string } {
  if (env.SYNC_JWT_SECRET) return { secret: env.SYNC_JWT_SECRET, from: 'SYNC_JWT_SECRET' };
  if (identityProvider) {
    throw new CliError(
      'token: no secret to sign with: SYNC_JWT_JWKS_URL / SYNC_JWT_PUBLIC_KEY is set, ' +
        'so tokens come from your identity provider ' +
        '(set SYNC_JWT_SECRET as well, on the server too, to accept HS256 tokens signed here)',
    );
  }
  const dev = readDevSecret(dataDir);
  if (!dev) {
    throw new CliError(
      `token: no secret to sign with: SYNC_JWT_SECRET is unset and ${devSecretPath(dataDir)} ` +
        'does not exist (set SYNC_JWT_SECRET, or start `trpc-offline-sync serve` once with ' +
        'this data folder: it keeps a development secret there)',
    );
  }
  return { secret: dev, from: `the dev secret in ${devSecretPath(dataDir)}` };
}

/** Runs the command; `log` gets the token, `info` what it was signed with (stderr). */
export async function runToken(
  argv: string[],
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  info: (line: string) => void,
): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        sub: { type: 'string' },
        tenant: { type: 'string' },
        ttl: { type: 'string' },
        expires: { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new CliError(`token: ${(error as Error).message} (see token --help)`);
  }
  if (values.help) return log(TOKEN_HELP);
  if (!values.sub) throw new CliError('token: --sub is required (the user the token is for)');
  if (values.ttl !== undefined && values.expires !== undefined)
    throw new CliError('token: give --ttl or --expires, not both');
  const ttl = values.ttl ?? values.expires ?? '24h';
  const flag = values.expires !== undefined ? '--expires' : '--ttl';
  if (!/^\d+$/.test(ttl) && !SPAN.test(ttl))
    throw new CliError(`token: ${flag} "${ttl}": give seconds or a span like 30m, 1h, 24h, 7d`);
  if (/^0+$/.test(ttl))
    throw new CliError(`token: ${flag} "${ttl}": a token must live at least one second`);
  const jwt = readJwtConfig(env);
  if (jwt.requireScopeClaim === true && values.tenant === undefined) {
    throw new CliError(
      'token: --tenant is required: SYNC_JWT_REQUIRE_SCOPE_CLAIM=true refuses tokens ' +
        `without the ${jwt.scopeClaim} claim`,
    );
  }
  const { secret, from } = signingSecret(
    env,
    values['data-dir'] ?? env.SYNC_DATA_DIR ?? './.sync-data',
    Boolean(jwt.jwksUrl || jwt.publicKey),
  );
  const claims: Record<string, string> = { [jwt.userClaim]: values.sub };
  if (values.tenant !== undefined) claims[jwt.scopeClaim] = values.tenant;
  const now = Math.floor(Date.now() / 1000);
  let signer = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now);
  // jose reads a number as an absolute time, so a lifetime in seconds is added to now.
  signer = signer.setExpirationTime(/^\d+$/.test(ttl) ? now + Number(ttl) : ttl);
  if (jwt.issuer) signer = signer.setIssuer(jwt.issuer);
  if (jwt.audience)
    signer = signer.setAudience(jwt.audience.length === 1 ? jwt.audience[0]! : jwt.audience);
  const extras = [
    jwt.issuer && `iss ${jwt.issuer}`,
    jwt.audience && `aud ${jwt.audience.join('|')}`,
  ].filter(Boolean);
  info(
    `signed with ${from}; claims ${jwt.userClaim} → user` +
      (values.tenant !== undefined ? `, ${jwt.scopeClaim} → scope` : '') +
      (extras.length ? `; ${extras.join(', ')}` : ''),
  );
  log(await signer.sign(new TextEncoder().encode(secret)));
}
