import { proxyActivities, sleep } from '@temporalio/workflow';
import type { CheckStep } from '../../config/schema.js';
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
  const source = sourceOf(deployment, step);
  if ('problem' in source) {
    finishStep(view, 'Failed', `Cannot start: ${source.problem}.`);
    return 'Failed';
  }
  const mask = secretsOf(deployment.variables, deployment.input.sensitive);
  const { checkOnce } = proxyActivities<Activities>({
    startToCloseTimeout: step.requestTimeout + 5_000,
    // The activity says what any answer means; a retry is only for a worker lost mid-request.
    retry: { maximumAttempts: 3, initialInterval: '1s' },
    summary: step.name,
  });
  const deadline = Date.now() + step.timeout;
  const lines: string[] = [];
  let dropped = 0;
  const log = (line: string) => {
    lines.push(`${new Date().toISOString()} ${maskText(line, mask)}`);
    if (lines.length > LOG_LINES_KEPT) {
      lines.shift();
      dropped++;
    }
    view.log = `${dropped > 0 ? `… ${dropped} earlier answers\n` : ''}${lines.join('\n')}\n`;
  };
  for (;;) {
    const { verdict, log: line } = await checkOnce({ source: source.check, timeoutMs: step.requestTimeout });
    log(line);
    if (verdict === 'pass') {
      finishStep(view, 'Succeeded', view.log);
      return 'Succeeded';
    }
    if (verdict === 'fail') {
      finishStep(view, 'Failed', view.log);
      return 'Failed';
    }
    if (Date.now() + step.every > deadline) {
      finishStep(view, 'Failed', `${view.log}Timed out after ${step.timeout / 1000} s without a passing answer: a check that cannot tell never passes.\n`);
      return 'Failed';
    }
    await sleep(step.every);
  }
}

/** The source with the deployment's variables in it: a URL as an http-check substitutes it, label values as text. */
function sourceOf(deployment: DeploymentState, step: CheckStep): { check: CheckSource } | { problem: string } {
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
