import { describe, expect, it } from 'vitest';
import { ok } from '../support/api.js';
import { useCliAgainst } from '../support/cli.js';
import { flakyService } from '../support/fixtures.js';
import { testConfig, uniqueRelease, useStack, waitFor } from '../support/stack.js';

/**
 * The CLI's guided-failure decisions (docs/manual-steps.md) as a person at a terminal uses them: real
 * bin/interlock.mjs processes against the API served over real HTTP.
 */
const config = testConfig(flakyService(`
- { name: Smoke test, type: script, run: 'echo smoke' }
`));
const stack = useStack(config);
const { interlock } = useCliAgainst(stack);

async function failedDeployment() {
  const marker = `/tmp/interlock-cli-${uniqueRelease()}`;
  const { id } = await ok(stack.trigger({ project: 'flaky', environment: 'production', release: uniqueRelease(), variables: { Marker: marker } }), 201);
  await waitFor(stack, id, (view) => view.interruptions.some((i) => i.kind === 'GuidedFailure'));
  return id;
}

describe('guided failure from a terminal', () => {
  it('status shows the failed step waiting for a person, take assigns it, retry runs it again', async () => {
    const id = await failedDeployment();
    const status = await interlock('jjones', 'status', id);
    expect(status.stdout).toContain('"Deploy" failed; waiting for any deployer (or an admin) to take responsibility:');
    expect(status.stdout).toContain(`interlock take ${id}`);
    expect((await interlock('jjones', 'retry', id)).stderr).toContain(`Take it first: interlock take ${id}`);
    const taken = await interlock('jjones', 'take', id);
    expect(taken.stdout).toContain(`interlock retry ${id}`);
    expect(taken.stdout).toContain(`interlock fail ${id} --notes`);
    const retried = await interlock('jjones', 'retry', id, '--notes', 'freed some space');
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toContain('"Deploy" retried by Jamie Jones (jjones): freed some space');
    expect(retried.stdout).toContain('The step runs again');
    expect((await waitFor(stack, id, (view) => view.finishedAt !== null)).status).toBe('Succeeded');
  });

  it('ignore and fail take notes but do not need them; ignore goes on, fail fails; a viewer is refused', async () => {
    const ignored = await failedDeployment();
    expect((await interlock('vic', 'take', ignored)).code).toBe(1);
    await interlock('mlee', 'take', ignored);
    const going = await interlock('mlee', 'ignore', ignored);
    expect(going.code, going.stderr).toBe(0);
    expect(going.stdout).toContain('"Deploy" ignored by Morgan Lee (mlee)');
    const done = await waitFor(stack, ignored, (view) => view.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    expect(done.steps[0]).toMatchObject({ status: 'Failed', ignored: true });

    const failed = await failedDeployment();
    await interlock('mlee', 'take', failed);
    // Over the limit: refused before anything is sent, and the step still waits.
    const tooLong = await interlock('mlee', 'fail', failed, '--notes', 'x'.repeat(4001));
    expect(tooLong).toMatchObject({ code: 2, stderr: expect.stringContaining('Notes may be at most 4000 characters; these are 4001.') });
    const stopped = await interlock('mlee', 'fail', failed, '--notes', 'the disk is gone');
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain('The deployment ends Failed');
    expect((await waitFor(stack, failed, (view) => view.finishedAt !== null)).status).toBe('Failed');
  });
});
