import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  isGrpcServiceError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { DeploymentErrorType } from '../workflows/messages.js';

/** An invalid field of a 400: its place in the request (`body.release`, `query.pageSize`) and why. */
export interface InvalidField {
  name: string;
  reason: string;
}

/** An RFC 9457 problem, thrown anywhere in a route and rendered once by `renderError`. */
export class Problem extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly title: string,
    readonly detail: string,
    readonly extra: { errors?: InvalidField[]; type?: string; retryAfter?: number } = {},
  ) {
    super(detail);
    this.name = 'Problem';
  }
}

export const badRequest = (errors: InvalidField[]) =>
  new Problem(400, 'Bad request', errors.map((e) => `${e.name}: ${e.reason}`).join('; '), { errors });
export const notFound = (detail: string) => new Problem(404, 'Not found', detail);
export const forbidden = (detail: string) => new Problem(403, 'Forbidden', detail);
export const conflict = (detail: string, type?: string) => new Problem(409, 'Conflict', detail, type ? { type } : {});
export const unavailable = (detail: string, retryAfter = 5) =>
  new Problem(503, 'Service unavailable', detail, { retryAfter });

/** Each named refusal of the workflow maps to exactly one HTTP status (SPEC §6). */
export const STATUS_OF: Record<DeploymentErrorType, ContentfulStatusCode> = {
  NOT_IN_TEAM: 403,
  NOT_ASSIGNEE: 403,
  HELD_BY_OTHER: 409,
  NOT_TAKEN: 409,
  ALREADY_DECIDED: 409,
  NOT_WAITING: 409,
  INTERRUPTION_NOT_FOUND: 404,
  NOTES_TOO_LONG: 400,
  BAD_REQUEST: 400,
  EXPIRED: 503,
};

const TITLES: Partial<Record<number, string>> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  503: 'Service unavailable',
};

/** Temporal's errors, unwrapped here once: update refusals, missing workflows, an absent worker. */
export function problemFromTemporal(error: unknown): Problem | undefined {
  if (error instanceof WorkflowUpdateFailedError) {
    const cause = error.cause;
    if (cause instanceof ApplicationFailure && cause.type && cause.type in STATUS_OF) {
      const status = STATUS_OF[cause.type as DeploymentErrorType];
      return new Problem(status, TITLES[status] ?? 'Error', cause.message, { type: cause.type });
    }
    // A validator's rejection: the payload was not acceptable.
    return new Problem(400, 'Bad request', cause?.message ?? error.message, { type: 'BAD_REQUEST' });
  }
  if (error instanceof WorkflowNotFoundError) return notFound('No such deployment.');
  if (error instanceof WorkflowExecutionAlreadyStartedError) return conflict(error.message);
  if (hasCode(error, 8)) {
    return unavailable('Too many simultaneous actions on this deployment; nothing was done. Try again in a moment.', 1);
  }
  if (isDeadline(error)) {
    return unavailable('No Interlock worker answered in time, so nothing was done. Check that a worker is running, then try again.');
  }
  if (isGrpcServiceError(error) && error.code === 14) {
    return unavailable('Temporal cannot be reached right now; nothing was done. Try again shortly.');
  }
  return undefined;
}

type Cause = { code?: number; name?: string; cause?: unknown };

/** Whether the error, or anything in its chain of causes, matches. */
function inCauses(error: unknown, matches: (cause: Cause) => boolean): boolean {
  for (let e = error as Cause | undefined; e; e = e.cause as Cause | undefined) {
    if (matches(e)) return true;
    if (e === e.cause) break;
  }
  return false;
}

const hasCode = (error: unknown, code: number) => inCauses(error, (e) => e.code === code);

/** An abort or deadline from `withDeadline`/`withAbortSignal`, however deep the SDK wrapped it. */
export const isDeadline = (error: unknown) =>
  inCauses(error, (e) => e.code === 4 || e.code === 1 || e.name === 'AbortError' || e.name === 'TimeoutError');

export function renderProblem(c: Context, problem: Problem): Response {
  const { status, title, detail, extra } = problem;
  if (extra.retryAfter !== undefined) c.header('Retry-After', String(extra.retryAfter));
  if (status === 401) c.header('WWW-Authenticate', 'Bearer');
  const body = {
    type: extra.type ? `https://interlock.dev/problems/${extra.type.toLowerCase().replaceAll('_', '-')}` : 'about:blank',
    title,
    status,
    detail,
    ...(extra.type ? { code: extra.type } : {}),
    ...(extra.errors ? { errors: extra.errors } : {}),
    instance: c.req.path,
  };
  return c.body(JSON.stringify(body), status, { 'Content-Type': 'application/problem+json' });
}

/** The one error handler: problems as they are, Temporal's errors unwrapped, anything else a logged 500. */
export function renderError(error: Error, c: Context): Response {
  if (error instanceof Problem) return renderProblem(c, error);
  const fromTemporal = problemFromTemporal(error);
  if (fromTemporal) return renderProblem(c, fromTemporal);
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    return renderProblem(c, new Problem(status, TITLES[status] ?? 'Error', error.message || (TITLES[status] ?? 'Error')));
  }
  c.get('logger')?.error({ err: error }, 'unhandled error');
  return renderProblem(c, new Problem(500, 'Internal server error', 'Something went wrong on our side; it has been logged.'));
}
