import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliverNotificationInput } from '../../workflows/activity-contract.js';
import { type CloudEvent, isAuditEvent } from '../../core/cloud-events.js';
import { abortUpdate, type DeploymentInput, proceedUpdate, type ReleaseView, takeResponsibilityUpdate } from '../../workflows/messages.js';
import { createTestWorker, deploymentInput, finalView, people, realActivities, startTimeSkipping } from '../support/workflows.js';
import { lifecycleConfig, releaseInput, untilView } from '../support/fixtures.js';

const taskQueue = 'notifications-workflow-test';
/** What reached each channel, in order; `down` channels refuse every delivery. */
const delivered: { channel: string; event: CloudEvent; at: number }[] = [];
const down = new Set<string>();

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
beforeAll(async () => {
  env = await startTimeSkipping();
  worker = await createTestWorker(env, taskQueue, {
    ...realActivities(env),
    // A typed fake of the delivery (the channels themselves have tests of their own, against real receivers).
    async deliverNotification({ channel, event }: DeliverNotificationInput) {
      if (down.has(channel)) throw ApplicationFailure.nonRetryable(`${channel}: POST https://hooks.example.com → 404`, 'NotificationRefused');
      // These workflows send deployment events only; the audit trail has tests of its own.
      if (!isAuditEvent(event)) delivered.push({ channel, event, at: Date.now() });
      return { log: `${channel}: POST https://hooks.example.com → 200 in 1 ms` };
    },
  } satisfies ReturnType<typeof realActivities>);
  running = worker.run();
});
afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await env?.teardown();
});

async function start(input: DeploymentInput): Promise<WorkflowHandle> {
  return env.client.workflow.start('deployment', { args: [input], taskQueue, workflowId: input.id });
}

const sentFor = (id: string) => delivered.filter((d) => d.event.data.deployment?.id === id);
const routes = (events: string[], channels = ['ops-hook']) => [{ events, channels }];

describe('notifications from a deployment (docs/notifications.md)', () => {
  it('sends interruption.created, reminders every 4h, an escalation after 24h, and interruption.decided and deployment.finished', async () => {
    const input = deploymentInput(`
- name: Sign off
  type: manual
  responsibleTeams: [release-managers]
  instructions: 'Ship #{Release}?'
  remind: { every: 4h, escalateAfter: 24h, escalateTo: [dba] }
`, { notifications: routes(['interruption.*', 'deployment.finished']), variables: { 'Interlock.Url': 'http://interlock.test' } });
    const handle = await start(input);
    await untilView(handle, (view) => view.status === 'Waiting', 'the step to wait');
    const created = sentFor(input.id);
    expect(created.map((d) => d.event.type)).toEqual(['dev.interlock.interruption.created']);
    expect(created[0]!.event).toMatchObject({ specversion: '1.0', source: `http://interlock.test/deployments/${encodeURIComponent(input.id)}`, datacontenttype: 'application/json' });
    expect(created[0]!.event.data).toMatchObject({ project: 'hello-service', environment: 'production', release: '1.4.2', step: 'Sign off', interruption: { kind: 'Manual', state: 'Pending', instructions: 'Ship 1.4.2?' } });

    // Before escalation only release-managers may take it: dba's member is refused.
    const outsider = await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: people.outsider }] }).catch((error: unknown) => error);
    expect(outsider).toMatchObject({ cause: { type: 'NOT_IN_TEAM' } });

    await env.sleep('25h');
    const view = await untilView(handle, (v) => v.interruptions[0]!.escalated === true, 'the escalation');
    const types = sentFor(input.id).map((d) => d.event.type);
    expect(types.filter((type) => type === 'dev.interlock.interruption.reminder')).toHaveLength(6);
    expect(types.filter((type) => type === 'dev.interlock.interruption.escalated')).toHaveLength(1);
    const escalated = sentFor(input.id).find((d) => d.event.type === 'dev.interlock.interruption.escalated')!;
    expect(escalated.event.data).toMatchObject({ escalatedTeams: ['dba'] });
    expect(view.interruptions[0]).toMatchObject({ reminders: 6, escalated: true, escalateTo: ['dba'] });
    expect(view.timeline.find((entry) => entry.action === 'remind')).toMatchObject({ count: 6 });
    expect(view.timeline.find((entry) => entry.action === 'escalate')?.reason).toContain('dba may act too');

    // After it, dba's member may take it and decide.
    await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: people.outsider }] });
    await handle.executeUpdate(proceedUpdate, { args: [{ user: people.outsider, notes: 'covered for them' }] });
    const final = await finalView(handle);
    expect(final.status).toBe('Succeeded');
    // Each delivery goes on its own, so they may arrive in either order.
    const last = sentFor(input.id).slice(-2).map((d) => d.event).sort((a, b) => a.type.localeCompare(b.type));
    expect(last.map((event) => event.type)).toEqual(['dev.interlock.deployment.finished', 'dev.interlock.interruption.decided']);
    expect(last[1]!.data.interruption).toMatchObject({ state: 'Proceeded', assignee: { username: 'otto' }, notes: 'covered for them' });
    expect(last[0]!.data).toMatchObject({ status: 'Succeeded' });
  });

  it('sends nothing where no subscription asks, and only what is asked for', async () => {
    const input = deploymentInput(`- { name: Deploy, type: script, run: 'echo ok' }`, { notifications: routes(['interruption.created']) });
    const handle = await start(input);
    expect((await finalView(handle)).status).toBe('Succeeded');
    expect(sentFor(input.id)).toEqual([]);
  });

  it('a notify step sends its template, filled in and with sensitive values masked, through its channel; runCondition: failure tells of an abort', async () => {
    const input = deploymentInput(`
- { name: Approve, type: manual }
- { name: Deploy, type: script, run: 'echo deployed' }
- name: Tell the desk
  type: notify
  channel: desk
  runCondition: failure
  subject: 'Stopped: #{Release}'
  template: '#{Release} was stopped by #{Action[Approve].Output.Manual.ResponsibleUser.Username}: #{Action[Approve].Output.Manual.Notes} (#{DbPassword})'
`, { variables: { DbPassword: 's3cret' }, sensitive: ['DbPassword'], notifications: routes(['deployment.finished']) });
    const handle = await start(input);
    const waiting = await untilView(handle, (view) => view.status === 'Waiting', 'the manual step');
    const id = waiting.interruptions[0]!.id;
    await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: people.jjones, interruptionId: id }] });
    await handle.executeUpdate(abortUpdate, { args: [{ user: people.jjones, interruptionId: id, notes: 'desk said wait' }] });
    const final = await finalView(handle);
    expect(final.status).toBe('Aborted');
    expect(final.steps.map((s) => s.status)).toEqual(['Aborted', 'Skipped', 'Succeeded']);
    const [sent, finished] = sentFor(input.id);
    expect(sent).toMatchObject({ channel: 'desk', event: { type: 'dev.interlock.notify', data: { step: 'Tell the desk', subject: 'Stopped: 1.4.2' } } });
    // Sent while the deployment still ran (the abort decided how it ends); deployment.finished only after it.
    expect(sent!.event.data.deployment).toEqual({ id: input.id, status: 'Running', outcome: 'Aborted' });
    expect(finished).toMatchObject({ channel: 'ops-hook', event: { type: 'dev.interlock.deployment.finished', data: { status: 'Aborted', deployment: { status: 'Aborted', outcome: 'Aborted' } } } });
    expect(sentFor(input.id)).toHaveLength(2);
    expect(sent!.event.data.message).toBe('1.4.2 was stopped by jjones: desk said wait (********)');
    expect(final.steps[2]!.log).toContain('desk: POST https://hooks.example.com → 200');
  });

  it('a delivery that fails in the end is recorded in the timeline and never fails the deployment', async () => {
    down.add('broken-hook');
    const input = deploymentInput(`
- { name: Deploy, type: script, run: 'echo ok' }
- { name: Tell them, type: notify, channel: broken-hook, template: 'done' }
`, { notifications: routes(['deployment.finished'], ['broken-hook']) });
    const final = await finalView(await start(input));
    expect(final.status).toBe('Succeeded');
    expect(final.steps[1]).toMatchObject({ status: 'Failed', ignored: true });
    expect(final.steps[1]!.log).toContain('Not delivered through broken-hook');
    const failures = final.timeline.filter((entry) => entry.action === 'notify' && entry.result === 'failed');
    expect(failures.map((entry) => entry.reason)).toEqual(expect.arrayContaining([
      expect.stringContaining('broken-hook: broken-hook: POST https://hooks.example.com → 404'),
      expect.stringContaining('dev.interlock.deployment.finished could not be delivered'),
    ]));
    expect(failures).toHaveLength(2);
  });
});

describe('notifications from a release', () => {
  it('sends release.finished when the release ends, with its status, result and link, to whoever subscribed', async () => {
    const config = lifecycleConfig(`
shipyard:
  apiVersion: spec.keptn.sh/0.2.2
  kind: Shipyard
  spec: { stages: [{ name: qa, sequences: [{ name: delivery, tasks: [{ name: je-deployment }] }] }] }
tasks:
  je-deployment: { type: script, run: 'echo "deploying #{Release}"' }
`);
    const input = { ...releaseInput(config, { release: '0.9.1' }), notifications: routes(['release.finished']) };
    const handle = await env.client.workflow.start('release', { args: [input], taskQueue, workflowId: input.id });
    const final = (await handle.result()) as ReleaseView;
    expect(final.status).toBe('Succeeded');
    const sent = delivered.filter((d) => d.event.type === 'dev.interlock.release.finished' && d.event.shkeptncontext === input.keptnContext);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      channel: 'ops-hook',
      event: {
        source: `http://interlock.test/releases/${encodeURIComponent(input.id)}`,
        data: { project: 'helloservice', release: '0.9.1', status: 'Succeeded', result: 'pass', links: { release: `http://interlock.test/releases/${encodeURIComponent(input.id)}` } },
      },
    });
  });
});
