import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import { holdsQueueWhileWaiting, leaveGate, passGate, registerGateHandlers } from './gate-client.js';
import { fromRoster, registerInterruptionHandlers } from './interruption-handlers.js';
import { resultOf } from '../../core/promotion.js';
import { taskFinished, taskTriggered } from '../outbox.js';
import { skippedManualOutputs } from './manual-step.js';
import { maskView } from '../../core/masking.js';
import { type DeploymentInput, type DeploymentView, type FinishedStatus, cancelRequestSignal, isFinished, stateQuery, type StepView } from '../messages.js';
import { emit, hasRoutes } from '../outbox.js';
import { CancelRequestSchema } from '../signal-payloads.js';
import { createState, type DeploymentState, type EarlyEnd, finishStep, stopSteps, waitsForNobody } from './deployment-state.js';
import { closeEarly, expireAtNotAfter, registerSupersedeHandler } from './early-end.js';
import { addDecisionContext } from './wait-for-decision.js';
import { registerOverrideHandler } from './policy-override.js';
import { runStep, type StepContext } from './run-step.js';
import { registerTaskEventHandler } from './external-task.js';
import { record } from '../../core/views.js';

/**
 * One deployment: runs the process in order. A failed step fails the deployment and an abort ends it;
 * later steps show `Skipped` (unless their run condition says otherwise). Ends as a Temporal failure
 * (Failed/Aborted) or cancellation so Temporal Web shows the outcome; the view travels in the
 * failure's details. A lifecycle deployment is one sequence of a release: its steps are the
 * sequence's tasks, each with its Keptn events and result (docs/keptn.md).
 */
export async function deployment(input: DeploymentInput): Promise<DeploymentView> {
  const deployment = createState(input);
  registerHandlers(deployment);
  setCurrentDetails('Starting');
  const { view } = deployment;
  let current: StepView | undefined;
  const resumeAt = input.resume?.step ?? 0;
  // Its steps run in a scope of their own, which a supersede or `notAfter` cancels (docs/change-control.md).
  const steps = new CancellationScope();
  const endEarly = (end: EarlyEnd) => {
    if (deployment.ending || isFinished(view.status)) return;
    deployment.ending = end;
    steps.cancel();
  };
  registerSupersedeHandler(deployment, endEarly);
  expireAtNotAfter(deployment, endEarly);
  await addDecisionContext(deployment);
  try {
    await steps.run(async () => {
      // The environment's policies first, before the queue of blockConcurrentDeployments: a deployment
      // waiting for its window or approvals holds no queue (docs/change-control.md).
      const gated = input.process.some((step) => step.type === 'policy') && patched(POLICY_GATES);
      if (gated) {
        // `holdQueueWhileWaiting`: the queue first, held while the gates wait (docs/change-control.md).
        if (holdsQueueWhileWaiting(input) && patched(HOLD_QUEUE)) await passGate(deployment);
        const waitingAt = await runPolicyGates(deployment, resumeAt, (step) => (current = step));
        if (waitingAt !== undefined) return await continueWaiting(deployment, waitingAt);
      }
      // One that failed or was declined at a policy gate runs only its failure/always steps: it joins no queue.
      if (!gated || view.outcome == null) await passGate(deployment);
      for (const [index, step] of input.process.entries()) {
        if (index < resumeAt) continue;
        // Policy gates have run (above).
        if (step.type === 'policy') continue;
        current = view.steps[index]!;
        if (deployment.resuming) {
          // The step this run continued at: it is under way already.
          const outcome = await runStep(deployment, step, current, contextFor(deployment, index));
          deployment.resuming = false;
          if (outcome === 'ContinueAsNew') return await continueWaiting(deployment, index);
          afterStep(deployment, index, outcome, view.outcome != null);
          continue;
        }
        const skip = (why: string) => {
          finishStep(current!, 'Skipped', `Skipped: ${why}.`);
          // A later step may read a skipped manual step's outputs in every environment (docs/configuration.md).
          if (step.type === 'manual') Object.assign(deployment.variables, skippedManualOutputs(step.name, step.inputs));
        };
        if (step.environments && !step.environments.includes(input.environment)) {
          skip(`runs only in ${step.environments.join(', ')}`);
          continue;
        }
        // Octopus's run conditions: `success` runs while nothing failed, `failure` only after a failure
        // or an abort, `always` either way. A failed or aborted deployment ends with that status.
        const failedSoFar = view.outcome != null || !['Running', 'Waiting', 'Queued'].includes(view.status);
        const runCondition = step.runCondition ?? 'success';
        if (runCondition === 'success' && failedSoFar) {
          skip(`the deployment was ${(view.outcome ?? view.status).toLowerCase()} at an earlier step`);
          continue;
        }
        if (runCondition === 'failure' && !failedSoFar) {
          skip('runs only after a failure or an abort, and nothing failed');
          continue;
        }
        if (step.startAfter) {
          setCurrentDetails(`Waiting ${Math.round(step.startAfter / 1000)} s before ${step.name} (triggeredAfter)`);
          await sleep(step.startAfter);
        }
        if (view.outcome != null) deployment.setStatus('Running', `Running: ${step.name} (runCondition: ${runCondition}); then it ends ${view.outcome}`);
        else if (failedSoFar) setCurrentDetails(`${view.status}; running ${step.name} (runCondition: ${runCondition})`);
        else deployment.setStatus('Running', `Running: ${step.name} (step ${index + 1} of ${input.process.length})`);
        current.status = 'Running';
        current.startedAt = new Date().toISOString();
        const context = contextFor(deployment, index);
        if (input.lifecycle) context.triggeredId = current.triggeredId = taskTriggered(deployment, step, beforeResult(deployment, index));
        const outcome = await runStep(deployment, step, current, context);
        if (outcome === 'ContinueAsNew') return await continueWaiting(deployment, index);
        afterStep(deployment, index, outcome, failedSoFar);
      }
    });
  } catch (error) {
    if (!isCancellation(error)) throw error;
    const end = deployment.ending;
    if (end) {
      closeEarly(deployment, end, current);
      await CancellationScope.nonCancellable(() => finish(deployment));
      throw ApplicationFailure.create({
        type: `Deployment${end.status}`,
        message: end.status === 'Superseded' ? `Deployment superseded by ${end.by}` : `Deployment expired: not past its gates by ${end.notAfter}`,
        nonRetryable: true,
        details: [outside(deployment)],
      });
    }
    await CancellationScope.nonCancellable(() => cancelled(deployment, current));
    throw new CancelledFailure('Deployment cancelled', [outside(deployment)]);
  }

  // Only now, after its last step (of any run condition), does it take its final status.
  view.finishedAt = new Date().toISOString();
  // Deployments that took their status at once (before the patch) hold it in the status itself.
  const final: FinishedStatus = view.outcome ?? (view.status === 'Aborted' || view.status === 'Failed' ? view.status : 'Succeeded');
  const endedAt = view.steps.find((step) => (step.status === 'Failed' && !step.ignored) || step.status === 'Aborted')?.name ?? current?.name;
  if (final === 'Succeeded') deployment.setStatus('Succeeded', `Succeeded: ${input.release} is in ${input.environment}`);
  else deployment.setStatus(final, `${final} at ${endedAt}`);
  view.outcome = final;
  await finish(deployment);
  if (final === 'Succeeded') return outside(deployment);
  throw ApplicationFailure.create({
    type: final === 'Aborted' ? 'DeploymentAborted' : 'DeploymentFailed',
    message: `Deployment ${final.toLowerCase()} at ${endedAt}`,
    nonRetryable: true,
    details: [outside(deployment)],
  });
}

/** Deployments that failed or aborted before it took that status at once, while their `failure`/`always` steps still ran. */
const STATUS_AFTER_LAST_STEP = 'status-after-last-step';

/** Deployments whose policy says `holdQueueWhileWaiting`, which no config could say before. */
const HOLD_QUEUE = 'hold-queue-while-waiting';

/** Deployments triggered with the gates of environment policies (docs/change-control.md); without any, nothing changes. */
const POLICY_GATES = 'environment-policies';

/**
 * Each policy gate (steps of type `policy`, put first by the server), from the step the run resumed
 * at: a gate that does not pass decides the outcome, and the gates after it are skipped; the process's
 * own steps then run by their run conditions. Returns the gate it waits at when it must continue as new.
 */
async function runPolicyGates(deployment: DeploymentState, resumeAt: number, at: (step: StepView) => void): Promise<number | undefined> {
  const { input, view } = deployment;
  for (const [index, step] of input.process.entries()) {
    if (step.type !== 'policy' || index < resumeAt) continue;
    const current = view.steps[index]!;
    at(current);
    if (view.outcome != null) {
      finishStep(current, 'Skipped', `Skipped: the deployment was ${view.outcome.toLowerCase()} at an earlier policy gate.`);
      continue;
    }
    if (!deployment.resuming) {
      deployment.setStatus('Running', `Running: ${step.name} (the ${input.environment} policy, before the first step)`);
      current.status = 'Running';
      current.startedAt = new Date().toISOString();
    }
    const outcome = await runStep(deployment, step, current, contextFor(deployment, index));
    deployment.resuming = false;
    if (outcome === 'ContinueAsNew') return index;
    if (outcome === 'Failed' || outcome === 'Aborted') {
      view.outcome = outcome;
      deployment.setStatus('Running', `${outcome} at ${step.name}; running what runs after it, then it ends ${outcome}`);
    }
  }
  return undefined;
}

/** After a step: its lifecycle result and `.finished` event, and the deployment's status. */
function afterStep(deployment: DeploymentState, index: number, outcome: 'Succeeded' | 'Failed' | 'Aborted', failedSoFar: boolean): void {
  const { input, view } = deployment;
  const step = input.process[index]!;
  const current = view.steps[index]!;
  if (input.lifecycle) {
    current.result = resultOf(current) ?? 'fail';
    if (current.triggeredId) taskFinished(deployment, step, current, current.triggeredId);
  }
  if (outcome === 'Succeeded' || failedSoFar) return;
  // Keptn: a failed evaluation goes on to an approval right after it, which declines at once (docs/keptn.md).
  if (step.type === 'evaluation' && input.process[index + 1]?.type === 'approval') return;
  const final = outcome === 'Failed' ? 'Failed' : 'Aborted';
  if (!patched(STATUS_AFTER_LAST_STEP)) {
    deployment.setStatus(final, `${outcome} at ${step.name}`);
    return;
  }
  // The outcome is decided; the status says so only once the steps that run after a failure or an
  // abort (`runCondition: failure`, `always`) have ended, so nobody who waits for the end sees it early.
  view.outcome = final;
  deployment.setStatus('Running', `${final} at ${step.name}; running what runs after it, then it ends ${final}`);
}

/** What a step is told of where it stands: the result an approval judges (the step before it, or the sequence that triggered this one). */
function contextFor(deployment: DeploymentState, index: number): StepContext {
  const { input, view } = deployment;
  const before = beforeResult(deployment, index);
  // A policy gate is no task: an approval judges the result before the gates.
  const previous = view.steps.slice(0, index).findLast((step) => step.type !== 'policy' && resultOf(step) !== undefined);
  if (previous && before) return { judged: { result: before.result, from: `"${previous.name}"` }, triggeredId: view.steps[index]!.triggeredId };
  const trigger = input.lifecycle?.triggeredBy;
  if (trigger) return { judged: { result: trigger.result, from: `${trigger.stage}.${trigger.sequence}` }, triggeredId: view.steps[index]!.triggeredId };
  return { judged: { result: undefined, from: 'nothing ran before it' }, triggeredId: view.steps[index]!.triggeredId };
}

/** The result and status of the last step before `index` that ran, as Keptn hands them to the next task. */
function beforeResult(deployment: DeploymentState, index: number) {
  const previous = deployment.view.steps.slice(0, index).findLast((step) => step.type !== 'policy' && resultOf(step) !== undefined);
  if (!previous) return undefined;
  return { result: resultOf(previous)!, status: previous.status === 'Aborted' ? 'aborted' : previous.status === 'Failed' && !previous.ignored && previous.type !== 'evaluation' ? 'errored' : 'succeeded' };
}

/** A cancelled deployment: steps that ran are Cancelled, the rest Skipped; it holds no gate and says it ended. */
async function cancelled(deployment: DeploymentState, current: StepView | undefined): Promise<void> {
  const { view } = deployment;
  if (!view.timeline.some((entry) => entry.action === 'cancel')) {
    // Cancelled from Temporal Web or the CLI, which name nobody.
    record(view.timeline, { at: new Date().toISOString(), user: 'system', action: 'cancel', result: 'accepted' });
  }
  stopSteps(view, 'Cancelled.', 'Skipped: the deployment was cancelled.');
  view.queuedBehind = null;
  delete view.scheduledFor;
  deployment.setStatus('Cancelled', current ? `Cancelled at ${current.name}` : 'Cancelled');
  view.outcome = 'Cancelled';
  waitsForNobody();
  view.finishedAt = new Date().toISOString();
  await finish(deployment);
}

/**
 * The end, however it ends: its sequence's result (lifecycle), the gate let go, `deployment.finished`
 * sent, and every notification under way settled, so none is lost when the workflow closes.
 */
async function finish(deployment: DeploymentState): Promise<void> {
  const { input, view } = deployment;
  if (input.lifecycle) {
    const last = view.steps.findLast((step) => resultOf(step) !== undefined);
    view.result = view.status === 'Cancelled' ? null : last ? (resultOf(last) ?? 'fail') : 'pass';
  }
  if (input.gate) leaveGate(deployment);
  if (hasRoutes(deployment, 'dev.interlock.deployment.finished')) emit(deployment, 'dev.interlock.deployment.finished', { status: view.status });
  while (deployment.deliveries.size > 0) await Promise.all([...deployment.deliveries]);
}

/** The view as it leaves the workflow (query, result, failure): sensitive values masked (docs/configuration.md). */
const outside = (deployment: DeploymentState) => maskView(deployment.view, deployment.input.sensitive);

/**
 * Continues as new while waiting at step `index`, once every handler has finished: the new run
 * starts from this view and waits on at the same interruption, with the same deadline.
 */
async function continueWaiting(state: DeploymentState, index: number): Promise<never> {
  await condition(allHandlersFinished);
  while (state.deliveries.size > 0) await Promise.all([...state.deliveries]);
  return continueAsNew<typeof deployment>({ ...state.input, resume: { view: state.view, step: index } });
}

/** The query, the cancellation's "who asked" signal, the interruption's updates and signals, the gate's answers, external tasks' events. */
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
  registerOverrideHandler(deployment);
  if (deployment.input.gate) registerGateHandlers(deployment);
  if (deployment.input.lifecycle) registerTaskEventHandler(deployment);
}

