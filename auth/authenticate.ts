import { createHash, timingSafeEqual } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { Config, User } from '../config/schema.js';
import type { Principal } from '../core/principals.js';
import { principalOfUser } from '../service/permissions.js';
import type { Sessions } from './sessions.js';
import type { AppEnv } from './request-env.js';
import { ServiceError } from '../service/errors.js';
import { looksLikeJwt, type WorkloadIdentity } from './workload-identity.js';

/**
 * `Authorization: Bearer <token>` (or, for GET, the dashboard's session) → the principal (`c.get('user')`), or 401: no token, nobody's, expired.
 * A bearer that is no one's token but is shaped like a JWT is a CI job's workload identity, checked against `auth.trust` (auth/workload-identity.ts).
 */
export const bearerAuth = (config: Config, sessions: Sessions, workloads?: WorkloadIdentity) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('Authorization');
    // The dashboard's pages read the API (and its event streams) with their session cookie; only
    // safe methods, so a cross-site form can never act through it.
    if (!header && (c.req.method === 'GET' || c.req.method === 'HEAD')) {
      const user = sessions.read(c)?.user;
      if (user) {
        c.set('user', user);
        return next();
      }
    }
    // Keptn's clients send their token as `x-token`; the Keptn event API takes it as a bearer token.
    const token = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] ?? (header ? undefined : c.req.header('x-token')?.trim() || undefined);
    if (!token) throw new ServiceError('UNAUTHENTICATED', 'Send your token as "Authorization: Bearer <token>" (or, as Keptn\'s clients do, "x-token: <token>").');
    const answer = principalForToken(config, token);
    if (!('principal' in answer) && answer.refused === 'unknown' && workloads && looksLikeJwt(token)) {
      const job = await workloads.verify(config.auth?.trust ?? [], token);
      if ('unavailable' in job) throw new ServiceError('UNAVAILABLE', job.unavailable);
      if ('refused' in job) throw new ServiceError('UNAUTHENTICATED', job.detail);
      c.set('user', job.principal);
      return next();
    }
    if (!('principal' in answer)) throw new ServiceError('UNAUTHENTICATED', refusalInWords(answer));
    c.set('user', answer.principal);
    await next();
  });

/**
 * Finds the user whose `tokenSha256` matches the token. Every user's hash is compared, each in
 * constant time, so the answer's timing says nothing about which hash came close.
 */
export function userForToken(config: Config, token: string): User | undefined {
  const presented = createHash('sha256').update(token).digest();
  let found: User | undefined;
  for (const [user, hash] of hashesOf(config.users)) {
    if (timingSafeEqual(presented, hash) && !found) found = user;
  }
  return found;
}

/** What a token says: the principal it belongs to, or why it is refused (nobody's, or past its user's `expires`). */
export type TokenAnswer = { principal: Principal; user: User } | { refused: 'unknown' } | { refused: 'expired'; user: User };

/** The principal a bearer token (or the dashboard's sign-in form) names, as of `now`. */
export function principalForToken(config: Config, token: string, now = new Date()): TokenAnswer {
  const user = userForToken(config, token);
  if (!user) return { refused: 'unknown' };
  if (hasExpired(user, now)) return { refused: 'expired', user };
  return { principal: principalOfUser(config, user, 'token'), user };
}

/** Whether the user's token (and so their sessions) is past its `expires`. */
export const hasExpired = (user: Pick<User, 'expires'>, now = new Date()): boolean =>
  user.expires !== undefined && Date.parse(user.expires) <= now.getTime();

/** The words of a refused token, for a 401's detail and the sign-in page. */
export function refusalInWords(answer: Exclude<TokenAnswer, { principal: Principal }>): string {
  return answer.refused === 'expired'
    ? `That token expired at ${answer.user.expires}; ask an admin for a new one.`
    : 'That token belongs to nobody; check it, or ask an admin for a new one.';
}

/** Each user's tokenSha256 as bytes, decoded once per config rather than on every request; users without one have no token. */
const hashes = new WeakMap<readonly User[], [User, Buffer][]>();
function hashesOf(users: readonly User[]): [User, Buffer][] {
  let known = hashes.get(users);
  if (!known) hashes.set(users, (known = users.flatMap((user): [User, Buffer][] => (user.tokenSha256 ? [[user, Buffer.from(user.tokenSha256, 'hex')]] : []))));
  return known;
}
