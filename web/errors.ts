import type { ContentfulStatusCode } from 'hono/utils/http-status';
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
