import { createMiddleware } from 'hono/factory';
import type { Config } from '../config/schema.js';
import { principalForToken, refusalInWords } from './tokens.js';
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
