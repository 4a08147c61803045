import { uuid4 } from '@temporalio/workflow';
import type { Shipyard } from '../config/shipyard.js';
import { keptnScope } from './approval.js';
import type { ProcessStep, StepView } from './messages.js';
import type { TaskResult } from './names.js';
import { emit } from './notify.js';
import type { DeploymentState } from './state.js';

/**
 * The Keptn events of a lifecycle deployment's tasks (SPEC §8): each task is `.triggered` (with
 * its shipyard properties under `data.<task>` and the result before it, as Keptn's
 * shipyard-controller sends them), `.started` and `.finished`. Interlock sends all three for the
 * tasks it runs itself; an external task's `.started` and `.finished` come from whoever does it.
 */
export function taskTriggered(deployment: DeploymentState, step: ProcessStep, before: { result: TaskResult; status: string } | undefined): string {
  const lifecycle = deployment.input.lifecycle!;
  const id = uuid4();
  const properties = lifecycle.taskProperties[step.name];
  // A first task gets the result of the sequence that triggered this one, as Keptn passes it on.
  before ??= lifecycle.triggeredBy ? { result: lifecycle.triggeredBy.result, status: 'succeeded' } : undefined;
  emit(
    deployment,
    `sh.keptn.event.${step.name}.triggered`,
    {
      ...keptnScope(deployment),
      ...(properties ? { [step.name]: properties } : {}),
      ...(before ? { result: before.result, status: before.status } : {}),
      ...(lifecycle.configurationChange ? { configurationChange: lifecycle.configurationChange } : {}),
    },
    { id },
  );
  // Interlock does this task itself (the approval says its own strategy when it starts).
  if (step.type !== 'external' && step.type !== 'approval') {
    emit(deployment, `sh.keptn.event.${step.name}.started`, { ...keptnScope(deployment), status: 'succeeded', message: '' }, { triggeredid: id });
  }
  return id;
}

export function taskFinished(deployment: DeploymentState, step: ProcessStep, view: StepView, triggeredId: string): void {
  if (step.type === 'external') return;
  const result = view.result ?? 'fail';
  emit(
    deployment,
    `sh.keptn.event.${step.name}.finished`,
    {
      ...keptnScope(deployment),
      result,
      status: view.status === 'Aborted' || view.status === 'Cancelled' ? 'aborted' : result === 'fail' && step.type !== 'evaluation' && step.type !== 'approval' ? 'errored' : 'succeeded',
      message: view.log.trim().split('\n').at(-1)?.slice(0, 500) ?? '',
      ...(view.evaluation ? { evaluation: { result: view.evaluation.result, score: view.evaluation.score } } : {}),
    },
    { triggeredid: triggeredId },
  );
}

/** A lifecycle step's result from how it ended, when it did not report one itself. */
export function resultOf(view: StepView): TaskResult | undefined {
  if (view.result) return view.result;
  if (view.status === 'Succeeded') return 'pass';
  if (view.status === 'Failed' && view.ignored) return 'warning';
  if (view.status === 'Failed' || view.status === 'Aborted') return 'fail';
  return undefined;
}

/** The sequences that start when `<stage>.<sequence>` finishes with `result` (Keptn's GetTaskSequencesByTrigger). */
export function sequencesTriggeredBy(
  shipyard: Pick<Shipyard, 'spec'>,
  finished: { stage: string; sequence: string; result: TaskResult; lastTask?: string | undefined },
): { stage: string; sequence: string }[] {
  const event = `${finished.stage}.${finished.sequence}.finished`;
  return shipyard.spec.stages.flatMap((stage) =>
    stage.sequences
      .filter((sequence) =>
        (sequence.triggeredOn ?? []).some((trigger) => {
          if (trigger.event !== event) return false;
          // Without a selector, pass and warning promote; with one, its `result` (or `<last task>.result`) must match.
          if (!trigger.selector) return finished.result === 'pass' || finished.result === 'warning';
          const { match } = trigger.selector;
          return match.result === finished.result || (finished.lastTask !== undefined && match[`${finished.lastTask}.result`] === finished.result);
        }),
      )
      .map((sequence) => ({ stage: stage.name, sequence: sequence.name })),
  );
}
