import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import {
  cancelRequestSignal,
  type DeploymentInput,
  proceedSignal,
  proceedUpdate,
  takeResponsibilitySignal,
  takeResponsibilityUpdate,
} from '../../workflows/messages.js';
import { deploymentInput, finalView, people, useTimeSkippingWorker } from '../support/workflows.js';
import { untilView } from '../support/fixtures.js';

// docs/manual-steps.md in the workflow itself: signals (Temporal Web, `temporal workflow signal`) are
// believed about identity only as far as the roster, every payload is checked, refusals are
// coalesced, and a deployment that waits for a month under load continues as new and still decides.
const taskQueue = 'signals-workflow-test';
const environment = useTimeSkippingWorker(taskQueue);

const STEP = 'Approve';
const OUTPUT = `Action[${STEP}].Output.Manual`;
const roster = [people.jjones, people.mlee, people.outsider, people.viewer, people.admin];

function input(overrides: Partial<DeploymentInput> = {}, timeout = ''): DeploymentInput {
  return deploymentInput(
    `
- { name: Deploy, type: script, run: 'true' }
- name: ${STEP}
  type: manual
  responsibleTeams: [release-managers]
${timeout ? `  timeout: ${timeout}\n` : ''}- { name: After, type: script, run: 'true' }
`,
    { roster, ...overrides },
  );
}

const start = (deployment: DeploymentInput) =>
  environment().client.workflow.start('deployment', { args: [deployment], taskQueue, workflowId: deployment.id });

const waiting = (handle: WorkflowHandle) => untilView(handle, (v) => v.status === 'Waiting' && v.interruptions.length > 0, 'the manual step');

describe('who a signal names', () => {
  it('takes teams and roles from the roster, not from the payload', async () => {
    const handle = await start(input());
    await waiting(handle);
    // Vic is a viewer in no team; the payload claims admin.
    await handle.signal(takeResponsibilitySignal, { user: { ...people.viewer, roles: ['admin'], teams: ['release-managers'] } });
    let view = await untilView(handle, (v) => v.timeline.length === 1, 'the refusal');
    expect(view.timeline[0]).toMatchObject({ user: 'vic', action: 'takeResponsibility', result: 'refused', via: 'signal' });
    expect(view.timeline[0]!.reason).toMatch(/^NOT_IN_TEAM: /);
    expect(view.interruptions[0]!.state).toBe('Pending');

    // Jamie's payload leaves out her teams: the roster's count.
    await handle.signal(takeResponsibilitySignal, { user: { ...people.jjones, teams: [], roles: ['viewer'] } });
    view = await untilView(handle, (v) => v.interruptions[0]!.state === 'Assigned', 'jjones to hold it');
    expect(view.interruptions[0]!.assignee?.username).toBe('jjones');
    await handle.signal(proceedSignal, { user: people.jjones, notes: 'by signal' });
    const done = await finalView(handle);
    expect(done.status).toBe('Succeeded');
    expect(done.variables[`${OUTPUT}.Via`]).toBe('signal');
    expect(done.interruptions[0]!.decidedVia).toBe('signal');
  });

  it('refuses a user the roster does not know, by name, and changes nothing', async () => {
    const handle = await start(input());
    const before = await waiting(handle);
    await handle.signal(takeResponsibilitySignal, { user: { id: 'users-999', username: 'mallory', displayName: 'Mallory', teams: ['release-managers'], roles: ['admin'] } });
    const view = await untilView(handle, (v) => v.timeline.length === 1, 'the refusal');
    expect(view.timeline[0]).toMatchObject({ user: 'mallory', result: 'refused', via: 'signal' });
    expect(view.timeline[0]!.reason).toMatch(/^UNKNOWN_USER: /);
    expect(view.interruptions).toEqual(before.interruptions);
    await handle.terminate('test done');
  });

  it('an update\'s decision says so in the outputs too', async () => {
    const handle = await start(input());
    await waiting(handle);
    await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: people.mlee }] });
    await handle.executeUpdate(proceedUpdate, { args: [{ user: people.mlee }] });
    const done = await finalView(handle);
    expect(done.variables[`${OUTPUT}.Via`]).toBe('update');
  });
});

describe('malformed signals never wedge a deployment', () => {
  it('a cancelRequest with no input, or a bad one, is recorded as refused; the assignee then decides', async () => {
    const handle = await start(input());
    await waiting(handle);
    await handle.signal(cancelRequestSignal, undefined as never);
    await handle.signal(cancelRequestSignal, { user: { username: 42 } } as never);
    await handle.signal(cancelRequestSignal, { user: { id: 'users-999', username: 'mallory', displayName: 'M' } });
    const view = await untilView(handle, (v) => v.timeline.length === 3, 'three refusals');
    expect(view.timeline.map((e) => [e.action, e.result, e.reason?.split(':')[0]])).toEqual([
      ['cancel', 'refused', 'BAD_REQUEST'],
      ['cancel', 'refused', 'BAD_REQUEST'],
      ['cancel', 'refused', 'UNKNOWN_USER'],
    ]);
    expect(view.status).toBe('Waiting');
    await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: people.jjones }] });
    await handle.executeUpdate(proceedUpdate, { args: [{ user: people.jjones }] });
    expect((await finalView(handle)).status).toBe('Succeeded');
  });
});

describe('a month of waiting under load', () => {
  it('coalesces refusals, continues as new as the history grows, and still takes the assignee\'s decision', async () => {
    const handle = await start(input({ historyLimit: 150 }, '60d'));
    const first = await waiting(handle);
    const firstRun = (await handle.describe()).runId;

    // Refused signals from one outsider, sent over a month: each is a history event.
    for (let day = 0; day < 30; day++) {
      await Promise.all(Array.from({ length: 10 }, () => handle.signal(takeResponsibilitySignal, { user: people.outsider })));
      await environment().sleep('1 day');
    }
    const view = await untilView(handle, (v) => v.timeline.some((e) => (e.count ?? 1) >= 300), 'all 300 refusals');
    expect(view.timeline).toHaveLength(1);
    expect(view.timeline[0]).toMatchObject({ user: 'otto', result: 'refused', count: 300 });
    expect((await handle.describe()).runId).not.toBe(firstRun);
    // The same interruption, the same deadline, in every run.
    expect(view.interruptions).toHaveLength(1);
    expect(view.interruptions[0]!.id).toBe(first.interruptions[0]!.id);
    expect(view.interruptions[0]!.timeoutAt).toBe(first.interruptions[0]!.timeoutAt);

    await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: people.jjones }] });
    await handle.executeUpdate(proceedUpdate, { args: [{ user: people.jjones, notes: 'a month later' }] });
    const done = await finalView(handle);
    expect(done.status).toBe('Succeeded');
    expect(done.steps.map((s) => s.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    expect(done.variables).toMatchObject({ [`${OUTPUT}.Notes`]: 'a month later', [`${OUTPUT}.ResponsibleUser.Username`]: 'jjones' });
  }, 120_000);

  it('a timeout still fires on time across runs', async () => {
    const handle = await start(input({ historyLimit: 60 }, '10d'));
    await waiting(handle);
    const firstRun = (await handle.describe()).runId;
    for (let day = 0; day < 9; day++) {
      await Promise.all(Array.from({ length: 10 }, () => handle.signal(takeResponsibilitySignal, { user: people.outsider })));
      await environment().sleep('1 day');
    }
    expect((await handle.describe()).runId).not.toBe(firstRun);
    await environment().sleep('2 days');
    const done = await finalView(handle);
    expect(done.status).toBe('Aborted');
    expect(done.interruptions[0]!.state).toBe('TimedOut');
    expect(done.variables[`${OUTPUT}.Result`]).toBe('TimedOut');
  }, 120_000);
});
