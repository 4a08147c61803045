import type { ApprovalStep } from '../../config/schema.js';
import { manualOutputs } from './manual-step.js';
import { describeInputs } from '../../core/approver-inputs.js';
import type { StepView } from '../messages.js';
import type { TaskResult } from '../../core/names.js';
import { emit } from '../outbox.js';
import { keptnScope } from '../outbox.js';
import { finishStep, type DeploymentState } from './deployment-state.js';
import type { StepContext, StepOutcome } from './run-step.js';
import { describeUnknown, substitute } from '../../core/substitution.js';
import { waitForDecision } from './wait-for-decision.js';

/**
 * Keptn's approval task, by the approval-service's rules (docs/keptn.md): it judges the result before it;
 * `pass` with `pass: automatic` and `warning` with `warning: automatic` pass at once, a `fail` is
 * declined at once whatever the strategy, and `manual` (the default, also when there is no result
 * to judge) asks a person: an `Approval` interruption, taken and decided like a manual step
 * (proceed approves, abort declines). It always says which result it judged and which strategy
 * applied, and emits `approval.started` with Keptn's own message.
 */
export async function runApproval(deployment: DeploymentState, step: ApprovalStep, view: StepView, context: StepContext): Promise<StepOutcome> {
  const { result, from } = context.judged;
  const strategy = result === 'fail' ? 'automatic' : result === 'pass' ? step.pass : result === 'warning' ? step.warning : 'manual';
  const message = `Approval strategy for result '${result ?? ''}': ${strategy}`;
  const judged = result === undefined ? `There is no result to judge (${from}), so a person decides.` : `Judged the result of ${from}: ${result}.`;
  if (deployment.input.lifecycle && context.triggeredId) {
    emit(deployment, 'sh.keptn.event.approval.started', { ...keptnScope(deployment), status: 'succeeded', message }, { triggeredid: context.triggeredId });
  }
  const finish = (taskResult: TaskResult, status: 'Succeeded' | 'Failed' | 'Aborted', log: string, outputs: Parameters<typeof manualOutputs>[1] & { via?: string }) => {
    view.result = taskResult;
    const approved = taskResult === 'pass';
    Object.assign(deployment.variables, manualOutputs(step.name, outputs, approved ? 'Proceed' : 'Abort', approved, step.inputs));
    finishStep(view, status, `${judged}\n${message}.\n${log}`);
    if (status === 'Succeeded') deployment.setStatus('Running', `Running: ${step.name} — ${log.split('\n')[0]}`);
    return status;
  };
  const nobody = { notes: null, assignee: null };
  if (result === 'fail') return finish('fail', 'Failed', `Declined at once: ${from} failed, and a failed result is never approved.`, nobody);
  if (strategy === 'automatic') return finish('pass', 'Succeeded', `Approved automatically.`, nobody);

  const stage = deployment.input.lifecycle?.stage ?? deployment.input.environment;
  const written = substitute(step.instructions, deployment.variables);
  if (!written.ok) {
    finishStep(view, 'Failed', `Cannot open the approval: ${describeUnknown(written.unknown)} (in "instructions").`);
    view.result = 'fail';
    return 'Failed';
  }
  const what = `Approve ${deployment.input.project.name} ${deployment.input.release} in ${stage}? ${result === undefined ? 'There is no earlier result to judge.' : `The result of ${from} was **${result}**.`}`;
  const instructions = written.text ? `${what}\n\n${written.text}` : what;
  view.log = `${judged}\n${message}.\nWaiting for a person to approve or decline.\n`;
  const outcome = await waitForDecision(deployment, { kind: 'Approval', step, instructions, ...(context.triggeredId ? { id: context.triggeredId } : {}) }, view);
  if (outcome.type === 'ContinueAsNew') return 'ContinueAsNew';
  const final = outcome.interruption;
  const by = final.assignee ? ` by ${final.assignee.displayName} (${final.assignee.username})` : '';
  const notes = `${final.notes ? `\nNotes: ${final.notes}` : ''}${final.inputValues ? `\nInputs: ${describeInputs(final.inputValues)}` : ''}`;
  if (final.state === 'Proceeded') return finish('pass', 'Succeeded', `Approved${by}.${notes}`, final);
  if (final.state === 'Aborted') return finish('fail', 'Aborted', `Declined${by}.${notes}`, final);
  // Timed out: the step's onTimeout decides, as for a manual step.
  return step.onTimeout === 'proceed'
    ? finish('pass', 'Succeeded', 'Timed out: nobody decided in time; approved, as the step says (onTimeout: proceed).', final)
    : finish('fail', 'Aborted', 'Timed out: nobody decided in time; declined, as the step says (onTimeout: abort).', final);
}
