import { getExternalWorkflowHandle, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { type CloudEvent, type DeploymentInput, type DeploymentStatus, type DeploymentView, searchAttributes, sequenceProgressSignal, type StepView } from '../messages.js';
import type { Variables } from '../../core/substitution.js';
import { initialView } from './deployment-view.js';
import { holdsQueueWhileWaiting } from './gate-client.js';

/** The running deployment's mutable state, shared by the step runners and the message handlers. */
export interface DeploymentState {
  input: DeploymentInput;
  view: DeploymentView;
  variables: Variables;
  /** Sets the status with its search attribute, and the current details Temporal Web shows. */
  setStatus(status: DeploymentStatus, details: string): void;
  /** True in a run that continued as new, until the step it resumed at is over. */
  resuming: boolean;
  /** Notifications and release signals under way: the deployment ends only once they have settled. */
  deliveries: Set<Promise<unknown>>;
  /** What the gate said (docs/manual-steps.md): admitted to start its steps, or queued behind another deployment. */
  gate: { admitted: boolean; behind: string | null };
  /** Keptn events posted for external tasks, by the id of the `.triggered` event they answer. */
  taskEvents: Map<string, CloudEvent[]>;
  /** Set once it is superseded or expired: its steps are being stopped, and it ends so. */
  ending?: EarlyEnd;
  /** The last of its Keptn events signalled to its release: the next one waits for it (docs/keptn.md). */
  releaseTold: Promise<unknown>;
}

/** How a deployment ends before its steps are done, other than by a cancellation (docs/change-control.md). */
export type EarlyEnd = { status: 'Superseded'; by: string } | { status: 'Expired'; notAfter: string };

/** The state of a deployment that has just started, from its input (or, after a continue-as-new, the view it carried). */
export function createState(input: DeploymentInput): DeploymentState {
  const view = input.resume?.view ?? initialView(input);
  const state: DeploymentState = {
    input,
    view,
    resuming: input.resume !== undefined,
    deliveries: new Set(),
    // A run that continued as new is past the gate, unless it continued while a policy gate waited: those run before it.
    // (With `holdQueueWhileWaiting` it entered the queue before its policy gates.)
    gate: { admitted: input.gate === undefined || (input.resume !== undefined && (input.process[input.resume.step]?.type !== 'policy' || holdsQueueWhileWaiting(input))), behind: null },
    taskEvents: new Map(),
    releaseTold: Promise.resolve(),
    get variables() {
      return view.variables;
    },
    setStatus(status, details) {
      if (status !== view.status) {
        view.status = status;
        upsertSearchAttributes([{ key: searchAttributes.status, value: status }]);
        // A release shows each sequence's status as it changes (Waiting for approval, …).
        if (input.lifecycle && !['Succeeded', 'Failed', 'Aborted', 'Cancelled'].includes(status)) {
          const sent: Promise<unknown> = getExternalWorkflowHandle(input.lifecycle.releaseId)
            .signal(sequenceProgressSignal, { deploymentId: input.id, status })
            .catch(() => undefined)
            .finally(() => state.deliveries.delete(sent));
          state.deliveries.add(sent);
        }
      }
      setCurrentDetails(details);
    },
  };
  return state;
}

export function finishStep(view: StepView, status: StepView['status'], log: string): void {
  view.status = status;
  view.log = log;
  view.finishedAt = new Date().toISOString();
}

/** It waits for nobody any more: the search attributes lists and Temporal Web filter waiting deployments by. */
export function waitsForNobody(): void {
  upsertSearchAttributes([
    { key: searchAttributes.waitingFor, value: null },
    { key: searchAttributes.assignee, value: null },
  ]);
}

/**
 * The steps of a deployment stopped before its end (cancelled, superseded, expired): the one under
 * way ends `Cancelled`, its log saying why (`ran`); those not started are `Skipped` (`skipped`).
 */
export function stopSteps(view: DeploymentView, ran: string, skipped: string): void {
  view.steps.forEach((step) => {
    if (step.status === 'Running' || step.status === 'Waiting') finishStep(step, 'Cancelled', `${step.log}\n${ran}`.trim());
    else if (step.status === 'Pending') finishStep(step, 'Skipped', skipped);
  });
}
