import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import {
  abortUpdate,
  type Actor,
  type DeploymentInput,
  type DeploymentView,
  proceedSignal,
  proceedUpdate,
  searchAttributes,
  takeResponsibilitySignal,
  takeResponsibilityUpdate,
} from '../../workflows/messages.js';
import { deploymentInput, finalView, people, refusal, useTimeSkippingWorker } from '../support/workflows.js';
import { untilView } from '../support/fixtures.js';

// docs/manual-steps.md#approval-rules and #approver-inputs, in the workflow: rules met by people in
// turn, ordered, distinctPeople, admins, no self-approval, a decline; inputs checked by the update's
// validator and by the signal's handler, and the outputs they become.

const taskQueue = 'approval-rules-workflow-test';
const environment = useTimeSkippingWorker(taskQueue);

const { jjones, mlee, outsider: otto, admin, viewer } = people;
const roster: Actor[] = [jjones, mlee, otto, admin, viewer];
const STEP = 'Sign-off';

/** A process with one manual step of two rules (1 from release-managers, 1 from dba) and `options`, then a script that reads its outputs. */
function process(options = '', after = `echo "approvers=#{Action[${STEP}].Output.Manual.Approvers}"`): string {
  return `
- name: ${STEP}
  type: manual
  instructions: 'Sign off #{Release}.'
  rules: [{ teams: [release-managers], count: 1 }, { teams: [dba], count: 1 }]
${options.trim() ? `${options.trim().replace(/^/gm, '  ')}\n` : ''}- { name: After, type: script, run: '${after}' }
`;
}

async function start(input: DeploymentInput): Promise<WorkflowHandle> {
  const handle = await environment().client.workflow.start('deployment', { args: [input], taskQueue, workflowId: input.id });
  await untilView(handle, (view) => view.status === 'Waiting', 'the deployment to wait at the sign-off');
  return handle;
}

const take = (handle: WorkflowHandle, user: Actor, extra: { takeOver?: boolean } = {}) => handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user, ...extra }] });
const proceed = (handle: WorkflowHandle, user: Actor, extra: { notes?: string; inputs?: Record<string, string | boolean> } = {}) =>
  handle.executeUpdate(proceedUpdate, { args: [{ user, ...extra }] });
async function approve(handle: WorkflowHandle, user: Actor, extra: { notes?: string; inputs?: Record<string, string | boolean> } = {}) {
  await take(handle, user);
  return proceed(handle, user, extra);
}


const waitingFor = async (handle: WorkflowHandle) => (await handle.describe()).typedSearchAttributes.get(searchAttributes.waitingFor);
const interruptionOf = (view: DeploymentView) => view.interruptions[0]!;

describe('a manual step with two rules', () => {
  it('waits for both, shows each rule\'s progress and who may still approve, and names both approvers in its outputs', async () => {
    const handle = await start(deploymentInput(process(), { roster }));
    let view = await handle.query<DeploymentView>('state');
    expect(interruptionOf(view)).toMatchObject({
      state: 'Pending',
      responsibleTeams: ['release-managers', 'dba'],
      rules: [{ teams: ['release-managers'], count: 1, approvals: [], met: false }, { teams: ['dba'], count: 1, approvals: [], met: false }],
      remaining: { rules: [{ rule: 0, teams: ['release-managers'], needed: 1 }, { rule: 1, teams: ['dba'], needed: 1 }], mayApprove: ['jjones', 'mlee', 'otto'] },
    });
    expect(await waitingFor(handle)).toEqual(['release-managers', 'dba']);

    const first = await approve(handle, jjones, { notes: 'desk told' });
    expect(first).toMatchObject({ state: 'Pending', assignee: null, remaining: { rules: [{ rule: 1, teams: ['dba'], needed: 1 }], mayApprove: ['otto'] } });
    expect(first.rules!.map((rule) => rule.met)).toEqual([true, false]);
    expect(await waitingFor(handle)).toEqual(['dba']);
    expect((await refusal(take(handle, mlee))).type).toBe('RULE_ALREADY_MET');
    expect((await refusal(take(handle, jjones))).type).toBe('ALREADY_APPROVED');

    const last = await approve(handle, otto, { notes: 'no migrations pending' });
    expect(last).toMatchObject({ state: 'Proceeded', notes: 'no migrations pending' });
    expect(last.remaining).toBeUndefined();
    view = await finalView(handle);
    expect(view.status).toBe('Succeeded');
    expect(view.variables).toMatchObject({
      [`Action[${STEP}].Output.Manual.Approvers`]: 'jjones,otto',
      [`Action[${STEP}].Output.Manual.ResponsibleUser.Username`]: 'otto',
      [`Action[${STEP}].Output.Manual.Notes`]: 'no migrations pending',
      [`Action[${STEP}].Output.Manual.Result`]: 'Proceed',
    });
    expect(view.steps[1]!.log).toBe('approvers=jjones,otto\n');
    expect(view.timeline.filter((entry) => entry.action === 'proceed').map((entry) => entry.reason)).toEqual([
      'approval 1: counts toward 1 from release-managers (now met); still to meet: 1 from dba',
      'approval 2: counts toward 1 from dba (now met); every rule is met',
    ]);
    expect(view.timeline.filter((entry) => entry.result === 'refused').map((entry) => entry.reason?.split(':')[0])).toEqual(['RULE_ALREADY_MET', 'ALREADY_APPROVED']);
  });

  it('with ordered: the dba rule waits for the release-managers one, by update and by signal', async () => {
    const handle = await start(deploymentInput(process('ordered: true'), { roster }));
    expect(await waitingFor(handle)).toEqual(['release-managers']);
    expect(interruptionOf(await handle.query<DeploymentView>('state')).remaining?.mayApprove).toEqual(['jjones', 'mlee']);
    const early = await refusal(take(handle, otto));
    expect(early.type).toBe('NOT_YOUR_TURN');
    expect(early.message).toContain('takes its approvals in order: 1 from release-managers first');
    await handle.signal(takeResponsibilitySignal, { user: otto });
    await untilView(handle, (view) => view.timeline.some((entry) => entry.via === 'signal' && entry.reason?.startsWith('NOT_YOUR_TURN') === true));

    await approve(handle, mlee);
    expect(await waitingFor(handle)).toEqual(['dba']);
    await approve(handle, otto);
    expect((await finalView(handle)).status).toBe('Succeeded');
  });

  it('an admin alone meets both rules; with distinctPeople, only the first', async () => {
    const alone = await start(deploymentInput(process(), { roster }));
    expect((await approve(alone, admin)).state).toBe('Proceeded');
    expect((await finalView(alone)).variables[`Action[${STEP}].Output.Manual.Approvers`]).toBe('root');

    const distinct = await start(deploymentInput(process('distinctPeople: true'), { roster }));
    const first = await approve(distinct, admin);
    expect(first.rules!.map((rule) => [rule.met, rule.approvals.map((a) => a.user.username)])).toEqual([[true, ['root']], [false, []]]);
    expect((await refusal(take(distinct, admin))).type).toBe('ALREADY_APPROVED');
    await approve(distinct, otto);
    expect((await finalView(distinct)).variables[`Action[${STEP}].Output.Manual.Approvers`]).toBe('root,otto');
  });

  it('with preventSelfApproval, whoever triggered approves no rule and is not among who may approve', async () => {
    const handle = await start(deploymentInput(process('preventSelfApproval: true'), { roster, triggeredBy: { id: jjones.id, username: jjones.username, displayName: jjones.displayName } }));
    expect(interruptionOf(await handle.query<DeploymentView>('state')).remaining?.mayApprove).toEqual(['mlee', 'otto']);
    expect((await refusal(take(handle, jjones))).type).toBe('SELF_APPROVAL');
    await approve(handle, mlee);
    await approve(handle, otto);
    expect((await finalView(handle)).status).toBe('Succeeded');
  });

  it('one decline ends it, whatever was approved before; the later step is skipped', async () => {
    const handle = await start(deploymentInput(process(), { roster }));
    await approve(handle, jjones);
    await take(handle, otto);
    expect((await handle.executeUpdate(abortUpdate, { args: [{ user: otto, notes: 'the migration is not reversible' }] })).state).toBe('Aborted');
    const view = await finalView(handle);
    expect(view.status).toBe('Aborted');
    expect(view.steps.map((step) => step.status)).toEqual(['Aborted', 'Skipped']);
    expect(view.variables[`Action[${STEP}].Output.Manual.Approvers`]).toBe('jjones');
  });
});

describe('approver inputs', () => {
  const INPUTS = `inputs:
  - { name: risk, type: choice, options: [low, medium, high], required: true }
  - { name: ticket, type: text, pattern: 'CHG-[0-9]+' }
  - { name: backupTaken, type: boolean, required: true }`;
  const after = `echo "risk=#{Action[${STEP}].Output.Manual.Input.risk} ticket=#{Octopus.Action[${STEP}].Output.Manual.Input.ticket} backup=#{Action[${STEP}].Output.Manual.Input.backupTaken}"`;
  const single = (options: string) => `
- name: ${STEP}
  type: manual
  responsibleTeams: [release-managers]
${options.trim().replace(/^/gm, '  ')}
- { name: After, type: script, run: '${after}' }
`;

  it('refuses bad inputs before the update is accepted (no trace) and by signal (recorded); the good ones become outputs under both names', async () => {
    const handle = await start(deploymentInput(single(INPUTS), { roster }));
    const opened = interruptionOf(await handle.query<DeploymentView>('state'));
    expect(opened.inputs).toEqual([
      { name: 'risk', type: 'choice', options: ['low', 'medium', 'high'], required: true },
      { name: 'ticket', type: 'text', pattern: 'CHG-[0-9]+' },
      { name: 'backupTaken', type: 'boolean', required: true },
    ]);
    await take(handle, jjones);
    const accepted = async () => (await handle.fetchHistory()).events?.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes).length;
    const before = await accepted();
    const bad = await refusal(proceed(handle, jjones, { inputs: { risk: 'none', ticket: 'JIRA-1' } }));
    expect(bad.type).toBe('INVALID_INPUTS');
    expect(bad.message).toBe('Invalid inputs: risk: expected one of low, medium, high, not "none"; ticket: "JIRA-1" does not match CHG-[0-9]+; backupTaken: required: it must be true to proceed.');
    // The validator refused it: never accepted, so no trace in the history or the timeline.
    expect(await accepted()).toBe(before);
    expect((await handle.query<DeploymentView>('state')).timeline.filter((entry) => entry.result === 'refused')).toEqual([]);
    expect((await refusal(handle.executeUpdate(abortUpdate, { args: [{ user: jjones, inputs: { risk: 'low' } }] }))).type).toBe('INVALID_INPUTS');

    await handle.signal(proceedSignal, { user: jjones, inputs: { risk: 'low' } });
    await untilView(handle, (view) => view.timeline.some((entry) => entry.via === 'signal' && entry.reason?.startsWith('INVALID_INPUTS: Invalid inputs: backupTaken') === true));
    expect(interruptionOf(await handle.query<DeploymentView>('state')).state).toBe('Assigned');

    const done = await proceed(handle, jjones, { notes: 'fine', inputs: { risk: 'low', ticket: 'CHG-42', backupTaken: true } });
    expect(done).toMatchObject({ state: 'Proceeded', inputValues: { risk: 'low', ticket: 'CHG-42', backupTaken: true } });
    const view = await finalView(handle);
    expect(view.status).toBe('Succeeded');
    expect(view.variables).toMatchObject({
      [`Action[${STEP}].Output.Manual.Input.risk`]: 'low',
      [`Octopus.Action[${STEP}].Output.Manual.Input.risk`]: 'low',
      [`Action[${STEP}].Output.Manual.Input.ticket`]: 'CHG-42',
      [`Action[${STEP}].Output.Manual.Input.backupTaken`]: 'True',
    });
    expect(view.steps[0]!.log).toBe(`Proceeded by Jamie Jones (jjones).\nNotes: fine\nInputs: risk="low", ticket="CHG-42", backupTaken=true`);
    expect(view.steps[1]!.log).toBe('risk=low ticket=CHG-42 backup=True\n');
    expect(view.timeline.find((entry) => entry.action === 'proceed' && entry.result === 'accepted')?.reason).toBe('inputs: risk="low", ticket="CHG-42", backupTaken=true');
  });

  it('with several approvers, the proceed that completes it gives the outputs; each approval keeps its own', async () => {
    const handle = await start(deploymentInput(process(INPUTS, after), { roster }));
    const first = await approve(handle, jjones, { inputs: { risk: 'medium', backupTaken: true } });
    expect(first.approvals).toMatchObject([{ user: { username: 'jjones' }, inputValues: { risk: 'medium', backupTaken: true } }]);
    await approve(handle, otto, { inputs: { risk: 'high', ticket: 'CHG-7', backupTaken: true } });
    const view = await finalView(handle);
    expect(view.steps[1]!.log).toBe('risk=high ticket=CHG-7 backup=True\n');
    expect(view.timeline.filter((entry) => entry.action === 'proceed').map((entry) => entry.reason)).toEqual([
      'approval 1: counts toward 1 from release-managers (now met); still to meet: 1 from dba; inputs: risk="medium", backupTaken=true',
      'approval 2: counts toward 1 from dba (now met); every rule is met; inputs: risk="high", ticket="CHG-7", backupTaken=true',
    ]);
  });

  it('an approval step takes rules and inputs too; a declined one leaves its inputs empty', async () => {
    const approval = `
- name: ${STEP}
  type: approval
  rules: [{ teams: [release-managers], count: 1 }, { teams: [dba], count: 1 }]
  inputs: [{ name: risk, type: choice, options: [low, high] }]
- { name: After, type: script, runCondition: always, run: 'echo "risk=[#{Action[${STEP}].Output.Manual.Input.risk}]"' }
`;
    const approved = await start(deploymentInput(approval, { roster }));
    expect(interruptionOf(await approved.query<DeploymentView>('state'))).toMatchObject({ kind: 'Approval', rules: [{ met: false }, { met: false }] });
    await approve(approved, jjones);
    await approve(approved, otto, { inputs: { risk: 'low' } });
    const view = await finalView(approved);
    expect(view.steps.map((step) => [step.status, step.result ?? null])).toEqual([['Succeeded', 'pass'], ['Succeeded', null]]);
    expect(view.steps[1]!.log).toBe('risk=[low]\n');

    const declined = await start(deploymentInput(approval, { roster }));
    await take(declined, otto);
    await declined.executeUpdate(abortUpdate, { args: [{ user: otto }] });
    const ended = await finalView(declined);
    expect(ended.status).toBe('Aborted');
    expect(ended.steps[1]!.log).toBe('risk=[]\n');
  });
});
