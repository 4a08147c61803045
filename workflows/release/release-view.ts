import type { ReleaseInput, ReleaseView } from '../messages.js';

/** The view of a release that has just started: every sequence of its shipyard `Pending`. */
export function initialReleaseView(input: ReleaseInput): ReleaseView {
  return {
    id: input.id,
    keptnContext: input.keptnContext,
    project: input.project.id,
    projectName: input.project.name,
    release: input.release,
    status: 'Running',
    createdAt: input.createdAt,
    finishedAt: null,
    triggeredBy: input.triggeredBy,
    stages: input.shipyard.spec.stages.map((stage) => ({
      name: stage.name,
      sequences: stage.sequences.map((sequence) => ({ name: sequence.name, status: 'Pending', result: null, deploymentId: null, startedAt: null, finishedAt: null })),
    })),
    timeline: [],
  };
}
