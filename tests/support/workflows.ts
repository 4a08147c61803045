import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ApplicationFailure, WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { createActivities } from '../../activities/create-activities.js';
import { EXAMPLE_CONFIG_PATH, loadConfig } from '../../config/load.js';
import { createTimeSkippingEnv } from './fixtures.js';

export { deploymentInput, finalView, people } from './fixtures.js';

/** A time-skipping Temporal test server (the real one, from our pinned install). */
export const startTimeSkipping = () => createTimeSkippingEnv(inject('testServerPath'));

/** The real activities, against the test server's client; the example config's people, no notification channels. */
export const realActivities = (env: TestWorkflowEnvironment, overrides: Partial<Parameters<typeof createActivities>[0]> = {}) =>
  createActivities({ client: env.client, config: loadConfig(EXAMPLE_CONFIG_PATH), env: {}, publicUrl: 'http://interlock.test', signLink: () => 'link', ...overrides });

export async function createTestWorker(env: TestWorkflowEnvironment, taskQueue: string, activityImpl: object = realActivities(env)) {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: activityImpl,
  });
}

/**
 * A time-skipping server and a real worker on `taskQueue` for one test file, started before its
 * tests and stopped after them (also when they fail). The getter answers once `beforeAll` has run.
 */
export function useTimeSkippingWorker(taskQueue: string): () => TestWorkflowEnvironment {
  let env: TestWorkflowEnvironment | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    env = await startTimeSkipping();
    worker = await createTestWorker(env, taskQueue);
    running = worker.run();
  });
  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await env?.teardown();
  });
  return () => env!;
}

/** The `ApplicationFailure` an update was refused with; of `type`, its message saying `says`, when given. */
export async function refusal(attempt: Promise<unknown>, type?: string, says?: string): Promise<ApplicationFailure> {
  const error = await attempt.then(
    (result) => { throw new Error(`expected a refusal, got ${JSON.stringify(result)}`); },
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (error as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  const failure = cause as ApplicationFailure;
  if (type !== undefined) expect(failure.type, failure.message).toBe(type);
  if (says !== undefined) expect(failure.message).toContain(says);
  return failure;
}
