import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import * as activities from '../../activities/index.js';
import { parseConfig } from '../../config/load.js';
import type { Step } from '../../config/schema.js';
import { searchAttributeTypes } from '../../temporal/search-attributes.js';
import type { Actor, DeploymentInput } from '../../workflows/messages.js';

/** A time-skipping Temporal test server (the real one, from our pinned install). */
export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('testServerPath') } },
  });
  // The test server cannot list search attributes, only add them.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: searchAttributeTypes(),
  });
  return env;
}

export async function createTestWorker(env: TestWorkflowEnvironment, taskQueue: string, activityImpl: object = activities) {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: activityImpl,
  });
}

/** A deployment input whose process is written as the config file would write it. */
export function deploymentInput(processYaml: string, overrides: Partial<DeploymentInput> = {}): DeploymentInput {
  const config = parseConfig(`
teams: [{ id: release-managers, name: Release managers }, { id: dba, name: DBAs }]
projects:
  - id: hello-service
    name: Hello service
    environments: [qa, production]
    variables: { Greeting: hello }
    process:
${processYaml.replace(/^/gm, '      ')}
`);
  const project = config.projects[0]!;
  return {
    id: `hello-service:${overrides.environment ?? 'production'}:1.4.2:${randomUUID().slice(0, 8)}`,
    project: { id: project.id, name: project.name },
    environment: 'production',
    release: '1.4.2',
    process: project.process as Step[],
    variables: project.variables,
    triggeredBy: { id: 'ci', username: 'ci', displayName: 'CI' },
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

export const people = {
  jjones: { id: 'users-237', username: 'jjones', displayName: 'Jamie Jones', email: 'jamie.jones@example.com', teams: ['release-managers'], roles: ['deployer'] },
  mlee: { id: 'users-238', username: 'mlee', displayName: 'Morgan Lee', email: 'morgan.lee@example.com', teams: ['release-managers'], roles: ['deployer'] },
  outsider: { id: 'users-300', username: 'otto', displayName: 'Otto Outsider', teams: ['dba'], roles: ['deployer'] },
  admin: { id: 'users-1', username: 'root', displayName: 'Ada Admin', teams: [], roles: ['admin'] },
  viewer: { id: 'users-400', username: 'vic', displayName: 'Vic Viewer', teams: [], roles: ['viewer'] },
} satisfies Record<string, Actor>;
