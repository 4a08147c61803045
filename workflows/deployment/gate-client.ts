import { condition, getExternalWorkflowHandle, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activity-contract.js';
import { type DeploymentInput, gateAdmittedSignal, gateBlockSignal, gateLeaveSignal, gateQueuedSignal, gateUnblockSignal } from '../messages.js';
import { emit } from '../outbox.js';
import type { DeploymentState } from './deployment-state.js';
import { record } from '../../core/views.js';

const { enterGate } = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumInterval: '10s' }, summary: 'ask the gate' });

/**
 * Whether a policy says `holdQueueWhileWaiting` where a `blockConcurrentDeployments` queue exists:
 * then the deployment enters the queue before its policy gates and holds it while their approvals wait.
 */
export const holdsQueueWhileWaiting = (input: DeploymentInput): boolean =>
  input.gate !== undefined && input.process.some((step) => step.type === 'policy' && step.policy.holdQueueWhileWaiting === true);

/** The gate's answers: admitted, or queued behind another deployment. */
export function registerGateHandlers(deployment: DeploymentState): void {
  setHandler(gateAdmittedSignal, () => {
    deployment.gate.admitted = true;
    deployment.gate.behind = null;
  });
  setHandler(gateQueuedSignal, ({ behind }) => {
    if (!deployment.gate.admitted) deployment.gate.behind = behind;
  });
}

/**
 * Asks the gate of this project and environment to start (docs/manual-steps.md) and waits while it is queued:
 * status `Queued`, `queuedBehind` naming the deployment it waits for (the gate says when that
 * changes: the one ahead of it has gone through), until the gate admits it.
 */
export async function passGate(deployment: DeploymentState): Promise<void> {
  const { input, view } = deployment;
  if (input.gate === undefined || deployment.gate.admitted) return;
  await enterGate({ gateId: input.gate, deploymentId: input.id, triggeredAt: input.createdAt, project: input.project.id, environment: input.environment, taskQueue: workflowInfo().taskQueue });
  let queued = false;
  while (!deployment.gate.admitted) {
    await condition(() => deployment.gate.admitted || (deployment.gate.behind !== null && deployment.gate.behind !== view.queuedBehind));
    const { behind } = deployment.gate;
    if (deployment.gate.admitted || behind === null) break;
    view.queuedBehind = behind;
    deployment.setStatus('Queued', `Queued: waiting for ${behind}`);
    record(view.timeline, { at: now(), user: 'system', action: 'queue', result: 'accepted', reason: `queued behind ${behind}: deployments go through a step that blocks others one at a time, in the order they were triggered` });
    if (!queued) emit(deployment, 'dev.interlock.deployment.queued', { queuedBehind: behind });
    queued = true;
  }
  if (queued) {
    record(view.timeline, { at: now(), user: 'system', action: 'queue', result: 'accepted', reason: `released: ${view.queuedBehind} no longer blocks` });
    view.queuedBehind = null;
    deployment.setStatus('Running', 'Running');
  }
}

/** This deployment now waits at a blocking step: later ones queue behind it. */
export function blockGate(deployment: DeploymentState): void {
  signalGate(deployment, gateBlockSignal);
}

/** Its blocking step is decided: it blocks nobody any more. */
export function unblockGate(deployment: DeploymentState): void {
  signalGate(deployment, gateUnblockSignal);
}

/** It has ended, however it ended: it holds nothing and waits for nothing. */
export function leaveGate(deployment: DeploymentState): void {
  signalGate(deployment, gateLeaveSignal);
}

function signalGate(deployment: DeploymentState, signal: typeof gateBlockSignal): void {
  const { gate, id } = deployment.input;
  if (gate === undefined) return;
  // The gate may have ended (nothing held, nobody queued): then there is nothing to tell it.
  const sent: Promise<unknown> = getExternalWorkflowHandle(gate).signal(signal, { deploymentId: id }).catch(() => undefined).finally(() => deployment.deliveries.delete(sent));
  deployment.deliveries.add(sent);
}

const now = () => new Date().toISOString();
