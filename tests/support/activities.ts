import type { Info } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { expect } from 'vitest';

/**
 * An activity's context without a Temporal server (MockActivityEnvironment), as attempt `info.attempt`
 * (1 unless given) with what an earlier attempt left; quiet about the failures tests expect.
 */
export const activityEnvironment = (info: Partial<Info> = {}) => new MockActivityEnvironment({ ...info, attempt: info.attempt ?? 1 }, { logger: new DefaultLogger('ERROR') });

/** Runs one activity in such a context. */
export function runActivity<P extends unknown[], R>(activity: (...args: P) => Promise<R>, args: P, info: Partial<Info> = {}): Promise<R> {
  return activityEnvironment(info).run(activity, ...args);
}

/** The ApplicationFailure an activity failed with; fails the test if it succeeded, or failed otherwise. */
export async function failureOf(run: Promise<unknown>): Promise<ApplicationFailure> {
  const error: unknown = await run.then(
    (output) => new Error(`the activity succeeded with ${JSON.stringify(output)?.slice(0, 300)}`),
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}
