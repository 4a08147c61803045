import {
  ActivityCancellationType,
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  continueAsNew,
  isCancellation,
  TimeoutFailure,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import type { HttpCheckStep, ScriptStep } from '../config/schema.js';
import { createState, type DeploymentState, finishStep } from './state.js';
import { fromRoster, registerInterruptionHandlers, skippedManualOutputs, waitForManualStep } from './manual-step.js';
import {
  type DeploymentInput,
  type DeploymentView,
  searchAttributes,
  cancelRequestSignal,
  isFinished,
  stateQuery,
  type Step,
  type StepView,
} from './messages.js';
import { CancelRequestSchema } from './requests.js';
import { record } from './timeline.js';
import { maskView, secretsOf } from './mask.js';
import { toShell } from './shell.js';
import { describeUnknown, substituteUrl } from './variables.js';

type StepOutcome = 'Succeeded' | 'Failed' | 'Aborted' | 'ContinueAsNew';

/**
 * One deployment: runs the process in order. A failed step fails the deployment and an abort ends it;
 * later steps show `Skipped`. Ends as a Temporal failure (Failed/Aborted) or cancellation so Temporal
 * Web shows the outcome; the view travels in the failure's details.
 */
export async function deployment(input: DeploymentInput): Promise<DeploymentView> {
  const deployment = createState(input);
  registerHandlers(deployment);
  setCurrentDetails('Starting');
  const { view } = deployment;
  let current: StepView | undefined;
  const resumeAt = input.resume?.step ?? 0;
  try {
    for (const [index, step] of input.process.entries()) {
      if (index < resumeAt) continue;
      current = view.steps[index]!;
      if (deployment.resuming) {
        // The step this run continued at: it is under way already.
        const outcome = await runStep(deployment, step, current);
        deployment.resuming = false;
        if (outcome === 'ContinueAsNew') return await continueWaiting(deployment, index);
        if (outcome !== 'Succeeded') deployment.setStatus(outcome === 'Failed' ? 'Failed' : 'Aborted', `${outcome} at ${step.name}`);
        continue;
      }
      const skip = (why: string) => {
        finishStep(current!, 'Skipped', `Skipped: ${why}.`);
        // A later step may read a skipped manual step's outputs in every environment (SPEC §4).
        if (step.type === 'manual') Object.assign(deployment.variables, skippedManualOutputs(step.name));
      };
      if (step.environments && !step.environments.includes(input.environment)) {
        skip(`runs only in ${step.environments.join(', ')}`);
        continue;
      }
      // Octopus's run conditions: `success` runs while nothing failed, `failure` only after a failure
      // or an abort, `always` either way. A failed or aborted deployment keeps that status.
      const failedSoFar = view.status !== 'Running' && view.status !== 'Waiting';
      const condition = step.runCondition ?? 'success';
      if (condition === 'success' && failedSoFar) {
        skip(`the deployment was ${view.status.toLowerCase()} at an earlier step`);
        continue;
      }
      if (condition === 'failure' && !failedSoFar) {
        skip('runs only after a failure or an abort, and nothing failed');
        continue;
      }
      if (failedSoFar) setCurrentDetails(`${view.status}; running ${step.name} (runCondition: ${condition})`);
      else deployment.setStatus('Running', `Running: ${step.name} (step ${index + 1} of ${input.process.length})`);
      current.status = 'Running';
      current.startedAt = new Date().toISOString();
      const outcome = await runStep(deployment, step, current);
      if (outcome === 'ContinueAsNew') return await continueWaiting(deployment, index);
      if (outcome !== 'Succeeded' && !failedSoFar) {
        deployment.setStatus(outcome === 'Failed' ? 'Failed' : 'Aborted', `${outcome} at ${step.name}`);
      }
    }
  } catch (error) {
    if (!isCancellation(error)) throw error;
    if (!view.timeline.some((entry) => entry.action === 'cancel')) {
      // Cancelled from Temporal Web or the CLI, which name nobody.
      record(view.timeline, { at: new Date().toISOString(), user: 'system', action: 'cancel', result: 'accepted' });
    }
    view.steps.forEach((step) => {
      if (step.status === 'Running' || step.status === 'Waiting') finishStep(step, 'Cancelled', `${step.log}\nCancelled.`.trim());
      else if (step.status === 'Pending') finishStep(step, 'Skipped', 'Skipped: the deployment was cancelled.');
    });
    deployment.setStatus('Cancelled', current ? `Cancelled at ${current.name}` : 'Cancelled');
    upsertSearchAttributes([
      { key: searchAttributes.waitingFor, value: null },
      { key: searchAttributes.assignee, value: null },
    ]);
    view.finishedAt = new Date().toISOString();
    throw new CancelledFailure('Deployment cancelled', [outside(deployment)]);
  }

  view.finishedAt = new Date().toISOString();
  if (view.status === 'Running') {
    deployment.setStatus('Succeeded', `Succeeded: ${input.release} is in ${input.environment}`);
    return outside(deployment);
  }
  throw ApplicationFailure.create({
    type: view.status === 'Aborted' ? 'DeploymentAborted' : 'DeploymentFailed',
    message: `Deployment ${view.status.toLowerCase()} at ${current?.name}`,
    nonRetryable: true,
    details: [outside(deployment)],
  });
}

/** The view as it leaves the workflow (query, result, failure): sensitive values masked (SPEC §4.1). */
const outside = (deployment: DeploymentState) => maskView(deployment.view, deployment.input.sensitive);

/**
 * Continues as new while waiting at step `index`, once every handler has finished: the new run
 * starts from this view and waits on at the same interruption, with the same deadline.
 */
async function continueWaiting(state: DeploymentState, index: number): Promise<never> {
  await condition(allHandlersFinished);
  return continueAsNew<typeof deployment>({ ...state.input, resume: { view: state.view, step: index } });
}

/** The query, the cancellation's "who asked" signal and the interruption's updates and signals. */
function registerHandlers(deployment: DeploymentState): void {
  const { view } = deployment;
  setHandler(stateQuery, () => outside(deployment));
  setHandler(cancelRequestSignal, (raw: unknown) => {
    if (isFinished(view.status)) return;
    const at = new Date().toISOString();
    const parsed = CancelRequestSchema.safeParse(raw);
    if (!parsed.success) {
      record(view.timeline, { at, user: 'unknown', action: 'cancel', result: 'refused', reason: `BAD_REQUEST: the signal's payload is not valid: ${parsed.error.message}`, via: 'signal' });
      return;
    }
    const { user } = parsed.data;
    const known = deployment.input.roster ? fromRoster(deployment.input.roster, { ...user, teams: [], roles: [] }) : user;
    if (!known) {
      record(view.timeline, { at, user: user.username.slice(0, 100), action: 'cancel', result: 'refused', reason: `UNKNOWN_USER: "${user.username}" is nobody this deployment knows`, via: 'signal' });
      return;
    }
    record(view.timeline, { at, user: known.username, action: 'cancel', result: 'accepted' });
  });
  registerInterruptionHandlers(deployment);
}

async function runStep(deployment: DeploymentState, step: Step, view: StepView): Promise<StepOutcome> {
  const cannotStart = (why: string) => {
    finishStep(view, 'Failed', `Cannot start: ${why}.`);
    return 'Failed' as const;
  };
  switch (step.type) {
    case 'script': {
      // Values reach bash as environment variables, never as script text (SPEC §4.1).
      const shell = toShell(step.run, deployment.variables);
      if (!shell.ok) return cannotStart(`${describeUnknown(shell.unknown)} (in "run")`);
      const mask = secretsOf(deployment.variables, deployment.input.sensitive);
      return runActivity(view, () =>
        scriptActivities(step).runScript({ script: shell.script, env: shell.env, timeoutMs: step.timeout, ...(mask.length > 0 ? { mask } : {}) }),
      );
    }
    case 'http-check': {
      const url = substituteUrl(step.url, deployment.variables, deployment.input.prompted ?? []);
      if (!url.ok) return cannotStart('refused' in url ? url.refused : `${describeUnknown(url.unknown)} (in "url")`);
      return runActivity(view, () =>
        httpActivities(step).checkHttp({ url: url.text, expectStatus: step.expectStatus, timeoutMs: step.timeout, followRedirects: step.followRedirects ?? false }),
      );
    }
    case 'manual':
      return waitForManualStep(deployment, step, view);
  }
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
  return proxyActivities<typeof activities>({
    // The activity enforces the step's timeout itself (and kills the script); this is the backstop.
    startToCloseTimeout: step.timeout + SCRIPT_GRACE_MS,
    heartbeatTimeout: '20s',
    retry: { maximumAttempts: 1 },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    summary: step.name,
  });
}

function httpActivities(step: HttpCheckStep) {
  return proxyActivities<typeof activities>({
    startToCloseTimeout: step.timeout + 5_000,
    retry: { maximumAttempts: step.retries + 1, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
    summary: step.name,
  });
}
