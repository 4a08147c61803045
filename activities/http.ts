import { ApplicationFailure, Context } from '@temporalio/activity';
import type { CheckHttpInput, StepOutput } from '../workflows/activity-contract.js';


/**
 * One GET of `url`. A wrong status or a network error throws a retryable failure whose message
 * holds the status; the workflow's retry policy decides how often to try again. The log says the
 * status, type and size of what answered, never its body: every viewer reads step logs, and the
 * URL's path may be chosen by whoever triggered the deployment.
 */
export async function checkHttp({ url, expectStatus, timeoutMs, followRedirects = false }: CheckHttpInput): Promise<StepOutput> {
  const { info, cancellationSignal } = Context.current();
  const attempt = `attempt ${info.attempt}`;
  const started = Date.now();
  let response: Response;
  let body: string;
  try {
    response = await fetch(url, {
      redirect: followRedirects ? 'follow' : 'manual',
      signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), cancellationSignal]),
    });
    body = await response.text();
  } catch (error) {
    const reason = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    throw ApplicationFailure.retryable(`GET ${url} failed (${attempt}): ${reason}`, 'HttpCheckFailed');
  }
  const type = (response.headers.get('content-type') ?? 'no content type').split(';')[0]!.replace(/[^\w./+-]/g, '');
  const where = response.status >= 300 && response.status < 400 && response.headers.get('location') ? '; a redirect, not followed' : '';
  const line = `GET ${url} → ${response.status} (${type}, ${Buffer.byteLength(body)} bytes${where}) in ${Date.now() - started} ms (${attempt})`;
  if (response.status !== expectStatus) throw ApplicationFailure.retryable(`${line}; expected ${expectStatus}`, 'HttpCheckFailed');
  return { log: `${line}\n` };
}
