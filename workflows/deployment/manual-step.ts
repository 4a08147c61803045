import type { ManualStep } from '../../config/schema.js';
import { describePerson, type Interruption } from '../../core/interruptions.js';
import { type ApproverInput, describeInputs, inputOutputs } from '../../core/approver-inputs.js';
import type { StepView } from '../messages.js';
import { finishStep, type DeploymentState } from './deployment-state.js';
import { describeUnknown, substitute } from '../../core/substitution.js';
import { waitForDecision } from './wait-for-decision.js';

/**
 * A manual step (docs/manual-steps.md): opens an interruption and waits, durably and for weeks if need be,
 * until its assignee proceeds or aborts, or its timeout fires; then sets its output variables (docs/configuration.md).
 */
export async function waitForManualStep(deployment: DeploymentState, step: ManualStep, view: StepView) {
  const instructions = substitute(step.instructions, deployment.variables);
  if (!instructions.ok) {
    finishStep(view, 'Failed', `Cannot open the interruption: ${describeUnknown(instructions.unknown)} (in "instructions").`);
    return 'Failed' as const;
  }
  const outcome = await waitForDecision(deployment, { kind: 'Manual', step, instructions: instructions.text }, view);
  if (outcome.type === 'ContinueAsNew') return 'ContinueAsNew' as const;
  const final = outcome.interruption;
  const result = final.state === 'Proceeded' ? 'Proceed' : final.state === 'Aborted' ? 'Abort' : 'TimedOut';
  const approved = final.state === 'Proceeded' || (final.state === 'TimedOut' && step.onTimeout === 'proceed');
  Object.assign(deployment.variables, manualOutputs(step.name, final, result, approved, step.inputs));
  const log = decisionLog(final, step.onTimeout);
  if (!approved) {
    finishStep(view, 'Aborted', log);
    return 'Aborted' as const;
  }
  finishStep(view, 'Succeeded', log);
  // No longer waiting: without this a manual last step would leave the deployment `Waiting`.
  deployment.setStatus('Running', `Running: ${step.name} — ${log.split('\n')[0]}`);
  return 'Succeeded' as const;
}

/** The step's log once a person (or the timeout) decided. */
export function decisionLog(final: Interruption, onTimeout: string): string {
  const by = final.assignee ? ` by ${describePerson(final.assignee)}` : '';
  const notes = final.notes ? `\nNotes: ${final.notes}` : '';
  const inputs = final.inputValues ? `\nInputs: ${describeInputs(final.inputValues)}` : '';
  if (final.state === 'TimedOut') return `Timed out: nobody decided in time; the deployment will ${onTimeout}.`;
  const did = { Proceeded: 'Proceeded', Aborted: 'Aborted', Retried: 'Retried', Ignored: 'Ignored', Failed: 'Failed' }[final.state as string] ?? final.state;
  return `${did}${by}.${notes}${inputs}`;
}

/** The outputs of a manual step that did not run: `Result=Skipped`, `Approved=False`, the rest empty (docs/configuration.md). */
export function skippedManualOutputs(stepName: string, inputs?: ApproverInput[]) {
  return manualOutputs(stepName, { notes: null, assignee: null }, 'Skipped', false, inputs);
}

/**
 * The output variables of a completed manual step, named as Octopus names them; with the step's
 * `inputs`, one more for each (`…Output.Manual.Input.<name>`, also spelled with `Octopus.`), from
 * the proceed that completed it.
 */
export function manualOutputs(
  stepName: string,
  interruption: Pick<Interruption, 'notes' | 'assignee' | 'decidedVia' | 'requiredApprovals' | 'approvals' | 'rules' | 'inputValues'>,
  result: string,
  approved: boolean,
  inputs?: ApproverInput[],
) {
  const prefix = `Action[${stepName}].Output.Manual`;
  const user = interruption.assignee;
  return {
    [`${prefix}.Notes`]: interruption.notes ?? '',
    [`${prefix}.ResponsibleUser.Id`]: user?.id ?? '',
    [`${prefix}.ResponsibleUser.Username`]: user?.username ?? '',
    [`${prefix}.ResponsibleUser.DisplayName`]: user?.displayName ?? '',
    [`${prefix}.ResponsibleUser.EmailAddress`]: user?.email ?? '',
    [`${prefix}.Result`]: result,
    [`${prefix}.Approved`]: approved ? 'True' : 'False',
    [`${prefix}.Via`]: interruption.decidedVia ?? '',
    ...(interruption.requiredApprovals || interruption.rules ? { [`${prefix}.Approvers`]: (interruption.approvals ?? []).map((approval) => approval.user.username).join(',') } : {}),
    ...inputOutputs(stepName, inputs, interruption.inputValues, result === 'Proceed'),
  };
}
