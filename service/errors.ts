import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  isGrpcServiceError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { DeploymentErrorType, OverrideRegistryErrorType } from '../workflows/messages.js';

/** An invalid field of a request: its place (`body.release`, `query.pageSize`) and why. */
export interface InvalidField {
  name: string;
  reason: string;
}

/** What a NOT_PERMITTED refusal found missing: the role, and where it would be needed. */
export interface MissingPermission {
  role: string;
  project?: string;
  environment?: string;
}

/** The service's named errors: the workflow's refusals and what the service itself refuses. */
export type ServiceErrorCode =
  | DeploymentErrorType
  | OverrideRegistryErrorType
  | 'INVALID'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_PERMITTED'
  | 'NOT_FOUND'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'RELEASE_EXISTS'
  | 'CONTEXT_IN_USE'
  | 'TEMPORAL_REFUSED'
  | 'RATE_LIMITED'
  | 'BUSY'
  | 'UNAVAILABLE';

/**
 * Each named error maps to exactly one HTTP status (docs/http-api.md). The JSON API renders it as a problem,
 * the dashboard as a page with the same status; neither decides the status on its own.
 */
export const HTTP_STATUS: Record<ServiceErrorCode, 400 | 401 | 403 | 404 | 409 | 429 | 503> = {
  INVALID: 400,
  UNAUTHENTICATED: 401,
  BAD_REQUEST: 400,
  NOTES_TOO_LONG: 400,
  INVALID_INPUTS: 400,
  INVALID_RUN_AT: 400,
  FORBIDDEN: 403,
  NOT_PERMITTED: 403,
  NOT_IN_TEAM: 403,
  SELF_APPROVAL: 403,
  NOT_ASSIGNEE: 403,
  NOT_YOUR_TURN: 403,
  RULE_ALREADY_MET: 403,
  NOT_EXECUTOR: 403,
  NOT_OVERRIDER: 403,
  NOT_FOUND: 404,
  INTERRUPTION_NOT_FOUND: 404,
  TASK_NOT_FOUND: 404,
  OVERRIDE_NOT_FOUND: 404,
  HELD_BY_OTHER: 409,
  ALREADY_APPROVED: 409,
  NOT_TAKEN: 409,
  ALREADY_DECIDED: 409,
  NOT_WAITING: 409,
  NOT_AN_OPTION: 409,
  TASK_FINISHED: 409,
  NOT_OVERRIDABLE: 409,
  ALREADY_REVIEWED: 409,
  RELEASE_EXISTS: 409,
  CONTEXT_IN_USE: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  TEMPORAL_REFUSED: 409,
  RATE_LIMITED: 429,
  BUSY: 429,
  EXPIRED: 503,
  UNAVAILABLE: 503,
};

/** A refusal or failure every caller of the service understands: a code, words a person can act on, and details. */
export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(
    readonly code: ServiceErrorCode,
    message: string,
    readonly extra: { fields?: InvalidField[]; retryAfter?: number; missing?: MissingPermission } = {},
  ) {
    super(message);
  }

  get status() {
    return HTTP_STATUS[this.code];
  }
}

export const invalid = (fields: InvalidField[]) =>
  new ServiceError('INVALID', fields.map((e) => `${e.name}: ${e.reason}`).join('; '), { fields });
export const notFound = (detail: string) => new ServiceError('NOT_FOUND', detail);
export const unavailable = (detail: string, retryAfter = 5) => new ServiceError('UNAVAILABLE', detail, { retryAfter });

/** The workflows' named refusals, as the update's failure carries them (own names only: never `constructor`). */
const isDeploymentErrorType = (type: string): type is DeploymentErrorType | OverrideRegistryErrorType => Object.hasOwn(HTTP_STATUS, type);

/** The error as a service error: one already, or one of Temporal's, unwrapped here once (update refusals, missing workflows, an absent worker or server); undefined for a bug. */
export function toServiceError(error: unknown): ServiceError | undefined {
  if (error instanceof ServiceError) return error;
  if (error instanceof WorkflowUpdateFailedError) {
    const cause = error.cause;
    if (cause instanceof ApplicationFailure && cause.type && isDeploymentErrorType(cause.type)) {
      return new ServiceError(cause.type, cause.message);
    }
    // A validator's rejection: the payload was not acceptable.
    return new ServiceError('BAD_REQUEST', cause?.message ?? error.message);
  }
  if (error instanceof WorkflowNotFoundError) return notFound('No such deployment.');
  if (hasCode(error, 8)) {
    return new ServiceError('BUSY', 'Too many simultaneous actions on this deployment; nothing was done. Try again in a moment.', { retryAfter: 1 });
  }
  if (hasCode(error, 9)) {
    // FAILED_PRECONDITION: e.g. the execution's limit of updates is spent. Nothing was applied.
    return new ServiceError('TEMPORAL_REFUSED', `Temporal refused the request (${causeMessage(error)}); nothing was done. Reload the deployment and try again.`);
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

function causeMessage(error: unknown): string {
  let message = '';
  inCauses(error, (e) => {
    const details = (e as { details?: unknown }).details;
    if (typeof details === 'string' && details) message = details;
    return false;
  });
  return message || 'failed precondition';
}

/** An abort or deadline from `withDeadline`/`withAbortSignal`, however deep the SDK wrapped it. */
export const isDeadline = (error: unknown) =>
  inCauses(error, (e) => e.code === 4 || e.code === 1 || e.name === 'AbortError' || e.name === 'TimeoutError');
