import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import {
  abortSignal,
  abortUpdate,
  type DeploymentInput,
  type DeploymentView,
  proceedSignal,
  proceedUpdate,
  searchAttributes,
  stateQuery,
  takeResponsibilitySignal,
  takeResponsibilityUpdate,
  type TimelineEntry,
} from '../../workflows/messages.js';
import { deploymentInput, finalView, people, refusal, useTimeSkippingWorker } from '../support/workflows.js';
import { TRADERS_STEP, traderProcess, untilView } from '../support/fixtures.js';

const taskQueue = 'manual-step-workflow-test';
const environment = useTimeSkippingWorker(taskQueue);

const STEP = TRADERS_STEP;
const OUTPUT = `Action[${STEP}].Output.Manual`;
const NOTES = 'Checked with Rick, got the all-clear; Michelle is out at a meeting.';

type Handle = WorkflowHandle;

async function start(input: DeploymentInput): Promise<Handle> {
  return environment().client.workflow.start('deployment', { args: [input], taskQueue, workflowId: input.id });
}

const waitingAtManualStep = (handle: Handle) =>
  untilView(handle, (view) => view.status === 'Waiting' && view.interruptions.length > 0, 'the deployment to wait at the manual step');


async function describeSearchAttributes(handle: Handle) {
  const description = await handle.describe();
  return {
    status: description.typedSearchAttributes.get(searchAttributes.status),
    waitingFor: description.typedSearchAttributes.get(searchAttributes.waitingFor),
    assignee: description.typedSearchAttributes.get(searchAttributes.assignee),
  };
}

/** What Temporal Web shows as the workflow's current details (docs/operations.md). */
async function currentDetails(handle: Handle): Promise<string> {
  const metadata = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails;
}

const take = (handle: Handle, user: (typeof people)[keyof typeof people], extra: { takeOver?: boolean; interruptionId?: string } = {}) =>
  handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user, ...extra }] });

const lastEntry = (view: DeploymentView): TimelineEntry => view.timeline[view.timeline.length - 1]!;

describe('a deployment reaching a manual step', () => {
  it('waits with a pending interruption, its instructions substituted, and says so in its search attributes', async () => {
    const handle = await start(deploymentInput(traderProcess()));
    const view = await waitingAtManualStep(handle);

    expect(view.status).toBe('Waiting');
    expect(view.steps.map((s) => s.status)).toEqual(['Succeeded', 'Waiting', 'Pending']);
    expect(view.interruptions).toHaveLength(1);
    expect(view.interruptions[0]).toMatchObject({
      step: STEP,
      state: 'Pending',
      instructions: 'Tell the trading desk that 1.4.2 goes live.\n',
      responsibleTeams: ['release-managers'],
      assignee: null,
      notes: null,
      decidedAt: null,
      timeoutAt: null,
    });
    expect(view.interruptions[0]!.id).toMatch(/\S/);
    expect(view.timeline).toEqual([]);

    expect(await describeSearchAttributes(handle)).toEqual({ status: 'Waiting', waitingFor: ['release-managers'], assignee: undefined });
    expect(await currentDetails(handle)).toBe(`Waiting: ${STEP} — for release-managers to take responsibility`);

    await take(handle, people.jjones);
    expect(await describeSearchAttributes(handle)).toEqual({ status: 'Waiting', waitingFor: ['release-managers'], assignee: 'jjones' });
    expect(await currentDetails(handle)).toBe(`Waiting: ${STEP} — assigned to jjones`);
    await handle.terminate('test done');
  });

  it('skips a manual step outside its environments and never waits', async () => {
    // The sign-off step cannot name the skipped step's outputs in qa: they are never set there.
    const handle = await start(deploymentInput(traderProcess({ signOff: 'echo "signed off #{Release}"' }), { environment: 'qa' }));
    const view = await finalView(handle);
    expect(view.status).toBe('Succeeded');
    expect(view.steps.map((s) => s.status)).toEqual(['Succeeded', 'Skipped', 'Succeeded']);
    expect(view.steps[2]!.log).toBe('signed off 1.4.2\n');
    expect(view.steps[1]!.log).toContain('runs only in production');
    expect(view.interruptions).toEqual([]);
    expect(view.timeline).toEqual([]);
  });
});

describe('proceed and abort through updates', () => {
  it('proceeds: the deployment runs on, the next step sees the notes, and every output variable is set', async () => {
    const handle = await start(deploymentInput(traderProcess()));
    const { interruptions: [opened] } = await waitingAtManualStep(handle);

    const taken = await take(handle, people.jjones, { interruptionId: opened!.id });
    expect(taken).toMatchObject({
      id: opened!.id,
      state: 'Assigned',
      assignee: { id: 'users-237', username: 'jjones', displayName: 'Jamie Jones', email: 'jamie.jones@example.com' },
    });
    expect((await handle.query(stateQuery)).interruptions[0]!.state).toBe('Assigned');

    const proceeded = await handle.executeUpdate(proceedUpdate, { args: [{ user: people.jjones, interruptionId: opened!.id, notes: NOTES }] });
    expect(proceeded).toMatchObject({ state: 'Proceeded', notes: NOTES });

    const view = await finalView(handle);
    expect(view.status).toBe('Succeeded');
    expect(view.steps.map((s) => s.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    expect(view.steps[1]!.log).toBe(`Proceeded by Jamie Jones (jjones).\nNotes: ${NOTES}`);
    expect(view.steps[2]!.log).toBe(`${NOTES}\n`);
    expect(view.interruptions[0]).toMatchObject({ state: 'Proceeded', notes: NOTES, assignee: { username: 'jjones' } });
    expect(view.interruptions[0]!.decidedAt).not.toBeNull();
    expect(view.variables).toMatchObject({
      [`${OUTPUT}.Notes`]: NOTES,
      [`${OUTPUT}.ResponsibleUser.Id`]: 'users-237',
      [`${OUTPUT}.ResponsibleUser.Username`]: 'jjones',
      [`${OUTPUT}.ResponsibleUser.DisplayName`]: 'Jamie Jones',
      [`${OUTPUT}.ResponsibleUser.EmailAddress`]: 'jamie.jones@example.com',
      [`${OUTPUT}.Result`]: 'Proceed',
      [`${OUTPUT}.Approved`]: 'True',
    });
    expect(view.timeline).toEqual([
      expect.objectContaining({ user: 'jjones', action: 'takeResponsibility', result: 'accepted', interruption: opened!.id, via: 'update' }),
      expect.objectContaining({ user: 'jjones', action: 'proceed', result: 'accepted', interruption: opened!.id, via: 'update' }),
    ]);
    expect(view.timeline.every((entry) => !Number.isNaN(Date.parse(entry.at)))).toBe(true);
    expect(await describeSearchAttributes(handle)).toEqual({ status: 'Succeeded', waitingFor: undefined, assignee: undefined });
  });

  it('aborts: the deployment ends Aborted, later steps are skipped, and the outputs say so', async () => {
    const handle = await start(deploymentInput(traderProcess()));
    await waitingAtManualStep(handle);
    await take(handle, people.jjones);
    const aborted = await handle.executeUpdate(abortUpdate, { args: [{ user: people.jjones, notes: 'Trading desk says no.' }] });
    expect(aborted.state).toBe('Aborted');

    const failure = await handle.result().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('DeploymentAborted');
    const view = cause.details?.[0] as DeploymentView;

    expect(view.status).toBe('Aborted');
    expect(view.finishedAt).not.toBeNull();
    expect(view.steps.map((s) => s.status)).toEqual(['Succeeded', 'Aborted', 'Skipped']);
    expect(view.steps[1]!.log).toBe('Aborted by Jamie Jones (jjones).\nNotes: Trading desk says no.');
    expect(view.steps[2]!.log).toContain('aborted');
    expect(view.interruptions[0]).toMatchObject({ state: 'Aborted', notes: 'Trading desk says no.' });
    expect(view.variables).toMatchObject({
      [`${OUTPUT}.Notes`]: 'Trading desk says no.',
      [`${OUTPUT}.ResponsibleUser.Username`]: 'jjones',
      [`${OUTPUT}.Result`]: 'Abort',
      [`${OUTPUT}.Approved`]: 'False',
    });
    expect(lastEntry(view)).toMatchObject({ user: 'jjones', action: 'abort', result: 'accepted' });
    expect(await describeSearchAttributes(handle)).toEqual({ status: 'Aborted', waitingFor: undefined, assignee: undefined });
  });

  it('after an abort stays Running, its outcome Aborted, until the failure and always steps have ended; only then Aborted and finished', async () => {
    const go = join(mkdtempSync(join(tmpdir(), 'interlock-abort-')), 'go');
    const handle = await start(deploymentInput(`
- { name: Deploy, type: script, run: 'echo deployed' }
- { name: Sign off, type: manual, responsibleTeams: [release-managers] }
- { name: Smoke test, type: script, run: 'echo never' }
- { name: Notify on abort, type: script, runCondition: failure, run: 'while [ ! -e ${go} ]; do sleep 0.05; done; echo told the desk' }
- { name: Clean up, type: script, runCondition: always, run: 'echo cleaned' }
`));
    await waitingAtManualStep(handle);
    await take(handle, people.jjones);
    await handle.executeUpdate(abortUpdate, { args: [{ user: people.jjones, notes: 'not today' }] });

    const meanwhile = await untilView(handle, (view) => view.steps[3]!.status === 'Running', 'the failure step to run');
    expect(meanwhile).toMatchObject({ status: 'Running', outcome: 'Aborted', finishedAt: null });
    expect(meanwhile.steps.map((s) => s.status)).toEqual(['Succeeded', 'Aborted', 'Skipped', 'Running', 'Pending']);
    expect(await describeSearchAttributes(handle)).toMatchObject({ status: 'Running' });
    expect(await currentDetails(handle)).toBe('Running: Notify on abort (runCondition: failure); then it ends Aborted');

    writeFileSync(go, '');
    const failure = await handle.result().catch((error: unknown) => error);
    const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toMatchObject({ type: 'DeploymentAborted', message: 'Deployment aborted at Sign off' });
    const view = cause.details?.[0] as DeploymentView;
    expect(view).toMatchObject({ status: 'Aborted', outcome: 'Aborted' });
    expect(view.steps.map((s) => s.status)).toEqual(['Succeeded', 'Aborted', 'Skipped', 'Succeeded', 'Succeeded']);
    expect(view.finishedAt! >= view.steps[4]!.finishedAt!).toBe(true);
    expect(await describeSearchAttributes(handle)).toMatchObject({ status: 'Aborted' });
  });

  it('succeeds when the manual step is the last step', async () => {
    const handle = await start(deploymentInput(`
- name: ${STEP}
  type: manual
  responsibleTeams: [release-managers]
`));
    await waitingAtManualStep(handle);
    await take(handle, people.jjones);
    await handle.executeUpdate(proceedUpdate, { args: [{ user: people.jjones }] });
    const view = await finalView(handle);
    expect(view.status).toBe('Succeeded');
    expect(view.steps.map((s) => s.status)).toEqual(['Succeeded']);
    expect(view.variables[`${OUTPUT}.Notes`]).toBe('');
    expect(await describeSearchAttributes(handle)).toMatchObject({ status: 'Succeeded' });
  });

  it('lets any deployer (and not a viewer) take a step that names no team', async () => {
    const handle = await start(deploymentInput(`
- { name: ${STEP}, type: manual }
`));
    const view = await waitingAtManualStep(handle);
    expect(await describeSearchAttributes(handle)).toMatchObject({ waitingFor: ['deployers'] });
    expect((await refusal(take(handle, people.viewer))).type).toBe('NOT_IN_TEAM');
    expect(await take(handle, people.outsider)).toMatchObject({ state: 'Assigned', assignee: { username: 'otto' } });
    await handle.executeUpdate(proceedUpdate, { args: [{ user: people.outsider, interruptionId: view.interruptions[0]!.id }] });
    expect((await finalView(handle)).status).toBe('Succeeded');
  });
});

describe('refusals through updates', () => {
  it('refuses each action that is not allowed, records it in the timeline, and changes nothing', async () => {
    const handle = await start(deploymentInput(traderProcess()));
    const { interruptions: [opened] } = await waitingAtManualStep(handle);
    const id = opened!.id;

    await refusal(take(handle, people.outsider), 'NOT_IN_TEAM', 'release-managers');
    await refusal(handle.executeUpdate(proceedUpdate, { args: [{ user: people.jjones, notes: NOTES }] }), 'NOT_TAKEN', 'take responsibility first');

    let view = await handle.query(stateQuery);
    expect(view.interruptions[0]).toMatchObject({ state: 'Pending', assignee: null, notes: null });

    await take(handle, people.jjones);
    const again = await take(handle, people.jjones);
    expect(again).toMatchObject({ state: 'Assigned', assignee: { username: 'jjones' } });

    await refusal(take(handle, people.mlee), 'HELD_BY_OTHER', 'Jamie Jones (jjones)');
    await refusal(handle.executeUpdate(abortUpdate, { args: [{ user: people.mlee, interruptionId: id }] }), 'NOT_ASSIGNEE', 'Jamie Jones (jjones)');
    await refusal(handle.executeUpdate(proceedUpdate, { args: [{ user: people.outsider }] }), 'NOT_IN_TEAM');
    await refusal(handle.executeUpdate(proceedUpdate, { args: [{ user: people.jjones, interruptionId: 'no-such-id' }] }), 'INTERRUPTION_NOT_FOUND', 'no-such-id');
    await refusal(handle.executeUpdate(proceedUpdate, { args: [{ user: people.jjones, notes: 'x'.repeat(4001) }] }), 'BAD_REQUEST');

    view = await handle.query(stateQuery);
    expect(view.status).toBe('Waiting');
    expect(view.interruptions[0]).toMatchObject({ state: 'Assigned', assignee: { username: 'jjones' }, notes: null });
    expect(view.timeline.map(({ user, action, result }) => [user, action, result])).toEqual([
      ['otto', 'takeResponsibility', 'refused'],
      ['jjones', 'proceed', 'refused'],
      ['jjones', 'takeResponsibility', 'accepted'],
      ['jjones', 'takeResponsibility', 'accepted'],
      ['mlee', 'takeResponsibility', 'refused'],
      ['mlee', 'abort', 'refused'],
      ['otto', 'proceed', 'refused'],
      ['jjones', 'proceed', 'refused'],
    ]);
    expect(view.timeline[0]!.reason).toMatch(/^NOT_IN_TEAM: /);
    expect(view.timeline[1]!.reason).toMatch(/^NOT_TAKEN: /);
    expect(view.timeline[3]!.reason).toBe('already responsible; nothing changed');
    expect(view.timeline[4]!.reason).toMatch(/^HELD_BY_OTHER: .*Jamie Jones \(jjones\)/);
    expect(view.timeline[5]!.reason).toMatch(/^NOT_ASSIGNEE: /);
    expect(view.timeline[6]!.reason).toMatch(/^NOT_IN_TEAM: /);
    expect(view.timeline[7]!.reason).toMatch(/^INTERRUPTION_NOT_FOUND: /);

    const takenOver = await take(handle, people.mlee, { takeOver: true });
    expect(takenOver).toMatchObject({ state: 'Assigned', assignee: { username: 'mlee', displayName: 'Morgan Lee' } });
    view = await handle.query(stateQuery);
    expect(lastEntry(view)).toMatchObject({ user: 'mlee', action: 'takeResponsibility', result: 'accepted', reason: 'took over from jjones' });
    expect(await describeSearchAttributes(handle)).toMatchObject({ assignee: 'mlee' });

    expect((await refusal(handle.executeUpdate(proceedUpdate, { args: [{ user: people.jjones }] }))).type).toBe('NOT_ASSIGNEE');
    await handle.executeUpdate(proceedUpdate, { args: [{ user: people.mlee, notes: 'Took it over; all clear.' }] });
    const final = await finalView(handle);
    expect(final.status).toBe('Succeeded');
    expect(final.variables).toMatchObject({
      [`${OUTPUT}.ResponsibleUser.Username`]: 'mlee',
      [`${OUTPUT}.ResponsibleUser.EmailAddress`]: 'morgan.lee@example.com',
      [`${OUTPUT}.Notes`]: 'Took it over; all clear.',
    });
  });

  it('refuses a decision on an interruption that was already decided', async () => {
    const handle = await start(deploymentInput(traderProcess({
      after: `
- name: Confirm with operations
  type: manual
  responsibleTeams: [release-managers]`,
    })));
    const { interruptions: [first] } = await waitingAtManualStep(handle);
    await take(handle, people.jjones);
    await handle.executeUpdate(proceedUpdate, { args: [{ user: people.jjones, notes: NOTES }] });
    await untilView(handle, (view) => view.interruptions.length === 2, 'the second interruption');

    const decided = await refusal(handle.executeUpdate(abortUpdate, { args: [{ user: people.jjones, interruptionId: first!.id }] }));
    expect(decided.type).toBe('ALREADY_DECIDED');
    expect(decided.message).toContain('Proceeded by Jamie Jones (jjones)');
    const view = await handle.query(stateQuery);
    expect(view.interruptions.map((i) => i.state)).toEqual(['Proceeded', 'Pending']);
    expect(lastEntry(view)).toMatchObject({ user: 'jjones', action: 'abort', result: 'refused', interruption: first!.id });
    expect(lastEntry(view).reason).toMatch(/^ALREADY_DECIDED: /);
    await handle.terminate('test done');
  });

  it('rejects malformed update payloads in the validator, leaving no trace', async () => {
    const handle = await start(deploymentInput(traderProcess()));
    await waitingAtManualStep(handle);
    for (const attempt of [
      () => handle.executeUpdate(takeResponsibilityUpdate, { args: [{} as never] }),
      () => handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: { username: 'jjones' } } as never] }),
      () => handle.executeUpdate(proceedUpdate, { args: [{ user: people.jjones, notes: 42 } as never] }),
      () => handle.executeUpdate(abortUpdate, { args: [{ user: people.jjones, expiresAt: 'tomorrow' }] }),
    ]) {
      const rejected = await refusal(attempt());
      expect(rejected.type).toBe('BAD_REQUEST');
      expect(rejected.message).toMatch(/^Invalid request: /);
    }
    const view = await handle.query(stateQuery);
    expect(view.interruptions[0]).toMatchObject({ state: 'Pending', assignee: null });
    expect(view.timeline).toEqual([]);
    await handle.terminate('test done');
  });

  it('reads a user sent without teams or roles as having none', async () => {
    const handle = await start(deploymentInput(traderProcess()));
    await waitingAtManualStep(handle);
    const { id, username, displayName } = people.jjones;
    const refused = await refusal(handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: { id, username, displayName } as never }] }));
    expect(refused.type).toBe('NOT_IN_TEAM');
    expect((await handle.query(stateQuery)).interruptions[0]!.state).toBe('Pending');
    await handle.terminate('test done');
  });

  it('refuses an expired request and changes nothing, but honours one still in time', async () => {
    const handle = await start(deploymentInput(traderProcess()));
    await waitingAtManualStep(handle);
    const past = new Date(Date.now() - 60_000).toISOString();
    const expired = await refusal(handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: people.jjones, expiresAt: past }] }));
    expect(expired.type).toBe('EXPIRED');
    let view = await handle.query(stateQuery);
    expect(view.interruptions[0]).toMatchObject({ state: 'Pending', assignee: null });
    expect(lastEntry(view)).toMatchObject({ user: 'jjones', action: 'takeResponsibility', result: 'refused' });
    expect(lastEntry(view).reason).toMatch(/^EXPIRED: /);

    // The server's clock, not ours: time skipping may have moved it ahead.
    const future = new Date((await environment().currentTimeMs()) + 3_600_000).toISOString();
    await take(handle, people.jjones, {});
    const proceeded = await handle.executeUpdate(proceedUpdate, { args: [{ user: people.jjones, expiresAt: future }] });
    expect(proceeded.state).toBe('Proceeded');
    view = await finalView(handle);
    expect(view.status).toBe('Succeeded');
  });
});

describe('signals (operators in Temporal Web)', () => {
  it('takes responsibility and proceeds by signal, the open interruption implied', async () => {
    const handle = await start(deploymentInput(traderProcess()));
    await waitingAtManualStep(handle);

    await handle.signal(takeResponsibilitySignal, { user: people.jjones });
    await untilView(handle, (view) => view.interruptions[0]!.state === 'Assigned', 'the signal to assign jjones');
    await handle.signal(proceedSignal, { user: people.jjones, notes: NOTES });

    const view = await finalView(handle);
    expect(view.status).toBe('Succeeded');
    expect(view.steps[2]!.log).toBe(`${NOTES}\n`);
    expect(view.variables).toMatchObject({ [`${OUTPUT}.Result`]: 'Proceed', [`${OUTPUT}.Approved`]: 'True', [`${OUTPUT}.Notes`]: NOTES });
    expect(view.timeline).toEqual([
      expect.objectContaining({ user: 'jjones', action: 'takeResponsibility', result: 'accepted', via: 'signal' }),
      expect.objectContaining({ user: 'jjones', action: 'proceed', result: 'accepted', via: 'signal' }),
    ]);
  });

  it('aborts by signal', async () => {
    const handle = await start(deploymentInput(traderProcess()));
    await waitingAtManualStep(handle);
    await handle.signal(takeResponsibilitySignal, { user: people.jjones });
    await handle.signal(abortSignal, { user: people.jjones });
    const view = await finalView(handle);
    expect(view.status).toBe('Aborted');
    expect(view.steps.map((s) => s.status)).toEqual(['Succeeded', 'Aborted', 'Skipped']);
  });

  it('records a refused or malformed signal in the timeline and changes nothing else', async () => {
    const handle = await start(deploymentInput(traderProcess()));
    const before = await waitingAtManualStep(handle);

    await handle.signal(takeResponsibilitySignal, { user: people.outsider });
    let view = await untilView(handle, (v) => v.timeline.length === 1, 'the refused signal in the timeline');
    expect(view.timeline[0]).toMatchObject({ user: 'otto', action: 'takeResponsibility', result: 'refused', via: 'signal' });
    expect(view.timeline[0]!.reason).toMatch(/^NOT_IN_TEAM: /);
    expect(view.interruptions).toEqual(before.interruptions);
    expect(view.status).toBe('Waiting');

    await handle.signal(takeResponsibilitySignal, {} as never);
    await handle.signal(proceedSignal, { user: { username: 'jjones' } } as never);
    view = await untilView(handle, (v) => v.timeline.length === 3, 'the malformed signals in the timeline');
    expect(view.timeline.slice(1)).toEqual([
      expect.objectContaining({ user: 'unknown', action: 'takeResponsibility', result: 'refused', via: 'signal' }),
      expect.objectContaining({ user: 'jjones', action: 'proceed', result: 'refused', via: 'signal' }),
    ]);
    expect(view.timeline[1]!.reason).toMatch(/^BAD_REQUEST: /);
    expect(view.interruptions).toEqual(before.interruptions);
    expect(view.steps).toEqual(before.steps);
    expect(view.variables).toEqual(before.variables);
    expect(await describeSearchAttributes(handle)).toEqual({ status: 'Waiting', waitingFor: ['release-managers'], assignee: undefined });
    await handle.terminate('test done');
  });
});

describe('the timeout', () => {
  it('aborts the deployment after 72 hours with nobody deciding', async () => {
    const handle = await start(deploymentInput(traderProcess({ manual: 'timeout: 72h' })));
    const waiting = await waitingAtManualStep(handle);
    const { createdAt, timeoutAt } = waiting.interruptions[0]!;
    expect(Date.parse(timeoutAt!) - Date.parse(createdAt)).toBe(72 * 3_600_000);

    const view = await finalView(handle);
    expect(view.status).toBe('Aborted');
    expect(view.steps.map((s) => s.status)).toEqual(['Succeeded', 'Aborted', 'Skipped']);
    expect(view.steps[1]!.log).toContain('Timed out');
    expect(view.interruptions[0]!.state).toBe('TimedOut');
    expect(Date.parse(view.interruptions[0]!.decidedAt!)).toBeGreaterThanOrEqual(Date.parse(timeoutAt!));
    expect(view.variables).toMatchObject({
      [`${OUTPUT}.Notes`]: '',
      [`${OUTPUT}.ResponsibleUser.Username`]: '',
      [`${OUTPUT}.Result`]: 'TimedOut',
      [`${OUTPUT}.Approved`]: 'False',
    });
    expect(lastEntry(view)).toMatchObject({ user: 'system', action: 'timeout', result: 'accepted', interruption: waiting.interruptions[0]!.id });
  });

  it('proceeds after 72 hours with onTimeout: proceed, keeping whoever had taken it', async () => {
    const handle = await start(deploymentInput(traderProcess({ manual: 'timeout: 72h\nonTimeout: proceed' })));
    await waitingAtManualStep(handle);
    await take(handle, people.jjones);

    const view = await finalView(handle);
    expect(view.status).toBe('Succeeded');
    expect(view.steps.map((s) => s.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    expect(view.steps[2]!.log).toBe('\n');
    expect(view.interruptions[0]!.state).toBe('TimedOut');
    expect(view.variables).toMatchObject({
      [`${OUTPUT}.Notes`]: '',
      [`${OUTPUT}.ResponsibleUser.Username`]: 'jjones',
      [`${OUTPUT}.Result`]: 'TimedOut',
      [`${OUTPUT}.Approved`]: 'True',
    });
    expect(view.timeline).toEqual([
      expect.objectContaining({ user: 'jjones', action: 'takeResponsibility', result: 'accepted' }),
      expect.objectContaining({ user: 'system', action: 'timeout', result: 'accepted' }),
    ]);
  });

  it('does not fire once someone has decided', async () => {
    const handle = await start(deploymentInput(traderProcess({ manual: 'timeout: 72h' })));
    await waitingAtManualStep(handle);
    await take(handle, people.jjones);
    await handle.executeUpdate(proceedUpdate, { args: [{ user: people.jjones, notes: NOTES }] });
    const view = await finalView(handle);
    expect(view.status).toBe('Succeeded');
    expect(view.variables[`${OUTPUT}.Result`]).toBe('Proceed');
    expect(view.timeline.some((entry) => entry.action === 'timeout')).toBe(false);
  });
});
