import type { DeploymentInput, DeploymentStatus, DeploymentView, StepView } from './messages.js';
import type { Variables } from './variables.js';

/** The running deployment's mutable state, shared by the step runners and the message handlers. */
export interface Deployment {
  input: DeploymentInput;
  view: DeploymentView;
  variables: Variables;
  /** Sets the status with its search attribute, and the current details Temporal Web shows. */
  setStatus(status: DeploymentStatus, details: string): void;
}

export function finishStep(view: StepView, status: StepView['status'], log: string): void {
  view.status = status;
  view.log = log;
  view.finishedAt = new Date().toISOString();
}
