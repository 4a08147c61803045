import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { type DeploymentInput, type DeploymentStatus, type DeploymentView, searchAttributes, type StepView } from './messages.js';
import type { Variables } from './variables.js';
import { initialView } from './view.js';

/** The running deployment's mutable state, shared by the step runners and the message handlers. */
export interface DeploymentState {
  input: DeploymentInput;
  view: DeploymentView;
  variables: Variables;
  /** Sets the status with its search attribute, and the current details Temporal Web shows. */
  setStatus(status: DeploymentStatus, details: string): void;
  /** True in a run that continued as new, until the step it resumed at is over. */
  resuming: boolean;
}

/** The state of a deployment that has just started, from its input (or, after a continue-as-new, the view it carried). */
export function createState(input: DeploymentInput): DeploymentState {
  const view = input.resume?.view ?? initialView(input);
  return {
    input,
    view,
    resuming: input.resume !== undefined,
    get variables() {
      return view.variables;
    },
    setStatus(status, details) {
      if (status !== view.status) {
        view.status = status;
        upsertSearchAttributes([{ key: searchAttributes.status, value: status }]);
      }
      setCurrentDetails(details);
    },
  };
}

export function finishStep(view: StepView, status: StepView['status'], log: string): void {
  view.status = status;
  view.log = log;
  view.finishedAt = new Date().toISOString();
}
