import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { gateWorkflowId } from '../../core/ids.js';
import { type DeploymentInput, gateStateQuery, proceedUpdate, stateQuery, takeResponsibilityUpdate } from '../../workflows/messages.js';
import { deploymentInput, finalView, people, useTimeSkippingWorker } from '../support/workflows.js';
import { untilView } from '../support/fixtures.js';
import { until } from '../support/poll.js';

const taskQueue = 'blocking-workflow-test';
const environment = useTimeSkippingWorker(taskQueue);

const PROCESS = `
- { name: Deploy, type: script, run: 'echo deploying #{Release}' }
- { name: Sign off, type: manual, responsibleTeams: [release-managers], blockConcurrentDeployments: true }
- { name: Finish, type: script, run: 'echo done' }
`;

/** A deployment of hello-service to production behind the gate every such deployment asks. */
function blocked(release: string, project = `gated-${Math.random().toString(36).slice(2, 8)}`): DeploymentInput {
  const input = deploymentInput(PROCESS, { release, gate: gateWorkflowId(project, 'production') });
  return { ...input, id: `${input.id}-${release}` };
}

async function start(input: DeploymentInput): Promise<WorkflowHandle> {
  return environment().client.workflow.start('deployment', { args: [input], taskQueue, workflowId: input.id });
}

const waiting = (handle: WorkflowHandle) => untilView(handle, (view) => view.status === 'Waiting', `${handle.workflowId} to wait at its blocking step`);
const queued = (handle: WorkflowHandle) => untilView(handle, (view) => view.status === 'Queued', `${handle.workflowId} to be queued`);

/** Two deployments of `project`: the first waiting at its blocking step, the second queued behind it. */
async function holderAndQueued(project: string, [firstRelease, secondRelease]: [string, string]) {
  const first = await start(blocked(firstRelease, project));
  await waiting(first);
  const second = await start(blocked(secondRelease, project));
  const secondQueued = await queued(second);
  return { first, second, secondQueued };
}

async function approve(handle: WorkflowHandle) {
  const { interruptions } = await handle.query(stateQuery);
  const interruption = interruptions.at(-1)!;
  await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: people.jjones, interruptionId: interruption.id }] });
  await handle.executeUpdate(proceedUpdate, { args: [{ user: people.jjones, interruptionId: interruption.id }] });
}

describe('blockConcurrentDeployments (docs/manual-steps.md)', () => {
  it('lets three deployments through their blocking step one at a time, in trigger order', async () => {
    const project = 'gated-order';
    const gate = environment().client.workflow.getHandle(gateWorkflowId(project, 'production'));
    const first = await start(blocked('1.0.0', project));
    await waiting(first);
    const second = await start(blocked('1.0.1', project));
    const secondQueued = await queued(second);
    expect(secondQueued.queuedBehind).toBe(first.workflowId);
    expect(secondQueued.steps.map((s) => s.status)).toEqual(['Pending', 'Pending', 'Pending']);
    expect(secondQueued.timeline.at(-1)).toMatchObject({ action: 'queue', reason: expect.stringContaining(first.workflowId) });
    const third = await start(blocked('1.0.2', project));
    expect((await queued(third)).queuedBehind).toBe(first.workflowId);
    expect(await gate.query(gateStateQuery)).toEqual({ holders: [first.workflowId], queue: [second.workflowId, third.workflowId], running: [first.workflowId], passing: null });

    // The first is decided: the second goes, alone; the third now waits for it.
    await approve(first);
    expect((await finalView(first)).status).toBe('Succeeded');
    const secondWaits = await waiting(second);
    expect(secondWaits.queuedBehind).toBeNull();
    expect(secondWaits.timeline.some((entry) => entry.action === 'queue' && entry.reason?.startsWith('released'))).toBe(true);
    const thirdStillQueued = await untilView(third, (view) => view.queuedBehind === second.workflowId, 'the third to wait for the second');
    expect(thirdStillQueued.status).toBe('Queued');
    expect(thirdStillQueued.steps.map((s) => s.status)).toEqual(['Pending', 'Pending', 'Pending']);
    expect(await gate.query(gateStateQuery)).toEqual({ holders: [second.workflowId], queue: [third.workflowId], running: [second.workflowId], passing: second.workflowId });

    // The second is decided: now the third.
    await approve(second);
    expect((await finalView(second)).status).toBe('Succeeded');
    await waiting(third);
    await approve(third);
    const views = [await finalView(first), await finalView(second), await finalView(third)];
    expect(views.map((view) => view.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    // Each waited at the blocking step only after the one before it had been decided there.
    const signOff = views.map((view) => view.steps[1]!);
    expect(signOff[0]!.finishedAt! <= signOff[1]!.startedAt!).toBe(true);
    expect(signOff[1]!.finishedAt! <= signOff[2]!.startedAt!).toBe(true);
    expect(views[2]!.timeline.filter((entry) => entry.action === 'queue').map((entry) => entry.reason)).toEqual([
      expect.stringContaining(`queued behind ${first.workflowId}`),
      expect.stringContaining(`queued behind ${second.workflowId}`),
      `released: ${second.workflowId} no longer blocks`,
    ]);
  });

  it('queues in trigger order; one cancelled while queued leaves the queue, and the others still go one at a time, in order', async () => {
    const project = 'gated-cancel-queued';
    const gate = environment().client.workflow.getHandle(gateWorkflowId(project, 'production'));
    const first = await start(blocked('6.0.0', project));
    await waiting(first);
    // Triggered in this order; the requests to the gate may reach it in any order.
    const inputs = ['6.0.1', '6.0.2', '6.0.3'].map((release, i) => ({ ...blocked(release, project), createdAt: new Date(Date.now() + i).toISOString() }));
    const [fourth, second, third] = [await start(inputs[2]!), await start(inputs[0]!), await start(inputs[1]!)];
    for (const handle of [second, third, fourth]) await queued(handle);
    expect((await gate.query(gateStateQuery)).queue).toEqual([second.workflowId, third.workflowId, fourth.workflowId]);

    await third.cancel();
    expect((await finalView(third)).status).toBe('Cancelled');
    const left = await until(() => gate.query(gateStateQuery), (state) => state.queue.length <= 2, 'the cancelled one to leave the queue', { timeoutMs: 10_000, everyMs: 50 });
    expect(left.queue).toEqual([second.workflowId, fourth.workflowId]);

    await approve(first);
    await waiting(second);
    const fourthQueued = await untilView(fourth, (view) => view.queuedBehind === second.workflowId, 'the fourth to wait for the second');
    expect(fourthQueued.status).toBe('Queued');
    await approve(second);
    await waiting(fourth);
    await approve(fourth);
    expect((await finalView(fourth)).status).toBe('Succeeded');
    expect((await finalView(third)).steps.map((s) => s.status)).toEqual(['Skipped', 'Skipped', 'Skipped']);
  });

  it('an admitted deployment that never reaches its blocking step lets the next go when it ends', async () => {
    const project = 'gated-never-blocks';
    const first = await start(blocked('7.0.0', project));
    await waiting(first);
    // The second fails before its blocking step, which it then skips (runCondition: success).
    const failing = blocked('7.0.1', project);
    const second = await start({ ...failing, process: [{ ...failing.process[0]!, run: 'echo "cannot deploy"; exit 1' } as typeof failing.process[0], ...failing.process.slice(1)] });
    const third = await start(blocked('7.0.2', project));
    await queued(second);
    await queued(third);

    await approve(first);
    const secondView = await finalView(second);
    expect(secondView.status).toBe('Failed');
    expect(secondView.steps.map((s) => s.status)).toEqual(['Failed', 'Skipped', 'Skipped']);
    const thirdWaits = await waiting(third);
    expect(thirdWaits.queuedBehind).toBeNull();
    expect(thirdWaits.steps[1]!.startedAt! >= secondView.finishedAt!).toBe(true);
  });

  it('releases the queue however the blocking deployment ends: cancelled', async () => {
    const { first, second, secondQueued } = await holderAndQueued('gated-cancel', ['2.0.0', '2.0.1']);
    expect(secondQueued.queuedBehind).toBe(first.workflowId);
    await first.cancel();
    const firstView = await finalView(first);
    expect(firstView.status).toBe('Cancelled');
    const secondWaits = await waiting(second);
    expect(secondWaits).toMatchObject({ status: 'Waiting', queuedBehind: null });
    expect(secondWaits.timeline.map((entry) => entry.reason)).toContain(`released: ${first.workflowId} no longer blocks`);
    expect(secondWaits.steps[0]!.startedAt! >= firstView.finishedAt!).toBe(true);
  });

  it('a queued deployment that is cancelled leaves the queue', async () => {
    const project = 'gated-leave';
    const { first, second } = await holderAndQueued(project, ['3.0.0', '3.0.1']);
    await second.cancel();
    expect((await finalView(second)).status).toBe('Cancelled');
    const gate = environment().client.workflow.getHandle(gateWorkflowId(project, 'production'));
    const left = await until(() => gate.query(gateStateQuery), (state) => state.queue.length === 0, 'the cancelled one to leave the queue', { timeoutMs: 10_000, everyMs: 50 });
    expect(left).toEqual({ holders: [first.workflowId], queue: [], running: [first.workflowId], passing: null });
  });

  it('a blocking deployment terminated by an operator stops blocking within minutes', async () => {
    const project = 'gated-terminate';
    const { first, second } = await holderAndQueued(project, ['4.0.0', '4.0.1']);
    await first.terminate('an operator ended it');
    // The gate checks every few minutes that what it holds for still runs.
    expect((await second.query(stateQuery)).status).toBe('Queued');
    await environment().sleep('6m');
    const secondWaits = await waiting(second);
    expect(secondWaits).toMatchObject({ status: 'Waiting', queuedBehind: null });
    expect(secondWaits.timeline.map((entry) => entry.reason)).toContain(`released: ${first.workflowId} no longer blocks`);
    const gate = environment().client.workflow.getHandle(gateWorkflowId(project, 'production'));
    expect(await gate.query(gateStateQuery)).toMatchObject({ holders: [second.workflowId], queue: [] });
  });

  it('does not queue a deployment of another environment or project', async () => {
    const first = await start(blocked('5.0.0', 'gated-alone'));
    await waiting(first);
    const other = await start(blocked('5.0.1', 'gated-other'));
    const otherWaits = await waiting(other);
    expect(otherWaits).toMatchObject({ status: 'Waiting', queuedBehind: null });
    expect(otherWaits.timeline.filter((entry) => entry.action === 'queue')).toEqual([]);
    expect((await first.query(stateQuery)).status).toBe('Waiting');
  });
});
