import type { DeploymentInput, DeploymentView } from '../messages.js';
import { initialPolicyView } from './policy-view.js';

/** The view of a deployment that has just started: the API answers with it before the worker has run. */
export function initialView(input: DeploymentInput): DeploymentView {
  return {
    id: input.id,
    project: input.project.id,
    projectName: input.project.name,
    environment: input.environment,
    release: input.release,
    status: 'Running',
    outcome: null,
    createdAt: input.createdAt,
    finishedAt: null,
    triggeredBy: input.triggeredBy,
    steps: input.process.map((step) => ({
      name: step.name,
      type: step.type,
      status: 'Pending',
      log: '',
      startedAt: null,
      finishedAt: null,
      ...(step.type === 'external' ? { executors: step.executors ?? [] } : {}),
      ...(step.type === 'policy' ? { policy: initialPolicyView(step.policy) } : {}),
    })),
    interruptions: [],
    variables: {
      Project: input.project.id,
      'Project.Name': input.project.name,
      Release: input.release,
      Environment: input.environment,
      'Deployment.Id': input.id,
      ...(input.lifecycle
        ? { Stage: input.lifecycle.stage, Sequence: input.lifecycle.sequence, 'Release.Id': input.lifecycle.releaseId }
        : {}),
      ...input.variables,
    },
    timeline: [],
    ...(input.gate ? { queuedBehind: null } : {}),
    ...(input.notAfter ? { notAfter: input.notAfter } : {}),
    ...(input.lifecycle
      ? {
          stage: input.lifecycle.stage,
          sequence: input.lifecycle.sequence,
          result: null,
          releaseId: input.lifecycle.releaseId,
          keptnContext: input.lifecycle.keptnContext,
        }
      : {}),
  };
}
