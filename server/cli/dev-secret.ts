/** The development server's HS256 secret, kept in its data folder (`<data dir>/dev-secret`, mode 0600) so dev tokens survive restarts. */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './config.js';

/** The file name inside the data folder. */
export const DEV_SECRET_FILE = 'dev-secret';

/** Where the dev secret of a data folder is kept. */
export const devSecretPath = (dataDir: string): string => join(dataDir, DEV_SECRET_FILE);

/** The dev secret kept in `dataDir`, or null when there is none yet (a file too short or unreadable is an error). */
export function readDevSecret(dataDir: string): string | null {
  const path = devSecretPath(dataDir);
  let secret: string;
  try {
    secret = readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CliError(`${path}: cannot read the dev secret: ${(error as Error).message}`);
  }
  if (secret.length < 32)
    throw new CliError(
      `${path}: the dev secret is shorter than 32 characters; delete the file to get a new one`,
    );
  return secret;
}

/**
 * Reads the dev secret from `dataDir`, creating it (32 random bytes, base64url, mode 0600) when
 * missing. `created` says whether this call made it. Used only when SYNC_JWT_SECRET is unset and
 * no identity provider is configured.
 */
export function loadDevSecret(dataDir: string): { secret: string; path: string; created: boolean } {
  const path = devSecretPath(dataDir);
  const kept = readDevSecret(dataDir);
  if (kept) return { secret: kept, path, created: false };
  const secret = randomBytes(32).toString('base64url');
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // 'wx': never overwrite one another process has just written.
    writeFileSync(path, secret + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600); // the umask may have cleared bits, never added them; make it exact
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadDevSecret(dataDir);
    throw new CliError(`${path}: cannot write the dev secret: ${(error as Error).message}`);
  }
  return { secret, path, created: true };
}
