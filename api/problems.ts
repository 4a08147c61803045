import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../auth/request-env.js';
import { toServiceError, type InvalidField, type MissingPermission, type ServiceError } from '../service/errors.js';

export type { InvalidField };

/**
 * An RFC 9457 problem of the HTTP layer itself (401, 405, 413, …). The service's refusals are
 * `ServiceError`s, rendered by `renderError` with the status their code maps to.
 */
export class Problem extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly title: string,
    readonly detail: string,
    readonly extra: { errors?: InvalidField[]; type?: string; retryAfter?: number; missing?: MissingPermission } = {},
  ) {
    super(detail);
    this.name = 'Problem';
  }
}

export const badRequest = (errors: InvalidField[]) =>
  new Problem(400, 'Bad request', errors.map((e) => `${e.name}: ${e.reason}`).join('; '), { errors });

const TITLES: Partial<Record<number, string>> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  503: 'Service unavailable',
};

/** A service error as the problem the API answers with. */
export function problemOf(error: ServiceError): Problem {
  // A bad request names its fields, a missing sign-in says what to send: neither needs a code.
  const type = error.code === 'INVALID' || error.code === 'UNAUTHENTICATED' ? undefined : error.code;
  return new Problem(error.status, TITLES[error.status] ?? 'Error', error.message, {
    ...(type ? { type } : {}),
    ...(error.extra.fields ? { errors: error.extra.fields } : {}),
    ...(error.extra.missing ? { missing: error.extra.missing } : {}),
    ...(error.extra.retryAfter === undefined ? {} : { retryAfter: error.extra.retryAfter }),
  });
}

export function renderProblem(c: Context<AppEnv>, problem: Problem): Response {
  const { status, title, detail, extra } = problem;
  // A refused sign-in or action goes to the audit trail, with whoever it was when known.
  c.var.audit?.recordRefusal(status, { reason: detail, code: extra.type }, { actor: c.var.user, request: { method: c.req.method, path: c.req.path } }, c.var.logger);
  if (extra.retryAfter !== undefined) c.header('Retry-After', String(extra.retryAfter));
  if (status === 401) c.header('WWW-Authenticate', 'Bearer');
  const body = {
    type: extra.type ? `https://interlock.dev/problems/${extra.type.toLowerCase().replaceAll('_', '-')}` : 'about:blank',
    title,
    status,
    detail,
    ...(extra.type ? { code: extra.type } : {}),
    ...(extra.errors ? { errors: extra.errors } : {}),
    ...(extra.missing ? { missing: extra.missing } : {}),
    instance: c.req.path,
  };
  return c.body(JSON.stringify(body), status, { 'Content-Type': 'application/problem+json' });
}

/** The one error handler: problems as they are, service (and Temporal) errors mapped, anything else a logged 500. */
export function renderError(error: Error, c: Context<AppEnv>): Response {
  if (error instanceof Problem) return renderProblem(c, error);
  const known = toServiceError(error);
  if (known) return renderProblem(c, problemOf(known));
  if (error instanceof HTTPException) {
    const { status } = error;
    return renderProblem(c, new Problem(status, TITLES[status] ?? 'Error', error.message || (TITLES[status] ?? 'Error')));
  }
  c.get('logger')?.error({ err: error }, 'unhandled error');
  return renderProblem(c, new Problem(500, 'Internal server error', 'Something went wrong on our side; it has been logged.'));
}
