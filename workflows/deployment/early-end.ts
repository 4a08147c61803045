import { patched, proxyActivities, setHandler, sleep, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activity-contract.js';
import { isOpen } from '../../core/interruptions.js';
import { record } from '../../core/views.js';
import { isFinished, OPEN_INTERRUPTION_MEMO, type StepView, supersedeSignal } from '../messages.js';
import { type DeploymentState, type EarlyEnd, stopSteps, waitsForNobody } from './deployment-state.js';
import type { StepType } from '../../core/names.js';

// Asking Temporal about the deployment a supersede signal names: a few tries, then the signal is refused.
const { deploymentFacts } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3 },
  summary: 'check the newer deployment',
});

/**
 * The steps that only let a deployment through (policy gates, manual steps, approvals, checks): until
 * any other step has started, the deployment is "before its gates are passed", which is what
 * `notAfter` bounds. Once something has run, it no longer expires: it would stop half deployed.
 */
const GATE_STEP_TYPES: readonly StepType[] = ['policy', 'manual', 'approval', 'check'];

export const pastItsGates = (deployment: DeploymentState): boolean =>
  deployment.view.steps.some((step) => !GATE_STEP_TYPES.includes(step.type) && step.status !== 'Pending' && step.status !== 'Skipped');

/** Deployments triggered with `notAfter` (docs/change-control.md#start-by); none before it existed. */
const NOT_AFTER = 'not-after';
/** Deployments whose policies supersede older waiting ones; no policy said so before. */
const SUPERSEDE = 'supersede';

/**
 * Start-by: a timer to the trigger's `notAfter`. If the deployment is not past its gates then, it
 * ends `Expired`; if it is, the timer changes nothing. After a continue-as-new the new run sets it again.
 */
export function expireAtNotAfter(deployment: DeploymentState, endEarly: (end: EarlyEnd) => void): void {
  const { notAfter } = deployment.input;
  if (notAfter === undefined || !patched(NOT_AFTER)) return;
  sleep(Math.max(1, Date.parse(notAfter) - Date.now())).then(
    () => {
      if (!pastItsGates(deployment)) endEarly({ status: 'Expired', notAfter });
    },
    // Cancelled with the deployment.
    () => undefined,
  );
}

/** Whether one of the deployment's policy gates says `supersede: true`. */
export const supersedes = (deployment: DeploymentState): boolean =>
  deployment.input.process.some((step) => step.type === 'policy' && step.policy.supersede === true);

/** Where it waits that a newer release ends it: an open `Approval`, `Manual` or `Window` interruption. */
function waitingForDecision(deployment: DeploymentState): string | undefined {
  if (deployment.view.status !== 'Waiting') return undefined;
  return deployment.view.interruptions.find((i) => isOpen(i) && (i.kind === 'Approval' || i.kind === 'Manual' || i.kind === 'Window'))?.id;
}

/** The most deployments one run asks Temporal about: a flood of forged signals costs a few activities, no more. */
const MAX_CHECKS = 10;

/**
 * The `supersede` signal (sent by the API when it triggers a newer deployment): believed only once
 * Temporal confirms the named deployment is a newer one of this project and environment, and only
 * while this one waits for a decision or its window. Every refusal lands in the timeline.
 */
export function registerSupersedeHandler(deployment: DeploymentState, endEarly: (end: EarlyEnd) => void): void {
  // A lifecycle release's stages are its release's to end, not a newer deployment's.
  if (deployment.input.lifecycle || !supersedes(deployment) || !patched(SUPERSEDE)) return;
  const { input, view } = deployment;
  const checked = new Set<string>();
  setHandler(supersedeSignal, async (raw: unknown) => {
    const refuse = (reason: string) => record(view.timeline, { at: now(), user: 'system', action: 'supersede', result: 'refused', reason, via: 'signal' });
    const by = (raw as { deploymentId?: unknown } | undefined)?.deploymentId;
    if (typeof by !== 'string' || by.length === 0 || by.length > 300) return refuse('BAD_REQUEST: the signal must name the newer deployment (deploymentId)');
    if (isFinished(view.status) || deployment.ending) return;
    if (!waitingForDecision(deployment)) return refuse(`NOT_WAITING: ${by} would supersede it, but it waits for no decision or window now; it goes on`);
    if (by === input.id || checked.has(by) || checked.size >= MAX_CHECKS) return refuse(`NOT_SUPERSEDED: ${by} was not taken as newer`);
    checked.add(by);
    const facts = await deploymentFacts({ id: by }).catch(() => null);
    // Both start times are Temporal's: no clock of the API's decides which is newer.
    const startedAt = workflowInfo().startTime.toISOString();
    if (!facts || facts.project !== input.project.id || facts.environment !== input.environment || facts.startedAt <= startedAt) {
      return refuse(`NOT_SUPERSEDED: ${by} is no newer deployment of ${input.project.id} to ${input.environment}`);
    }
    // It may have been decided while Temporal was asked.
    if (!waitingForDecision(deployment) || deployment.ending) return refuse(`NOT_WAITING: it was decided before ${by} could supersede it; it goes on`);
    endEarly({ status: 'Superseded', by });
  });
}

/**
 * Ends a deployment that was superseded or expired: the interruption it waited at is closed as such,
 * the step it was at `Cancelled`, the steps that had not run `Skipped` (nothing after the gate runs,
 * not even `always` steps), and the timeline says why.
 */
export function closeEarly(deployment: DeploymentState, end: EarlyEnd, current: StepView | undefined): void {
  const { view } = deployment;
  const at = now();
  const why = end.status === 'Superseded' ? `superseded by ${end.by}` : `not past its gates by its start-by time, ${end.notAfter}`;
  record(view.timeline, { at, user: 'system', action: end.status === 'Superseded' ? 'supersede' : 'expire', result: 'accepted', reason: `${why}; nothing after it runs` });
  view.interruptions = view.interruptions.map((i) => (isOpen(i) ? { ...i, state: end.status, decidedAt: at } : i));
  stopSteps(view, `${end.status}: ${why}.`, `Skipped: the deployment was ${why}.`);
  delete view.scheduledFor;
  view.queuedBehind = null;
  if (end.status === 'Superseded') view.supersededBy = end.by;
  deployment.setStatus(end.status, `${end.status}${current ? ` at ${current.name}` : ''}: ${why}`);
  view.outcome = end.status;
  waitsForNobody();
  upsertMemo({ [OPEN_INTERRUPTION_MEMO]: null });
  view.finishedAt = at;
}

const now = () => new Date().toISOString();
