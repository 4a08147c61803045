import { randomUUID } from 'node:crypto';
import { type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../config/schema.js';
import { actorOfUser } from '../../service/permissions.js';
import {
  abortUpdate,
  type Actor,
  type DeploymentView,
  proceedUpdate,
  releaseEventsQuery,
  releaseStateQuery,
  type ReleaseView,
  stateQuery,
  takeResponsibilityUpdate,
  taskEventUpdate,
} from '../../workflows/messages.js';
import { finalView, lifecycleConfig, people, productionShipyard, releaseInput, seedShipyard } from '../support/fixtures.js';
import { until as poll } from '../support/poll.js';
import { useTimeSkippingWorker } from '../support/workflows.js';

const taskQueue = 'release-workflow-test';
const environment = useTimeSkippingWorker(taskQueue);

/** The seed's shipyard (docs/keptn.md), byte for byte, with both je- tasks run by scripts here. */
const SEED = `
shipyard:
${seedShipyard()}
tasks:
  je-deployment: { type: script, run: 'echo "deploying #{Release} to #{Stage}"' }
  je-test: { type: script, run: 'echo "testing #{Release} in #{Stage}"' }
`;

async function start(config: Config) {
  const input = releaseInput(config);
  const handle = await environment().client.workflow.start('release', { args: [input], taskQueue, workflowId: input.id });
  return { handle, input };
}

/** Queries until `ready` holds, as a dashboard polling would; a query the workflow cannot answer yet (just started) is asked again. */
const until = <T>(read: () => Promise<T>, ready: (value: T) => boolean, what: string): Promise<T> =>
  poll(() => read().catch(() => undefined), (value): value is T => value !== undefined && ready(value), what, { timeoutMs: 20_000, everyMs: 50 });

/** A person takes the approval and decides it: proceed approves, abort declines. */
async function decide(child: WorkflowHandle, approvalId: string, decision: typeof proceedUpdate | typeof abortUpdate, user: Actor = people.jjones, notes?: string) {
  await child.executeUpdate(takeResponsibilityUpdate, { args: [{ user, interruptionId: approvalId }] });
  await child.executeUpdate(decision, { args: [{ user, interruptionId: approvalId, ...(notes === undefined ? {} : { notes }) }] });
}

const sequence = (view: ReleaseView, stage: string, name = 'delivery') => view.stages.find((s) => s.name === stage)!.sequences.find((s) => s.name === name)!;

async function waitingChild(handle: WorkflowHandle, stage: string): Promise<{ child: WorkflowHandle; view: DeploymentView }> {
  const release = await until(() => handle.query(releaseStateQuery), (view) => sequence(view, stage).deploymentId !== null, `${stage} to start`);
  const child = environment().client.workflow.getHandle(sequence(release, stage).deploymentId!);
  const view = await until(() => child.query(stateQuery), (v) => v.status === 'Waiting', `${stage} to wait`);
  return { child, view };
}

async function releaseEnd(handle: WorkflowHandle): Promise<ReleaseView> {
  try {
    return (await handle.result()) as ReleaseView;
  } catch (error) {
    // The time-skipping server keeps no details of a cancellation (the dev server does): ask the closed workflow.
    return ((error as { cause?: { details?: unknown[] } }).cause?.details?.[0] as ReleaseView | undefined) ?? (await handle.query(releaseStateQuery));
  }
}

describe('a lifecycle release (the seed shipyard)', () => {
  it('delivers to qa, promotes to production by itself, waits for approval, and runs je-deployment only once approved', async () => {
    const { handle } = await start(lifecycleConfig(SEED));
    const { child, view } = await waitingChild(handle, 'production');
    const release = await handle.query(releaseStateQuery);
    expect(sequence(release, 'qa')).toMatchObject({ status: 'Succeeded', result: 'pass' });
    expect(release.status).toBe('Waiting');
    expect(view).toMatchObject({ stage: 'production', sequence: 'delivery', environment: 'production' });
    expect(view.steps.map((s) => [s.name, s.status])).toEqual([['approval', 'Waiting'], ['je-deployment', 'Pending']]);
    const approval = view.interruptions[0]!;
    expect(approval).toMatchObject({ kind: 'Approval', state: 'Pending' });
    // The approval's id is its approval.triggered event's, so Keptn's approval.finished finds it.
    expect(approval.id).toBe(view.steps[0]!.triggeredId);
    expect(view.steps[0]!.log).toBe("Judged the result of qa.delivery: pass.\nApproval strategy for result 'pass': manual.\nWaiting for a person to approve or decline.\n");

    await decide(child, approval.id, proceedUpdate, people.jjones, 'go');
    const final = await releaseEnd(handle);
    expect(final.status).toBe('Succeeded');
    expect(sequence(final, 'production')).toMatchObject({ status: 'Succeeded', result: 'pass' });
    const production = await finalView(child);
    expect(production.steps.map((s) => [s.name, s.status, s.result])).toEqual([['approval', 'Succeeded', 'pass'], ['je-deployment', 'Succeeded', 'pass']]);
    expect(production.steps[0]!.log).toContain("Judged the result of qa.delivery: pass.\nApproval strategy for result 'pass': manual.");
    expect(production.steps[1]!.log).toBe('deploying 0.1.1 to production\n');
  });

  it('keeps every Keptn event of the release: sequences and tasks, with approval.started saying the strategy', async () => {
    const { handle } = await start(lifecycleConfig(SEED));
    const { child, view } = await waitingChild(handle, 'production');
    const approval = view.interruptions[0]!;
    await decide(child, approval.id, proceedUpdate, people.mlee);
    await releaseEnd(handle);
    const { events, deployments } = await handle.query(releaseEventsQuery);
    const types = events.map((e) => e.type).reverse();
    expect(types).toEqual([
      'sh.keptn.event.qa.delivery.triggered',
      'sh.keptn.event.je-deployment.triggered',
      'sh.keptn.event.je-deployment.started',
      'sh.keptn.event.je-deployment.finished',
      'sh.keptn.event.je-test.triggered',
      'sh.keptn.event.je-test.started',
      'sh.keptn.event.je-test.finished',
      'sh.keptn.event.qa.delivery.finished',
      'sh.keptn.event.production.delivery.triggered',
      'sh.keptn.event.approval.triggered',
      'sh.keptn.event.approval.started',
      'sh.keptn.event.approval.finished',
      'sh.keptn.event.je-deployment.triggered',
      'sh.keptn.event.je-deployment.started',
      'sh.keptn.event.je-deployment.finished',
      'sh.keptn.event.production.delivery.finished',
    ]);
    const started = events.find((e) => e.type === 'sh.keptn.event.approval.started')!;
    expect(started.data.message).toBe("Approval strategy for result 'pass': manual");
    const triggered = events.find((e) => e.type === 'sh.keptn.event.approval.triggered')!;
    expect(triggered.data).toMatchObject({ project: 'helloservice', stage: 'production', service: 'helloservice', approval: { pass: 'manual', warning: 'manual' }, result: 'pass' });
    expect(started.triggeredid).toBe(triggered.id);
    expect(deployments[triggered.id]).toBe(child.workflowId);
    expect(new Set(events.map((e) => e.shkeptncontext)).size).toBe(1);
  });

  it('a decline runs nothing further: production ends Aborted with je-deployment Skipped, and the release Aborted', async () => {
    const { handle } = await start(lifecycleConfig(SEED));
    const { child, view } = await waitingChild(handle, 'production');
    const approval = view.interruptions[0]!;
    await decide(child, approval.id, abortUpdate, people.jjones, 'not today');
    const final = await releaseEnd(handle);
    expect(final.status).toBe('Aborted');
    expect(sequence(final, 'production')).toMatchObject({ status: 'Aborted', result: 'fail' });
    const production = await finalView(child);
    expect(production.steps.map((s) => [s.name, s.status])).toEqual([['approval', 'Aborted'], ['je-deployment', 'Skipped']]);
    expect(production.steps[0]!.log).toContain('Declined by Jamie Jones (jjones).\nNotes: not today');
  });

  it('a failing task stops its sequence and promotes nothing', async () => {
    const { handle } = await start(lifecycleConfig(SEED.replace(`echo "testing #{Release} in #{Stage}"`, 'echo broken; exit 2')));
    const final = await releaseEnd(handle);
    expect(final.status).toBe('Failed');
    expect(sequence(final, 'qa')).toMatchObject({ status: 'Failed', result: 'fail' });
    expect(sequence(final, 'production')).toMatchObject({ status: 'Skipped', deploymentId: null });
  });

  it('cancelling the release cancels the running child', async () => {
    const { handle } = await start(lifecycleConfig(SEED));
    const { child } = await waitingChild(handle, 'production');
    await handle.cancel();
    // Not by awaiting the result: that lets the test server skip time, and it may skip past the
    // child's cancellation while it is on its way (to the workflows' execution timeout).
    const final = await until(() => handle.query(releaseStateQuery), (view) => view.finishedAt !== null, 'the release to end');
    expect(final.status).toBe('Cancelled');
    const production = await until(() => child.query(stateQuery), (view) => view.finishedAt !== null, 'production to end');
    expect(production.status).toBe('Cancelled');
    expect(production.steps.map((s) => s.status)).toEqual(['Cancelled', 'Skipped']);
  });
});

/** The seed's shipyard with je-test done outside Interlock, by je-bot only. */
const EXTERNAL = `
shipyard:
${seedShipyard()}
tasks:
  je-deployment: { type: script, run: 'echo "deploying #{Release} to #{Stage}"' }
  je-test: { type: external, executors: [je-bot], timeout: 1h }
`;

describe('an external task answered straight through Temporal (no API in front)', () => {
  it('refuses whoever is none of the executors the deployment started with, whatever the request claims; the executor decides', async () => {
    const config = lifecycleConfig(EXTERNAL);
    const { handle, input } = await start(config);
    const release = await until(() => handle.query(releaseStateQuery), (view) => sequence(view, 'qa').deploymentId !== null, 'qa to start');
    const child = environment().client.workflow.getHandle(sequence(release, 'qa').deploymentId!);
    const view = await until(() => child.query(stateQuery), (v) => v.steps[1]?.status === 'Running' && v.steps[1].triggeredId !== undefined, 'je-test to wait');
    const [deploy, test] = view.steps;
    expect(test).toMatchObject({ name: 'je-test', type: 'external', executors: ['je-bot'] });
    const person = (username: string) => actorOfUser(config, config.users.find((user) => user.username === username)!, { project: 'helloservice', environment: 'qa' });
    const finished = (user: Actor, triggeredid = test!.triggeredId!) => ({
      user,
      event: {
        specversion: '1.0' as const, id: randomUUID(), source: 'job-executor', type: 'sh.keptn.event.je-test.finished', time: new Date().toISOString(),
        datacontenttype: 'application/json' as const, shkeptncontext: input.keptnContext, triggeredid, data: { project: 'helloservice', result: 'pass', status: 'succeeded' },
      },
    });
    const refusalOf = async (request: ReturnType<typeof finished>) => {
      const error = await child.executeUpdate(taskEventUpdate, { args: [request] }).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
      const cause = (error as WorkflowUpdateFailedError).cause;
      return cause instanceof ApplicationFailure ? cause.type : cause?.message;
    };
    const ci = person('ci');
    // Who the sender is comes from the roster the deployment started with, never from the request.
    for (const claimed of [ci, { ...ci, roles: ['admin' as const] }, { ...ci, username: 'je-bot' }, { ...ci, teams: ['sre'] }]) {
      expect(await refusalOf(finished(claimed)), JSON.stringify(claimed)).toBe('NOT_EXECUTOR');
    }
    expect(await refusalOf(finished({ ...person('je-bot'), id: 'users-999', username: 'someone-else' }))).toBe('NOT_EXECUTOR');
    // The executor, with the triggeredid of another task: no such task waits.
    expect(await refusalOf(finished(person('je-bot'), deploy!.triggeredId!))).toBe('TASK_NOT_FOUND');
    expect((await child.query(stateQuery)).steps[1]!.status).toBe('Running');

    expect(await child.executeUpdate(taskEventUpdate, { args: [finished(person('je-bot'))] })).toEqual({ task: 'je-test', status: 'Running' });
    const qa = await until(() => child.query(stateQuery), (v) => v.finishedAt !== null, 'qa to end');
    expect(qa.steps[1]).toMatchObject({ status: 'Succeeded', result: 'pass', log: expect.stringContaining('(posted by je-bot)') });
    await handle.cancel();
  });
});

/** A quality gate in front of the approval: the response time decides pass (≤ 100), warning (≤ 200) or fail. */
const gated = (pass: 'automatic' | 'manual', warning: 'automatic' | 'manual') => `
variables:
  ResponseTime: { value: "50", prompted: true }
slo:
  objectives:
    - sli: response_time
      pass: [{ criteria: ["<=100"] }]
      warning: [{ criteria: ["<=200"] }]
  total_score: { pass: "90%", warning: "50%" }
sli:
  response_time: { script: 'echo "#{ResponseTime}"' }
${productionShipyard(`
- name: evaluation
- name: approval
  properties: { pass: ${pass}, warning: ${warning} }
- name: deploy
`)}
tasks:
  deploy: { type: script, run: 'echo deployed' }
`;

describe('the approval task judges the evaluation before it, by Keptn\'s rules', () => {
  const cases = (['automatic', 'manual'] as const).flatMap((pass) =>
    (['automatic', 'manual'] as const).flatMap((warning) =>
      ([['pass', '50'], ['warning', '150'], ['fail', '500']] as const).map(([result, time]) => ({ pass, warning, result, time })),
    ),
  );

  it.each(cases)('pass: $pass, warning: $warning, and the evaluation ends $result', async ({ pass, warning, result, time }) => {
    const config = lifecycleConfig(gated(pass, warning));
    const input = releaseInput(config, { variables: { ResponseTime: time } });
    const handle = await environment().client.workflow.start('release', { args: [input], taskQueue, workflowId: input.id });
    const release = await until(() => handle.query(releaseStateQuery), (view) => sequence(view, 'production').deploymentId !== null, 'production to start');
    const child = environment().client.workflow.getHandle(sequence(release, 'production').deploymentId!);
    const strategy = result === 'pass' ? pass : result === 'warning' ? warning : 'automatic';
    const view = await until(() => child.query(stateQuery), (v) => v.steps[1]!.status !== 'Pending' && v.steps[1]!.status !== 'Running', 'the approval to judge');
    expect(view.steps[0]).toMatchObject({ name: 'evaluation', result });
    expect(view.steps[1]!.log).toContain(`Approval strategy for result '${result}': ${strategy}`);
    if (result === 'fail') {
      // Declined at once, no person asked; the sequence stops (Keptn #3477 must not happen here).
      const final = await finalView(child);
      expect(final.interruptions).toEqual([]);
      expect(final.steps.map((s) => [s.status, s.result ?? null])).toEqual([['Failed', 'fail'], ['Failed', 'fail'], ['Skipped', null]]);
      expect(final.status).toBe('Failed');
      expect((await releaseEnd(handle)).status).toBe('Failed');
    } else if (strategy === 'automatic') {
      const final = await finalView(child);
      expect(final.interruptions).toEqual([]);
      expect(final.steps.map((s) => s.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
      expect(final.steps[1]!.result).toBe('pass');
      expect((await releaseEnd(handle)).status).toBe('Succeeded');
    } else {
      expect(view.status).toBe('Waiting');
      expect(view.interruptions).toMatchObject([{ kind: 'Approval', state: 'Pending', step: 'approval' }]);
      expect(view.interruptions[0]!.instructions).toContain(`The result of "evaluation" was **${result}**.`);
      await handle.cancel();
    }
  });

  it('puts the per-objective table in the evaluation\'s log and view', async () => {
    const config = lifecycleConfig(gated('automatic', 'manual'));
    const input = releaseInput(config, { variables: { ResponseTime: '150' } });
    const handle = await environment().client.workflow.start('release', { args: [input], taskQueue, workflowId: input.id });
    const release = await until(() => handle.query(releaseStateQuery), (view) => sequence(view, 'production').deploymentId !== null, 'production to start');
    const child = environment().client.workflow.getHandle(sequence(release, 'production').deploymentId!);
    const view = await until(() => child.query(stateQuery), (v) => v.status === 'Waiting', 'the approval to wait');
    const evaluation = view.steps[0]!.evaluation!;
    expect(evaluation).toMatchObject({ result: 'warning', score: 50, objectives: [{ sli: 'response_time', value: 150, status: 'warning', score: 0.5 }] });
    expect(view.steps[0]!.log).toContain('response_time');
    expect(view.steps[0]!.log).toContain('warning');
    await handle.cancel();
  });
});
