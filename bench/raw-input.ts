import type { Config } from '../config/schema.js';
import { defaultValues } from '../config/variables.js';
import { actorOf } from '../service/access.js';
import { deploymentWorkflowId } from '../workflows/ids.js';
import type { DeploymentInput } from '../workflows/messages.js';

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
    roster: config.users.map(actorOf),
  };
}
