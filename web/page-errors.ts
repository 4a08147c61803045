import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../auth/request-env.js';
import { type ServiceErrorCode, toServiceError } from '../service/errors.js';

/** A refusal as a page shows it: the status the API would answer with, and its words. */
export interface PageError {
  status: ContentfulStatusCode;
  code: ServiceErrorCode;
  message: string;
}

/** The one mapping of the service's errors for the dashboard; undefined for a bug, which is logged as one. */
export function pageErrorOf(error: unknown): PageError | undefined {
  const known = toServiceError(error);
  return known && { status: known.status, code: known.code, message: known.message };
}

/** `pageErrorOf` for the page about to answer: a refusal that says when to try again (429, 503) sets `Retry-After`, as the API's does. */
export function refusalOf<E extends AppEnv>(c: Context<E>, error: unknown): PageError | undefined {
  const known = toServiceError(error);
  if (known?.extra.retryAfter !== undefined) c.header('Retry-After', String(known.extra.retryAfter));
  if (known) c.var.audit.recordRefusal(known.status, { reason: known.message, code: known.code }, { actor: c.var.user, request: { method: c.req.method, path: c.req.path } }, c.var.logger);
  return pageErrorOf(known ?? error);
}
