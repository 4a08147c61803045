import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import * as activities from '../../activities/index.js';
import { createTimeSkippingEnv } from './fixtures.js';

export { deploymentInput, finalView, people } from './fixtures.js';

/** A time-skipping Temporal test server (the real one, from our pinned install). */
export const startTimeSkipping = () => createTimeSkippingEnv(inject('testServerPath'));

export async function createTestWorker(env: TestWorkflowEnvironment, taskQueue: string, activityImpl: object = activities) {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: activityImpl,
  });
}
