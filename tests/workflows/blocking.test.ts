import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { gateWorkflowId } from '../../workflows/ids.js';
import { type DeploymentInput, gateStateQuery, proceedUpdate, stateQuery, takeResponsibilityUpdate } from '../../workflows/messages.js';
import { deploymentInput, finalView, people, useTimeSkippingWorker } from '../support/workflows.js';
import { untilView } from '../support/fixtures.js';

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

const until = untilView;

const waiting = (handle: WorkflowHandle) => until(handle, (view) => view.status === 'Waiting', `${handle.workflowId} to wait at its blocking step`);
const queued = (handle: WorkflowHandle) => until(handle, (view) => view.status === 'Queued', `${handle.workflowId} to be queued`);

async function approve(handle: WorkflowHandle) {
  const { interruptions } = await handle.query(stateQuery);
  const interruption = interruptions.at(-1)!;
  await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: people.jjones, interruptionId: interruption.id }] });
  await handle.executeUpdate(proceedUpdate, { args: [{ user: people.jjones, interruptionId: interruption.id }] });
}

describe('blockConcurrentDeployments (SPEC §9)', () => {
  it('queues later deployments of the project and environment while one waits, and lets them go in trigger order once it is decided', async () => {
    const project = 'gated-order';
    const first = await start(blocked('1.0.0', project));
    await waiting(first);
    const second = await start(blocked('1.0.1', project));
    const secondQueued = await queued(second);
    expect(secondQueued.queuedBehind).toBe(first.workflowId);
    expect(secondQueued.steps.map((s) => s.status)).toEqual(['Pending', 'Pending', 'Pending']);
    expect(secondQueued.timeline.at(-1)).toMatchObject({ action: 'queue', reason: expect.stringContaining(first.workflowId) });
    const third = await start(blocked('1.0.2', project));
    expect((await queued(third)).queuedBehind).toBe(first.workflowId);
    const gate = environment().client.workflow.getHandle(gateWorkflowId(project, 'production'));
    expect(await gate.query(gateStateQuery)).toEqual({ holders: [first.workflowId], queue: [second.workflowId, third.workflowId], running: [first.workflowId] });

    await approve(first);
    expect((await finalView(first)).status).toBe('Succeeded');
    // Both go on, in the order they were triggered; the second now waits at its own blocking step.
    const secondWaits = await waiting(second);
    expect(secondWaits.queuedBehind).toBeNull();
    expect(secondWaits.timeline.some((entry) => entry.action === 'queue' && entry.reason?.startsWith('released'))).toBe(true);
    const thirdRuns = await until(third, (view) => view.status !== 'Queued', 'the third to go on');
    expect(thirdRuns.status === 'Running' || thirdRuns.status === 'Waiting').toBe(true);
  });

  it('releases the queue however the blocking deployment ends: cancelled', async () => {
    const project = 'gated-cancel';
    const first = await start(blocked('2.0.0', project));
    await waiting(first);
    const second = await start(blocked('2.0.1', project));
    await queued(second);
    await first.cancel();
    await waiting(second);
  });

  it('a queued deployment that is cancelled leaves the queue', async () => {
    const project = 'gated-leave';
    const first = await start(blocked('3.0.0', project));
    await waiting(first);
    const second = await start(blocked('3.0.1', project));
    await queued(second);
    await second.cancel();
    expect((await finalView(second)).status).toBe('Cancelled');
    const gate = environment().client.workflow.getHandle(gateWorkflowId(project, 'production'));
    const deadline = Date.now() + 10_000;
    while ((await gate.query(gateStateQuery)).queue.length > 0 && Date.now() < deadline) await sleep(50);
    expect(await gate.query(gateStateQuery)).toEqual({ holders: [first.workflowId], queue: [], running: [first.workflowId] });
  });

  it('a blocking deployment terminated by an operator stops blocking within minutes', async () => {
    const project = 'gated-terminate';
    const first = await start(blocked('4.0.0', project));
    await waiting(first);
    const second = await start(blocked('4.0.1', project));
    await queued(second);
    await first.terminate('an operator ended it');
    // The gate checks every few minutes that what it holds for still runs.
    expect((await second.query(stateQuery)).status).toBe('Queued');
    await environment().sleep('6m');
    await waiting(second);
  });

  it('does not queue a deployment of another environment or project', async () => {
    const first = await start(blocked('5.0.0', 'gated-alone'));
    await waiting(first);
    const other = await start(blocked('5.0.1', 'gated-other'));
    await waiting(other);
  });
});
