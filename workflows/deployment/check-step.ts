import { proxyActivities, sleep } from '@temporalio/workflow';
import type { CheckStep, PolicyCheck } from '../../config/schema.js';
import { maskText, secretsOf } from '../../core/masking.js';
import { describeUnknown, substitute, substituteUrl } from '../../core/substitution.js';
import type { Activities, CheckSource } from '../activity-contract.js';
import type { StepView } from '../messages.js';
import { type DeploymentState, finishStep } from './deployment-state.js';

/** The answers a check's log keeps whole; older ones are counted. */
const LOG_LINES_KEPT = 50;

/**
 * An external check (docs/manual-steps.md#external-checks): asks its source every `every` until an
 * answer passes (Succeeded) or fails (Failed), for at most `timeout`. It fails closed: an answer that
 * is an error, or that decides nothing, is asked again, and at the timeout the step fails with the
 * last answer in its log. Each answer is one activity and a durable timer, so the step survives
 * restarts like every other.
 */
export async function runCheck(deployment: DeploymentState, step: CheckStep, view: StepView): Promise<'Succeeded' | 'Failed'> {
  view.log = '';
  const verdict = await pollCheck(deployment, step, (log) => (view.log = log));
  finishStep(view, verdict === 'pass' ? 'Succeeded' : 'Failed', view.log);
  return verdict === 'pass' ? 'Succeeded' : 'Failed';
}

/**
 * Asks a check's source until it passes or fails, or its timeout passes (which fails): the one loop
 * of a check step and of a policy's checks. `write` is given the check's log (its last 50 answers)
 * after each answer.
 */
export async function pollCheck(deployment: DeploymentState, check: CheckStep | PolicyCheck, write: (log: string) => void): Promise<'pass' | 'fail'> {
  const source = sourceOf(deployment, check);
  if ('problem' in source) {
    write(`Cannot start: ${source.problem}.\n`);
    return 'fail';
  }
  const mask = secretsOf(deployment.variables, deployment.input.sensitive);
  const { checkOnce } = proxyActivities<Activities>({
    startToCloseTimeout: check.requestTimeout + 5_000,
    // The activity says what any answer means; a retry is only for a worker lost mid-request.
    retry: { maximumAttempts: 3, initialInterval: '1s' },
    summary: check.name,
  });
  const deadline = Date.now() + check.timeout;
  const lines: string[] = [];
  let dropped = 0;
  const text = () => `${dropped > 0 ? `… ${dropped} earlier answers\n` : ''}${lines.join('\n')}\n`;
  for (;;) {
    const { verdict, log: line } = await checkOnce({ source: source.check, timeoutMs: check.requestTimeout });
    lines.push(`${new Date().toISOString()} ${maskText(line, mask)}`);
    if (lines.length > LOG_LINES_KEPT) {
      lines.shift();
      dropped++;
    }
    write(text());
    if (verdict === 'pass' || verdict === 'fail') return verdict;
    if (Date.now() + check.every > deadline) {
      write(`${text()}Timed out after ${check.timeout / 1000} s without a passing answer: a check that cannot tell never passes.\n`);
      return 'fail';
    }
    await sleep(check.every);
  }
}

/** The source with the deployment's variables in it: a URL as an http-check substitutes it, label values as text. */
function sourceOf(deployment: DeploymentState, step: CheckStep | PolicyCheck): { check: CheckSource } | { problem: string } {
  const { variables } = deployment;
  if (step.http) {
    const url = substituteUrl(step.http.url, variables, deployment.input.prompted ?? []);
    if (!url.ok) return { problem: 'refused' in url ? url.refused : `${describeUnknown(url.unknown)} (in "http.url")` };
    return { check: { http: { url: url.text, pass: step.http.pass, ...(step.http.fail ? { fail: step.http.fail } : {}) } } };
  }
  const { url, matchers } = step.alertmanager!;
  const values: Record<string, string> = {};
  for (const [name, template] of Object.entries(matchers)) {
    const value = substitute(template, variables);
    if (!value.ok) return { problem: `${describeUnknown(value.unknown)} (in "alertmanager.matchers.${name}")` };
    values[name] = value.text;
  }
  return { check: { alertmanager: { url, matchers: values } } };
}
