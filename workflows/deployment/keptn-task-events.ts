import { uuid4 } from '@temporalio/workflow';
import type { ProcessStep, StepView } from '../messages.js';
import type { TaskResult } from '../../core/names.js';
import { emit } from '../outbox.js';
import type { DeploymentState } from './deployment-state.js';

/**
 * The Keptn events of a lifecycle deployment's tasks (docs/keptn.md): each task is `.triggered` (with
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

/** Keptn's scope of an event: project, stage, service and labels. */
export function keptnScope(deployment: DeploymentState) {
  const lifecycle = deployment.input.lifecycle;
  return lifecycle
    ? { project: deployment.input.project.id, stage: lifecycle.stage, service: lifecycle.service, ...(lifecycle.labels ? { labels: lifecycle.labels } : {}) }
    : { project: deployment.input.project.id, stage: deployment.input.environment, service: deployment.input.project.id };
}
