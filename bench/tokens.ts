/** JWTs for the benchmark's clients: one HS256 secret shared by the server process and the parent. */
import { signDevToken } from '../server/auth/jwt.js';

export const BENCH_SECRET = 'bench-secret-bench-secret-bench-secret!';

/** A token whose `tenant` claim (the scope) is `scope`. */
export function benchToken(scope: string): Promise<string> {
  return signDevToken(BENCH_SECRET, { sub: 'bench', tenant: scope, expiresIn: '1h' });
}
