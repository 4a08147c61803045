import { ApplicationFailure, Context } from '@temporalio/activity';
import type { StepOutput } from './script.js';

export interface CheckHttpInput {
  url: string;
  expectStatus: number;
  timeoutMs: number;
}

const EXCERPT = 500;

/**
 * One GET of `url`. A wrong status or a network error throws a retryable failure whose message
 * holds the status and a body excerpt; the workflow's retry policy decides how often to try again.
 */
export async function checkHttp({ url, expectStatus, timeoutMs }: CheckHttpInput): Promise<StepOutput> {
  const { info, cancellationSignal } = Context.current();
  const attempt = `attempt ${info.attempt}`;
  const started = Date.now();
  let response: Response;
  let body: string;
  try {
    response = await fetch(url, { signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), cancellationSignal]) });
    body = await response.text();
  } catch (error) {
    const reason = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    throw ApplicationFailure.retryable(`GET ${url} failed (${attempt}): ${reason}`, 'HttpCheckFailed');
  }
  const line = `GET ${url} → ${response.status} in ${Date.now() - started} ms (${attempt})`;
  const excerpt = body.length > EXCERPT ? `${body.slice(0, EXCERPT)}…` : body;
  if (response.status !== expectStatus) {
    throw ApplicationFailure.retryable(`${line}; expected ${expectStatus}\n${excerpt}`, 'HttpCheckFailed');
  }
  return { log: `${line}\n${excerpt}` };
}
