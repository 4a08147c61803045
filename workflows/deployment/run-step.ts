import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  isCancellation,
  proxyActivities,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { Activities } from '../activity-contract.js';
import type { CheckStep, HttpCheckStep, ScriptStep } from '../../config/schema.js';
import { runCheck } from './check-step.js';
import { runApproval } from './approval-task.js';
import { runEvaluation } from './evaluation-task.js';
import { runExternalTask } from './external-task.js';
import { decisionLog, waitForManualStep } from './manual-step.js';
import { maskText, secretsOf } from '../../core/masking.js';
import type { ProcessStep, StepAttempt, StepView } from '../messages.js';
import { runNotify } from './notify-step.js';
import { runPolicyGate } from './policy-gate.js';
import { toShell } from '../../core/shell-quoting.js';
import { finishStep, type DeploymentState } from './deployment-state.js';
import { describeUnknown, substituteUrl } from '../../core/substitution.js';
import { waitForDecision } from './wait-for-decision.js';

export type StepOutcome = 'Succeeded' | 'Failed' | 'Aborted' | 'ContinueAsNew';

/** Where a lifecycle step stands in its sequence: the result an approval judges, the id of its `.triggered` event. */
export interface StepContext {
  judged: { result: 'pass' | 'warning' | 'fail' | undefined; from: string };
  triggeredId?: string | undefined;
}

/** Runs one step to its outcome; its view holds the log, status and (lifecycle) result. */
export async function runStep(deployment: DeploymentState, step: ProcessStep, view: StepView, context: StepContext): Promise<StepOutcome> {
  switch (step.type) {
    case 'script':
    case 'http-check':
    case 'check':
      return runWithGuidedFailure(deployment, step, view);
    case 'manual':
      return waitForManualStep(deployment, step, view);
    case 'approval':
      return runApproval(deployment, step, view, context);
    case 'evaluation':
      return runEvaluation(deployment, step, view);
    case 'notify':
      return runNotify(deployment, step, view);
    case 'external':
      return runExternalTask(deployment, step, view, context.triggeredId!);
    case 'policy':
      return runPolicyGate(deployment, step, view);
  }
}

/** At most this many earlier attempts keep their logs whole; older ones keep their last 4 KiB (the view stays small). */
const ATTEMPT_LOGS_KEPT = 5;

/**
 * A script or an HTTP check. With guided failure (docs/manual-steps.md), a failure — a lost worker included —
 * opens a `GuidedFailure` interruption instead of failing the deployment: its assignee retries
 * (the step runs again, the earlier run kept in `attempts`), ignores (`Failed`, `ignored`, and the
 * deployment goes on) or fails it.
 */
async function runWithGuidedFailure(deployment: DeploymentState, step: ScriptStep | HttpCheckStep | CheckStep, view: StepView): Promise<StepOutcome> {
  // A run that continued as new while a person decided picks up at the decision, not at the script.
  let outcome: StepOutcome = deployment.resuming && waitingForGuidance(deployment, step.name) ? 'Failed' : await runOnce(deployment, step, view);
  while (outcome === 'Failed' && step.guidedFailure) {
    const lines = view.log.trimEnd().split('\n');
    const instructions = `**${step.name}** failed:\n\n    ${lines.slice(-12).join('\n    ')}\n\nRetry it, ignore the failure and go on, or fail the deployment.`;
    const waited = await waitForDecision(
      deployment,
      {
        kind: 'GuidedFailure',
        // Retry and ignore let the deployment go on: with preventSelfApproval, whoever triggered it may not take either.
        step: { name: step.name, responsibleTeams: deployment.input.guidedFailureTeams ?? [], onTimeout: 'abort', preventSelfApproval: step.preventSelfApproval },
        instructions,
      },
      view,
    );
    if (waited.type === 'ContinueAsNew') return 'ContinueAsNew';
    const decided = waited.interruption;
    const note = decisionLog(decided, 'abort');
    if (decided.state === 'Ignored') {
      finishStep(view, 'Failed', `${view.log.trimEnd()}\n\n${note} The deployment goes on.\n`);
      view.ignored = true;
      deployment.setStatus('Running', `Running: ${step.name} failed and was ignored`);
      return 'Succeeded';
    }
    if (decided.state !== 'Retried') {
      finishStep(view, 'Failed', `${view.log.trimEnd()}\n\n${note}\n`);
      return 'Failed';
    }
    keepAttempt(view, note);
    deployment.setStatus('Running', `Running: ${step.name} (attempt ${(view.attempts?.length ?? 0) + 1})`);
    view.status = 'Running';
    view.startedAt = new Date().toISOString();
    view.finishedAt = null;
    view.log = '';
    outcome = await runOnce(deployment, step, view);
  }
  return outcome;
}

const waitingForGuidance = (deployment: DeploymentState, step: string) =>
  deployment.view.interruptions.some((i) => i.step === step && i.kind === 'GuidedFailure' && (i.state === 'Pending' || i.state === 'Assigned'));

function keepAttempt(view: StepView, note: string): void {
  const attempts: StepAttempt[] = view.attempts ?? [];
  attempts.push({ startedAt: view.startedAt, finishedAt: view.finishedAt, status: 'Failed', log: `${view.log.trimEnd()}\n\n${note}\n` });
  for (const attempt of attempts.slice(0, -ATTEMPT_LOGS_KEPT)) {
    if (attempt.log.length > 4096) attempt.log = `… (earlier output dropped)\n${attempt.log.slice(-4096)}`;
  }
  view.attempts = attempts;
}

async function runOnce(deployment: DeploymentState, step: ScriptStep | HttpCheckStep | CheckStep, view: StepView): Promise<StepOutcome> {
  if (step.type === 'check') return runCheck(deployment, step, view);
  const cannotStart = (why: string) => {
    finishStep(view, 'Failed', `Cannot start: ${why}.`);
    return 'Failed' as const;
  };
  if (step.type === 'script') {
    // Values reach bash as environment variables, never as script text (docs/configuration.md).
    const shell = toShell(step.run, deployment.variables);
    if (!shell.ok) return cannotStart(`${describeUnknown(shell.unknown)} (in "run")`);
    const mask = secretsOf(deployment.variables, deployment.input.sensitive);
    return runActivity(view, () =>
      scriptActivities(step).runScript({ script: shell.script, env: shell.env, timeoutMs: step.timeout, ...(mask.length > 0 ? { mask } : {}) }),
    );
  }
  const url = substituteUrl(step.url, deployment.variables, deployment.input.prompted ?? []);
  if (!url.ok) return cannotStart('refused' in url ? url.refused : `${describeUnknown(url.unknown)} (in "url")`);
  const mask = secretsOf(deployment.variables, deployment.input.sensitive);
  return runActivity(view, async () => {
    const { log } = await httpActivities(step).checkHttp({ url: url.text, expectStatus: step.expectStatus, timeoutMs: step.timeout, followRedirects: step.followRedirects ?? false });
    return { log: maskText(log, mask) };
  });
}

async function runActivity(view: StepView, run: () => Promise<{ log: string }>): Promise<StepOutcome> {
  try {
    const { log } = await run();
    finishStep(view, 'Succeeded', log);
    return 'Succeeded';
  } catch (error) {
    if (isCancellation(error) && CancellationScope.current().consideredCancelled) {
      const details = error instanceof ActivityFailure && error.cause instanceof CancelledFailure ? error.cause.details : [];
      if (typeof details[0] === 'string') view.log = details[0];
      throw error;
    }
    finishStep(view, 'Failed', describeActivityFailure(error));
    return 'Failed';
  }
}

/** The step's log from a failed activity: the script's own output, or the last HTTP attempt. */
function describeActivityFailure(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof TimeoutFailure && cause.timeoutType === 'HEARTBEAT') {
    return 'The worker running this step was lost mid-step (it stopped answering), and the step with it: a script dies with its worker. It was not run again: run the deployment again if that is safe.\n';
  }
  if (cause instanceof ApplicationFailure) {
    const [log] = cause.details ?? [];
    return typeof log === 'string' ? log : `${cause.message}\n`;
  }
  if (cause instanceof Error) return `${cause.message}\n`;
  return `${String(cause)}\n`;
}

const SCRIPT_GRACE_MS = 30_000;

function scriptActivities(step: ScriptStep) {
  return proxyActivities<Activities>({
    // The activity enforces the step's timeout itself (and kills the script); this is the backstop.
    startToCloseTimeout: step.timeout + SCRIPT_GRACE_MS,
    heartbeatTimeout: '20s',
    retry: { maximumAttempts: 1 },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    summary: step.name,
  });
}

function httpActivities(step: HttpCheckStep) {
  return proxyActivities<Activities>({
    startToCloseTimeout: step.timeout + 5_000,
    retry: { maximumAttempts: step.retries + 1, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
    summary: step.name,
  });
}
