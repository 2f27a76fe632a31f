/** `trpc-offline-sync token --sub ID [--tenant ID] [--expires 24h]`: prints an HS256 token signed with SYNC_JWT_SECRET, else with the dev secret in the data folder. */
import { parseArgs } from 'node:util';
import { signDevToken } from '../auth/jwt.js';
import { CliError } from './config.js';
import { loadDevSecret } from './dev-secret.js';

export const TOKEN_HELP = `trpc-offline-sync token — print a signed token for development and tests

Usage:
  trpc-offline-sync token --sub ID [--tenant ID] [--expires SPAN] [--data-dir DIR]

  --sub ID          the user (sub claim); required
  --tenant ID       the scope (tenant claim); none: the user's own scope
  --expires SPAN    lifetime: seconds or a span like 30m, 24h, 7d (default 24h)
  --data-dir DIR    where the dev secret is kept (default $SYNC_DATA_DIR or ./.sync-data)

Signs with SYNC_JWT_SECRET when it is set (the server must use the same), else with the
development secret <data dir>/dev-secret that \`serve\` uses when SYNC_JWT_SECRET is unset
(created here if missing). The token alone goes to stdout: TOKEN=$(trpc-offline-sync token --sub alice).`;

const SPAN = /^\d+(\.\d+)?\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks|y|yr|yrs|year|years)$/i;

/** Runs the command; `log` gets the token, `info` what it was signed with. */
export async function runToken(argv: string[], env: NodeJS.ProcessEnv, log: (line: string) => void, info: (line: string) => void): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { sub: { type: 'string' }, tenant: { type: 'string' }, expires: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    throw new CliError(`token: ${(error as Error).message} (see token --help)`);
  }
  if (values.help) return log(TOKEN_HELP);
  if (!values.sub) throw new CliError('token: --sub is required (the user the token is for)');
  const expires = values.expires ?? '24h';
  if (!/^\d+$/.test(expires) && !SPAN.test(expires)) throw new CliError(`token: --expires "${expires}": give seconds or a span like 30m, 24h, 7d`);
  const expiresIn = /^\d+$/.test(expires) ? Number(expires) : expires;
  let secret = env.SYNC_JWT_SECRET || null;
  if (secret) info('signed with SYNC_JWT_SECRET');
  else {
    const dev = loadDevSecret(values['data-dir'] ?? env.SYNC_DATA_DIR ?? './.sync-data');
    secret = dev.secret;
    info(`signed with the dev secret in ${dev.path}${dev.created ? ' (created now; serve uses it while SYNC_JWT_SECRET is unset)' : ''}`);
  }
  log(await signDevToken(secret, { sub: values.sub, ...(values.tenant ? { tenant: values.tenant } : {}), expiresIn }));
}
