import { describe, expect, it } from 'vitest';
import { createApp } from '../../app.js';
import { apiClient, ok, type OpenInterruption, problem, type Who } from '../support/api.js';
import { until } from '../support/poll.js';
import { helloService, project, traderProcess, TRADERS_STEP } from '../support/fixtures.js';
import { type Action, testConfig, uniqueRelease, useStack, waitFor } from '../support/stack.js';

const STEP = TRADERS_STEP;
const NOTES = 'Checked with Rick, got the all-clear; Michelle is out at a meeting.';

// The process of docs/configuration.md, with scripts that run here.
const config = testConfig(`${helloService(traderProcess({ deploy: 'echo "deploying #{Release} to #{Environment}"' }))}
${project('no-teams', 'No teams', "- { name: Approve, type: manual, instructions: 'Any deployer may approve' }", { environments: '[production]' })}`);

const stack = useStack(config);

/** Triggers a deployment and returns it once it waits at its manual step, with the interruption's URL. */
async function waitingDeployment(project = 'hello-service') {
  const release = uniqueRelease();
  const { id } = await ok(stack.trigger({ project, environment: 'production', release }), 201);
  const view = await waitFor(stack, id, (v) => v.status === 'Waiting');
  const interruption = view.interruptions[0]!;
  const act = (action: Extract<Action, 'take-responsibility' | 'proceed' | 'abort'>, as: Who, json?: { notes?: string } | { takeOver?: boolean }) =>
    stack.act(as, action, { id, iid: interruption.id }, json);
  return { id, release, view, interruption, act };
}

describe('a deployment to production, through the API alone', () => {
  it('waits, refuses outsiders and a second member, lets the holder proceed, and carries the notes on', async () => {
    const { id, release, view, interruption, act } = await waitingDeployment();
    expect(view.steps.map((s) => s.status)).toEqual(['Succeeded', 'Waiting', 'Pending']);
    expect(interruption).toMatchObject({
      step: STEP,
      state: 'Pending',
      instructions: `Tell the trading desk that ${release} goes live.\n`,
      responsibleTeams: ['release-managers'],
      assignee: null,
    });

    const outsider = await problem(act('take-responsibility', 'vic'), 403);
    expect(outsider).toMatchObject({ code: 'NOT_IN_TEAM', detail: expect.stringContaining('release-managers') });

    const notYet = await problem(act('proceed', 'jjones', { notes: 'too early' }), 409);
    expect(notYet.code).toBe('NOT_TAKEN');
    expect(notYet.detail).toContain('take responsibility first');

    const taken = await ok(act('take-responsibility', 'jjones'));
    expect(taken).toMatchObject({ state: 'Assigned', assignee: { username: 'jjones', displayName: 'Jamie Jones' } });
    await ok(act('take-responsibility', 'jjones'));

    const second = await problem(act('take-responsibility', 'mlee', {}), 409);
    expect(second).toMatchObject({
      code: 'HELD_BY_OTHER',
      detail: 'Jamie Jones (jjones) is responsible for this step; ask them, or take it over.',
    });
    const notHolder = await problem(act('proceed', 'mlee', { notes: 'me' }), 403);
    expect(notHolder.code).toBe('NOT_ASSIGNEE');

    const waiting = await ok(stack.api().api.deployments[':id'].$get({ param: { id } }));
    expect(waiting.interruptions[0]!.assignee?.username).toBe('jjones');

    const proceeded = await ok(act('proceed', 'jjones', { notes: NOTES }));
    expect(proceeded).toMatchObject({ state: 'Proceeded', notes: NOTES });

    const again = await problem(act('proceed', 'jjones', { notes: 'twice' }), 409);
    expect(['ALREADY_DECIDED', 'NOT_WAITING']).toContain(again.code);

    const done = await waitFor(stack, id, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    expect(done.steps[2]!.log).toBe(`${NOTES}\n`);
    expect(done.variables).toMatchObject({
      [`Action[${STEP}].Output.Manual.Notes`]: NOTES,
      [`Action[${STEP}].Output.Manual.ResponsibleUser.Id`]: 'users-237',
      [`Action[${STEP}].Output.Manual.ResponsibleUser.Username`]: 'jjones',
      [`Action[${STEP}].Output.Manual.ResponsibleUser.DisplayName`]: 'Jamie Jones',
      [`Action[${STEP}].Output.Manual.ResponsibleUser.EmailAddress`]: 'jamie.jones@example.com',
      [`Action[${STEP}].Output.Manual.Result`]: 'Proceed',
      [`Action[${STEP}].Output.Manual.Approved`]: 'True',
    });
    const attempts = done.timeline.map((e) => `${e.user} ${e.action} ${e.result}`);
    // The repeated proceed may reach the workflow before it finishes (then it is recorded) or after.
    // Vic, a viewer, was refused by the API before any update (docs/manual-steps.md): the workflow never heard of it.
    expect(attempts.some((attempt) => attempt.startsWith('vic '))).toBe(false);
    expect(attempts.slice(0, 6)).toEqual([
      'jjones proceed refused',
      'jjones takeResponsibility accepted',
      'jjones takeResponsibility accepted',
      'mlee takeResponsibility refused',
      'mlee proceed refused',
      'jjones proceed accepted',
    ]);

    const finished = await problem(act('take-responsibility', 'jjones'), 409);
    expect(finished.code).toBe('NOT_WAITING');
  });

  it('lets a second member take over when they ask, and records it', async () => {
    const { id, act } = await waitingDeployment();
    await ok(act('take-responsibility', 'jjones'));
    const over = await ok(act('take-responsibility', 'mlee', { takeOver: true }));
    expect(over.assignee?.username).toBe('mlee');
    await problem(act('proceed', 'jjones'), 403);
    const view = await ok(stack.api().api.deployments[':id'].$get({ param: { id } }));
    expect(view.timeline.at(-2)).toMatchObject({ user: 'mlee', action: 'takeResponsibility', result: 'accepted', reason: 'took over from jjones' });
  });

  it('ends Aborted when the holder aborts, with later steps Skipped', async () => {
    const { id, act } = await waitingDeployment();
    await ok(act('take-responsibility', 'mlee'));
    const aborted = await ok(act('abort', 'mlee', { notes: 'Trading desk asked us to wait until Monday.' }));
    expect(aborted.state).toBe('Aborted');
    const done = await waitFor(stack, id, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Aborted');
    expect(done.steps.map((s) => s.status)).toEqual(['Succeeded', 'Aborted', 'Skipped']);
    expect(done.variables[`Action[${STEP}].Output.Manual.Result`]).toBe('Abort');
    expect(done.variables[`Action[${STEP}].Output.Manual.Approved`]).toBe('False');
  });

  it('lets an admin act, and any deployer when the step names no team', async () => {
    const admin = await waitingDeployment();
    await ok(admin.act('take-responsibility', 'admin'));
    await ok(admin.act('proceed', 'admin'));

    const open = await waitingDeployment('no-teams');
    await problem(open.act('take-responsibility', 'vic'), 403);
    await ok(open.act('take-responsibility', 'ci'));
    await ok(open.act('proceed', 'ci'));
    expect((await waitFor(stack, open.id, (v) => v.finishedAt !== null)).status).toBe('Succeeded');
  });
});

describe('many readers', () => {
  it('answers 100 simultaneous readers of one waiting deployment, sharing the reads', async () => {
    const { id } = await waitingDeployment();
    const responses = await Promise.all(Array.from({ length: 100 }, () => stack.api('vic').api.deployments[':id'].$get({ param: { id } })));
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200));
    const views = await Promise.all(responses.map((r) => ok(r)));
    expect(new Set(views.map((view) => view.status))).toEqual(new Set(['Waiting']));
  });
});

describe('editing the config', () => {
  it('never changes a deployment that is already running', async () => {
    const { id, act } = await waitingDeployment();
    // The same Interlock restarted with a new process for hello-service: the waiting one keeps its own.
    const edited = testConfig(helloService(`- { name: Something else entirely, type: script, run: 'echo v2' }`, { environments: '[production]' }));
    const restarted = createApp({ temporal: { client: stack.client, taskQueue: stack.taskQueue }, config: edited });
    const jjones = apiClient('http://localhost', 'jjones', { fetch: (input, init) => restarted.request(input, init) });
    await ok(act('take-responsibility', 'jjones'));
    const view = await ok(jjones.api.deployments[':id'].$get({ param: { id } }));
    await ok(jjones.api.deployments[':id'].interruptions[':iid'].proceed.$post({ param: { id, iid: view.interruptions[0]!.id }, json: { notes: 'still v1' } }));
    const done = await waitFor(stack, id, (v) => v.finishedAt !== null);
    expect(done.steps.map((s) => s.name)).toEqual(['Deploy', STEP, 'Record sign-off']);
    expect(done.steps[2]!.log).toBe('still v1\n');
  });
});

describe('bad requests change nothing', () => {
  it('answers 400 for notes over 4,000 characters or unknown fields, 404 for unknown ids', async () => {
    const { id, act, interruption } = await waitingDeployment();
    await ok(act('take-responsibility', 'jjones'));
    const long = await problem(act('proceed', 'jjones', { notes: 'x'.repeat(4001) }), 400);
    expect(long.errors?.[0]?.name).toBe('body.notes');
    // Bodies no client would send: raw requests.
    const url = `/api/deployments/${id}/interruptions/${interruption.id}`;
    await problem(stack.send('POST', `${url}/take-responsibility`, { body: { takeover: true } }), 400);
    const badType = await problem(stack.send('POST', `${url}/take-responsibility`, { body: { takeOver: 'yes' } }), 400);
    expect(badType.errors?.[0]?.name).toBe('body.takeOver');

    const noInterruption = await problem(stack.act('jjones', 'proceed', { id, iid: 'nope' }), 404);
    expect(noInterruption.code).toBe('INTERRUPTION_NOT_FOUND');
    await problem(stack.act('jjones', 'proceed', { id: 'x:y:z:w', iid: 'nope' }), 404);

    const view = await ok(stack.api().api.deployments[':id'].$get({ param: { id } }));
    expect(view.status).toBe('Waiting');
    expect(view.interruptions[0]).toMatchObject({ id: interruption.id, state: 'Assigned', notes: null });
  });
});

describe('GET /api/interruptions', () => {
  it('lists open interruptions, and with actionable=true only those the caller may take or submit', async () => {
    const first = await waitingDeployment();
    const second = await waitingDeployment('no-teams');
    await ok(second.act('take-responsibility', 'ci'));

    const open = (as: Who, actionable?: 'true') => ok(stack.api(as).api.interruptions.$get({ query: actionable ? { actionable } : {} })).then((page) => page.interruptions);
    const ids = (list: OpenInterruption[]) => list.map((i) => i.deployment.id);
    const of = (list: OpenInterruption[], id: string) => list.find((i) => i.deployment.id === id);
    // Visibility is eventually consistent (on a PostgreSQL cluster under load, a moment behind): wait until it shows the take.
    const all = await until(() => open('vic'), (list) => of(list, second.id)?.assignee?.username === 'ci', 'the list to show the take', { timeoutMs: 10_000, everyMs: 200 });
    expect(ids(all)).toEqual(expect.arrayContaining([first.id, second.id]));

    const forVic = await open('vic', 'true');
    expect(ids(forVic)).not.toContain(first.id);
    expect(ids(forVic)).not.toContain(second.id);

    const forJamie = await open('jjones', 'true');
    expect(of(forJamie, first.id)).toMatchObject({ step: STEP, state: 'Pending', actions: ['takeResponsibility'] });
    // jjones is a deployer, so she may take over the no-team step that ci holds.
    expect(of(forJamie, second.id)).toMatchObject({ actions: ['takeOver'], assignee: { username: 'ci' } });

    expect(of(await open('ci', 'true'), second.id)?.actions).toEqual(['proceed', 'abort']);

    // A value no client would send: a raw request.
    await problem(stack.send('GET', '/api/interruptions?actionable=maybe', { as: 'ci' }), 400);
  });
});
