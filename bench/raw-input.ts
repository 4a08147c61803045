import { randomUUID } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { defaultValues } from '../config/project-variables.js';
import { rosterAt } from '../service/permissions.js';
import { deploymentWorkflowId } from '../core/ids.js';
import { sha256Hex } from '../service/signing.js';
import { type DeploymentInput, searchAttributes } from '../workflows/messages.js';

/** The input the API would build for a deployment to production, for the raw client to start itself. */
export function rawInput(config: Config, projectId: string, release: string): DeploymentInput {
  const project = config.projects.find((p) => p.id === projectId)!;
  return {
    id: deploymentWorkflowId(project.id, 'production', release, 'raw'),
    project: { id: project.id, name: project.name },
    environment: 'production',
    release,
    process: project.process!,
    variables: defaultValues(project.variables),
    triggeredBy: { id: 'ci', username: 'ci', displayName: 'CI' },
    createdAt: new Date().toISOString(),
    roster: rosterAt(config, { project: project.id, environment: 'production' }),
  };
}

/**
 * What the API's start sends beside the input (service/deployments.ts): its id policies, search
 * attributes, memo and Temporal Web's summary and details, so the raw client's start costs the
 * server the same.
 */
export function rawStartOptions(input: DeploymentInput) {
  return {
    args: [input] as [DeploymentInput],
    workflowId: input.id,
    workflowIdConflictPolicy: 'USE_EXISTING' as const,
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    memo: { requestHash: sha256Hex(input.id), requestId: randomUUID(), triggeredBy: input.triggeredBy.username },
    typedSearchAttributes: [
      { key: searchAttributes.project, value: input.project.id },
      { key: searchAttributes.environment, value: input.environment },
      { key: searchAttributes.release, value: input.release },
      { key: searchAttributes.status, value: 'Running' },
    ],
    staticSummary: `Deploy ${input.project.name} ${input.release} to ${input.environment} (triggered by ${input.triggeredBy.username})`,
    staticDetails: input.process.map((step, i) => `${i + 1}. ${step.name} (${step.type})`).join('\n'),
  };
}
