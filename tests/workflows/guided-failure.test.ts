import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type DeploymentInput,
  type DeploymentView,
  failUpdate,
  ignoreUpdate,
  proceedUpdate,
  retryUpdate,
  stateQuery,
  takeResponsibilityUpdate,
} from '../../workflows/messages.js';
import { deploymentInput, finalView, people, useTimeSkippingWorker } from '../support/workflows.js';
import { untilView } from '../support/fixtures.js';

const taskQueue = 'guided-failure-workflow-test';
const environment = useTimeSkippingWorker(taskQueue);
const scratch = mkdtempSync(join(tmpdir(), 'interlock-guided-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function start(input: DeploymentInput): Promise<WorkflowHandle> {
  return environment().client.workflow.start('deployment', { args: [input], taskQueue, workflowId: input.id });
}

const openGuidance = (view: DeploymentView) => view.interruptions.find((i) => i.kind === 'GuidedFailure' && (i.state === 'Pending' || i.state === 'Assigned'));
const asked = (handle: WorkflowHandle, count = 1) =>
  untilView(handle, (view) => view.status === 'Waiting' && view.interruptions.filter((i) => i.kind === 'GuidedFailure').length === count && openGuidance(view) !== undefined, 'a person to be asked');

/** A deploy script that fails until it has run `times` times, counting its runs in a file. */
function flaky(times: number): { yaml: string; runs: () => number } {
  const file = join(scratch, `runs-${Math.random().toString(36).slice(2)}`);
  return {
    yaml: `
- name: Deploy
  type: script
  guidedFailure: true
  run: 'echo run >> ${file}; test "$(wc -l < ${file})" -ge ${times} || { echo "the database is not reachable"; exit 3; }'
- { name: Smoke test, type: script, run: 'echo smoke' }
`,
    runs: () => readFileSync(file, 'utf8').trim().split('\n').length,
  };
}

async function decide(handle: WorkflowHandle, update: typeof retryUpdate, notes?: string) {
  const interruption = openGuidance(await handle.query(stateQuery))!;
  await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: people.jjones, interruptionId: interruption.id }] });
  return handle.executeUpdate(update, { args: [{ user: people.jjones, interruptionId: interruption.id, ...(notes ? { notes } : {}) }] });
}

describe('guided failure (docs/manual-steps.md)', () => {
  it('asks a person instead of failing, and retry runs the step again; the view keeps each attempt', async () => {
    const script = flaky(2);
    const handle = await start(deploymentInput(script.yaml));
    const waiting = await asked(handle);
    expect(waiting.steps[0]).toMatchObject({ status: 'Waiting' });
    expect(openGuidance(waiting)).toMatchObject({ kind: 'GuidedFailure', step: 'Deploy', state: 'Pending', responsibleTeams: [] });
    expect(openGuidance(waiting)!.instructions).toContain('the database is not reachable');
    expect(script.runs()).toBe(1);

    const retried = await decide(handle, retryUpdate, 'the database is back');
    expect(retried.state).toBe('Retried');
    const view = await finalView(handle);
    expect(view.status).toBe('Succeeded');
    expect(script.runs()).toBe(2);
    expect(view.steps.map((s) => s.status)).toEqual(['Succeeded', 'Succeeded']);
    expect(view.steps[0]!.attempts).toHaveLength(1);
    expect(view.steps[0]!.attempts![0]).toMatchObject({ status: 'Failed' });
    expect(view.steps[0]!.attempts![0]!.log).toContain('the database is not reachable');
    expect(view.steps[0]!.attempts![0]!.log).toContain('Retried by Jamie Jones (jjones).\nNotes: the database is back');
    expect(view.steps[0]!.log).not.toContain('not reachable');
  });

  it('ignore marks the step Failed (ignored) and the deployment goes on and can succeed', async () => {
    const script = flaky(99);
    const handle = await start(deploymentInput(script.yaml));
    await asked(handle);
    await decide(handle, ignoreUpdate, 'known flake');
    const view = await finalView(handle);
    expect(view.status).toBe('Succeeded');
    expect(view.steps[0]).toMatchObject({ status: 'Failed', ignored: true });
    expect(view.steps[0]!.log).toContain('Ignored by Jamie Jones (jjones).');
    expect(view.steps[1]).toMatchObject({ status: 'Succeeded' });
    expect(script.runs()).toBe(1);
  });

  it('fail fails the deployment; later steps are Skipped', async () => {
    const handle = await start(deploymentInput(flaky(99).yaml));
    await asked(handle);
    await decide(handle, failUpdate, 'giving up');
    const view = await finalView(handle);
    expect(view.status).toBe('Failed');
    expect(view.steps.map((s) => s.status)).toEqual(['Failed', 'Skipped']);
    expect(view.interruptions[0]).toMatchObject({ state: 'Failed', notes: 'giving up' });
  });

  it('asks again after a retry that fails too, and refuses proceed on a guided failure (it offers retry, ignore or fail)', async () => {
    const script = flaky(3);
    const handle = await start(deploymentInput(script.yaml));
    await asked(handle);
    const refused = await decide(handle, proceedUpdate).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'NOT_AN_OPTION' });
    expect((refused as WorkflowUpdateFailedError).cause?.message).toContain('retry or ignore or fail');
    const interruption = openGuidance(await handle.query(stateQuery))!;
    await handle.executeUpdate(retryUpdate, { args: [{ user: people.jjones, interruptionId: interruption.id }] });
    await asked(handle, 2);
    await decide(handle, retryUpdate);
    const view = await finalView(handle);
    expect(view.status).toBe('Succeeded');
    expect(script.runs()).toBe(3);
    expect(view.steps[0]!.attempts).toHaveLength(2);
  });

  it('with preventSelfApproval, whoever triggered may neither take, retry nor ignore their own failure; a colleague may', async () => {
    const { jjones, mlee } = people;
    const input = deploymentInput(flaky(99).yaml.replace('guidedFailure: true', 'guidedFailure: true\n  preventSelfApproval: true'), {
      triggeredBy: { id: jjones.id, username: jjones.username, displayName: jjones.displayName },
    });
    const handle = await start(input);
    const interruption = openGuidance(await asked(handle))!;
    expect(interruption.excludedUserIds).toEqual([jjones.id]);
    for (const [update, request] of [
      [takeResponsibilityUpdate, { user: jjones, interruptionId: interruption.id }],
      [ignoreUpdate, { user: jjones, interruptionId: interruption.id, notes: 'my own test, known flake' }],
      [retryUpdate, { user: jjones, interruptionId: interruption.id }],
    ] as const) {
      const refused = await handle.executeUpdate(update as typeof ignoreUpdate, { args: [request] }).catch((error: unknown) => error);
      expect((refused as WorkflowUpdateFailedError).cause, update.name).toMatchObject({ type: 'SELF_APPROVAL' });
      expect((refused as WorkflowUpdateFailedError).cause?.message).toContain('needs someone else to decide whether it is retried, ignored or failed');
    }
    const refusals = (await handle.query(stateQuery)).timeline.filter((entry) => entry.user === 'jjones');
    expect(refusals.map((entry) => [entry.action, entry.result])).toEqual([['takeResponsibility', 'refused'], ['ignore', 'refused'], ['retry', 'refused']]);

    await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: mlee, interruptionId: interruption.id }] });
    await handle.executeUpdate(ignoreUpdate, { args: [{ user: mlee, interruptionId: interruption.id, notes: 'known flake' }] });
    const view = await finalView(handle);
    expect(view.status).toBe('Succeeded');
    expect(view.interruptions[0]).toMatchObject({ state: 'Ignored', assignee: { username: 'mlee' } });
  });

  it('only the project\'s guided-failure teams may act when it names them', async () => {
    const handle = await start(deploymentInput(flaky(99).yaml, { guidedFailureTeams: ['dba'] }));
    const view = await asked(handle);
    const interruption = openGuidance(view)!;
    expect(interruption.responsibleTeams).toEqual(['dba']);
    const refused = await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: people.jjones, interruptionId: interruption.id }] }).catch((error: unknown) => error);
    expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'NOT_IN_TEAM' });
    await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: people.outsider, interruptionId: interruption.id }] });
    await handle.executeUpdate(failUpdate, { args: [{ user: people.outsider, interruptionId: interruption.id }] });
    expect((await finalView(handle)).status).toBe('Failed');
  });
});
