import { describe, expect, it } from 'vitest';
import { type Deployment, ok, problem, type Who } from '../support/api.js';
import { openPage, postForm, signInForForms } from '../support/dashboard.js';
import { productionShipyard, securityTeamsConfig } from '../support/fixtures.js';
import { until } from '../support/poll.js';
import { uniqueRelease, useStack, waitFor, waitForRelease } from '../support/stack.js';

// docs/manual-steps.md#approval-rules and #approver-inputs as people meet them through the API, the
// dashboard's forms and Keptn's approval.finished: "2 from security AND 1 from release-managers",
// met by two people (one in both teams) or, with distinctPeople, by three; ordered rules; the one
// who triggered it approving nothing; inputs refused with 400 naming each bad one, and read by a
// later step as Manual.Input.<name>.

const SIGN_OFF = 'Sign-off';
const RULES = '[{ teams: [security], count: 2 }, { teams: [release-managers], count: 1 }]';
const REPORT = `echo "risk=#{Action[${SIGN_OFF}].Output.Manual.Input.risk} ticket=#{Octopus.Action[${SIGN_OFF}].Output.Manual.Input.ticket} backup=#{Action[${SIGN_OFF}].Output.Manual.Input.backupTaken} approvers=#{Action[${SIGN_OFF}].Output.Manual.Approvers}"`;

/** A Keptn project whose approval asks for an input that its next task reads. */
const GATED_SHIPYARD = productionShipyard(`
- name: approval
  properties:
    pass: manual
    warning: manual
    responsibleTeams: [release-managers]
    inputs: [{ name: risk, type: choice, options: [low, high], required: true }]
- name: report
`).replace(/\n/g, '\n  ');

const config = securityTeamsConfig(`
- id: guarded
  name: Guarded service
  environments: [production]
  preventSelfApproval: true
  process:
    - name: ${SIGN_OFF}
      type: manual
      instructions: 'Sign off #{Release}.'
      rules: ${RULES}
      inputs:
        - { name: risk, type: choice, options: [low, medium, high], required: true }
        - { name: ticket, type: text, pattern: 'CHG-[0-9]+', description: The change ticket }
        - { name: backupTaken, type: boolean }
    - { name: Report, type: script, run: '${REPORT}' }
- id: distinct
  name: Distinct service
  environments: [production]
  preventSelfApproval: true
  process:
    - { name: ${SIGN_OFF}, type: manual, rules: ${RULES}, distinctPeople: true }
- id: ordered
  name: Ordered service
  environments: [production]
  process:
    - { name: ${SIGN_OFF}, type: manual, rules: ${RULES}, ordered: true }
- id: gated
  name: Gated service
  ${GATED_SHIPYARD}
  tasks:
    report: { type: script, run: 'echo "risk=#{Action[approval].Output.Manual.Input.risk}"' }
`);
const stack = useStack(config);

const signOffOf = (view: Deployment) => view.interruptions.find((i) => i.step === SIGN_OFF || i.step === 'approval')!;
const interruption = (id: string, iid: string, as: Who) => stack.api(as).api.deployments[':id'].interruptions[':iid'];
const take = (id: string, iid: string, as: Who) => interruption(id, iid, as)['take-responsibility'].$post({ param: { id, iid }, json: {} });
const proceed = (id: string, iid: string, as: Who, json: { notes?: string; inputs?: Record<string, string | boolean> } = {}) =>
  interruption(id, iid, as).proceed.$post({ param: { id, iid }, json });
async function approve(id: string, iid: string, as: Who, json: { notes?: string; inputs?: Record<string, string | boolean> } = {}) {
  await ok(take(id, iid, as));
  return ok(proceed(id, iid, as, json));
}

/** The opening tag of the form field named `name`. */
const tagOf = (html: string, element: string, name: string) => new RegExp(`<${element}\\b[^>]*name="${name.replace('.', '\\.')}"[^>]*>`).exec(html)?.[0] ?? `no <${element} name="${name}">`;

/** A deployment of `project` to production by `as`, waiting at its sign-off. */
async function waiting(project: string, as: Who) {
  const { id } = await ok(stack.trigger({ project, environment: 'production', release: uniqueRelease() }, { as }), 201);
  const view = await waitFor(stack, id, (v) => v.status === 'Waiting');
  return { id, iid: signOffOf(view).id, view };
}

describe('"2 from security AND 1 from release-managers" with inputs', () => {
  it('is met by two people, one in both teams; the view shows each rule\'s progress; outsiders, the triggerer and bad inputs are refused; a later step reads the inputs', async () => {
    const { id, iid, view } = await waiting('guarded', 'jjones');
    expect(signOffOf(view)).toMatchObject({
      state: 'Pending',
      rules: [
        { teams: ['security'], count: 2, approvals: [], met: false },
        { teams: ['release-managers'], count: 1, approvals: [], met: false },
      ],
      // jjones triggered it (preventSelfApproval): not among those who may approve.
      remaining: { rules: [{ rule: 0, teams: ['security'], needed: 2 }, { rule: 1, teams: ['release-managers'], needed: 1 }], mayApprove: ['mlee', 'vic'] },
      inputs: [
        { name: 'risk', type: 'choice', options: ['low', 'medium', 'high'], required: true },
        { name: 'ticket', type: 'text', pattern: 'CHG-[0-9]+', description: 'The change ticket' },
        { name: 'backupTaken', type: 'boolean' },
      ],
    });

    // An outsider (a deployer in neither team) and the one who triggered it (in release-managers) are refused; nothing changes.
    const outsider = await problem(take(id, iid, 'ci'), 403);
    expect(outsider.code).toBe('NOT_IN_TEAM');
    expect(outsider.detail).toContain('only members of security, release-managers (or an admin) may');
    expect((await problem(take(id, iid, 'jjones'), 403)).code).toBe('SELF_APPROVAL');

    // Bad inputs: 400 naming each one; the step still waits for mlee, who holds it.
    await ok(take(id, iid, 'mlee'));
    const bad = await problem(proceed(id, iid, 'mlee', { inputs: { risk: 'extreme', ticket: 'see slack', colour: 'red' } }), 400);
    expect((bad.errors ?? []).map((error) => error.name).sort()).toEqual(['body.inputs.colour', 'body.inputs.risk', 'body.inputs.ticket']);
    expect(bad.errors?.find((error) => error.name === 'body.inputs.risk')?.reason).toBe('expected one of low, medium, high, not "extreme"');
    expect(bad.errors?.find((error) => error.name === 'body.inputs.ticket')?.reason).toBe('"see slack" does not match CHG-[0-9]+');
    const missing = await problem(proceed(id, iid, 'mlee', { notes: 'forgot the risk' }), 400);
    expect(missing.errors).toEqual([{ name: 'body.inputs.risk', reason: 'required' }]);
    const notBoolean = await problem(stack.send('POST', `/api/deployments/${encodeURIComponent(id)}/interruptions/${iid}/proceed`, { as: 'mlee', body: { inputs: { risk: 'low', backupTaken: 1 } } }), 400);
    expect(notBoolean.errors).toEqual([{ name: 'body.inputs.backupTaken', reason: 'expected a text, or true or false' }]);
    // Too long: the same words as the dashboard's form and the CLI.
    const tooLong = await problem(proceed(id, iid, 'mlee', { inputs: { risk: 'low', ticket: 'C'.repeat(1001) } }), 400);
    expect(tooLong.errors).toEqual([{ name: 'body.inputs.ticket', reason: 'at most 1000 characters; this is 1001' }]);
    const abortWithInputs = await problem(interruption(id, iid, 'mlee').abort.$post({ param: { id, iid }, json: { inputs: { risk: 'low' } } }), 400);
    expect(abortWithInputs.errors?.[0]?.name).toBe('body.inputs');
    expect(signOffOf(await ok(stack.api().api.deployments[':id'].$get({ param: { id } })))).toMatchObject({ state: 'Assigned', assignee: { username: 'mlee' } });

    // mlee, in both teams, counts toward both rules.
    const first = await ok(proceed(id, iid, 'mlee', { notes: 'reviewed', inputs: { risk: 'low', ticket: 'CHG-41' } }));
    expect(first).toMatchObject({ state: 'Pending', assignee: null });
    let progress = signOffOf(await ok(stack.api().api.deployments[':id'].$get({ param: { id } })));
    expect(progress.rules?.map((rule) => [rule.approvals.map((approval) => approval.user.username), rule.met])).toEqual([[['mlee'], false], [['mlee'], true]]);
    expect(progress.remaining).toEqual({ rules: [{ rule: 0, teams: ['security'], needed: 1 }], mayApprove: ['vic'] });
    expect((await problem(take(id, iid, 'mlee'), 409)).code).toBe('ALREADY_APPROVED');
    // What waits for whom (from visibility, so eventually): vic's list has it with its progress; mlee's and ci's do not.
    const actionable = async (who: Who) => (await ok(stack.api(who).api.interruptions.$get({ query: { actionable: 'true' } }))).interruptions.filter((i) => i.id === iid);
    const lists = await until(
      async () => ({ vic: await actionable('vic'), mlee: await actionable('mlee'), ci: await actionable('ci') }),
      (found) => found.vic[0]?.rules?.[1]?.met === true && found.mlee.length === 0,
      'the lists of what waits to show mlee\'s approval',
    );
    expect(lists.vic[0]).toMatchObject({ actions: ['takeResponsibility'], remaining: { mayApprove: ['vic'] } });
    expect(lists.ci).toEqual([]);

    // vic meets the last rule; the inputs of the approval that completed it are the step's.
    const last = await approve(id, iid, 'vic', { inputs: { risk: 'medium', ticket: 'CHG-42', backupTaken: true } });
    expect(last).toMatchObject({ state: 'Proceeded', inputValues: { risk: 'medium', ticket: 'CHG-42', backupTaken: true } });
    const done = await waitFor(stack, id, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    progress = signOffOf(done);
    expect(progress.rules?.map((rule) => rule.met)).toEqual([true, true]);
    expect(progress.remaining).toBeUndefined();
    expect(progress.approvals?.map((approval) => [approval.user.username, approval.inputValues])).toEqual([
      ['mlee', { risk: 'low', ticket: 'CHG-41' }],
      ['vic', { risk: 'medium', ticket: 'CHG-42', backupTaken: true }],
    ]);
    expect(done.steps[1]).toMatchObject({ name: 'Report', status: 'Succeeded', log: 'risk=medium ticket=CHG-42 backup=True approvers=mlee,vic\n' });
  });

  it('with distinctPeople, one person counts toward one rule only: three people meet it', async () => {
    const { id, iid } = await waiting('distinct', 'ci');
    await approve(id, iid, 'mlee');
    let progress = signOffOf(await ok(stack.api().api.deployments[':id'].$get({ param: { id } })));
    expect(progress.rules?.map((rule) => `${rule.approvals.length}/${rule.count}`)).toEqual(['1/2', '0/1']);
    expect(progress.remaining?.mayApprove).toEqual(['jjones', 'vic']);
    expect((await problem(take(id, iid, 'mlee'), 409)).code).toBe('ALREADY_APPROVED');
    await approve(id, iid, 'jjones');
    progress = signOffOf(await ok(stack.api().api.deployments[':id'].$get({ param: { id } })));
    expect(progress.rules?.map((rule) => `${rule.approvals.length}/${rule.count}`)).toEqual(['1/2', '1/1']);
    // jjones's rule is met: they may not approve again, nor may another release manager.
    expect(progress.remaining).toEqual({ rules: [{ rule: 0, teams: ['security'], needed: 1 }], mayApprove: ['vic'] });
    await approve(id, iid, 'vic');
    const done = await waitFor(stack, id, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    expect(signOffOf(done).approvals?.map((approval) => approval.user.username)).toEqual(['mlee', 'jjones', 'vic']);
  });

  it('with ordered, release-managers wait for security; one decline ends it', async () => {
    const { id, iid, view } = await waiting('ordered', 'ci');
    expect(signOffOf(view).remaining).toEqual({
      rules: [{ rule: 0, teams: ['security'], needed: 2 }, { rule: 1, teams: ['release-managers'], needed: 1 }],
      mayApprove: ['mlee', 'vic'],
    });
    const early = await problem(take(id, iid, 'jjones'), 403);
    expect(early.code).toBe('NOT_YOUR_TURN');
    expect(early.detail).toContain('takes its approvals in order: 2 from security first (0 so far)');
    await approve(id, iid, 'vic');
    await ok(take(id, iid, 'mlee'));
    const declined = await ok(interruption(id, iid, 'mlee').abort.$post({ param: { id, iid }, json: { notes: 'not this week' } }));
    expect(declined).toMatchObject({ state: 'Aborted', notes: 'not this week' });
    expect((await waitFor(stack, id, (v) => v.finishedAt !== null)).status).toBe('Aborted');
  });
});

describe('the dashboard\'s decision form', () => {
  it('shows each rule\'s progress and who may approve, asks the step\'s inputs, and refuses a bad one next to its field', async () => {
    const { id, iid } = await waiting('guarded', 'jjones');
    await approve(id, iid, 'mlee', { inputs: { risk: 'low' } });
    const vic = await signInForForms(stack.app, 'vic');
    const path = `/deployments/${encodeURIComponent(id)}`;
    let html = await (await openPage(stack.app, path, vic.cookie)).text();
    expect(html).toContain('Approval rules: all must be met.');
    expect(html).toMatch(/<strong>2 from Security<\/strong>: 1 of 2 \(Morgan Lee\)/);
    expect(html).toMatch(/<strong>1 from Release managers<\/strong>: met \(Morgan Lee\)/);
    expect(html).toContain('May approve now: Vic Viewer (or an admin).');

    const action = `${path}/interruptions/${iid}`;
    expect((await postForm(stack.app, vic, `${action}/take-responsibility`)).status).toBe(303);
    html = await (await openPage(stack.app, path, vic.cookie)).text();
    expect(tagOf(html, 'select', 'input.risk')).toContain('required=""');
    expect(html).toContain('<option value="medium">medium</option>');
    expect(tagOf(html, 'input', 'input.ticket')).toContain('type="text"');
    expect(html).toContain('It must match <code>CHG-[0-9]+</code>.');
    expect(tagOf(html, 'input', 'input.backupTaken')).toContain('type="checkbox"');

    const refused = await postForm(stack.app, vic, `${action}/proceed`, { 'input.risk': 'high', 'input.ticket': 'later' });
    expect(refused.status).toBe(400);
    html = await refused.text();
    expect(html).toMatch(/id="input-ticket-error"(?:(?!<\/p>)[^])*(?:"|&quot;)later(?:"|&quot;) does not match CHG-\[0-9\]\+/);
    // What was typed is shown again.
    expect(html).toContain('<option value="high" selected="">high</option>');

    expect((await postForm(stack.app, vic, `${action}/proceed`, { 'input.risk': 'high', 'input.ticket': 'CHG-7', 'input.backupTaken': 'true' })).status).toBe(303);
    const done = await waitFor(stack, id, (v) => v.finishedAt !== null);
    expect(signOffOf(done)).toMatchObject({ state: 'Proceeded', decidedVia: 'update', inputValues: { risk: 'high', ticket: 'CHG-7', backupTaken: true } });
    expect(done.steps[1]?.log).toBe('risk=high ticket=CHG-7 backup=True approvers=mlee,vic\n');
  });
});

describe('Keptn\'s approval.finished with data.inputs', () => {
  it('refuses bad inputs with 400 naming each under body.data.inputs and takes nothing; good ones approve and reach the next task', async () => {
    const { keptnContext } = await ok(
      stack.api('ci').api.v1.event.$post({ json: { type: 'sh.keptn.event.production.delivery.triggered', data: { project: 'gated', stage: 'production', service: 'gated', labels: { release: uniqueRelease() } } } }),
      202,
    );
    const release = await waitForRelease(stack, keptnContext, (v) => v.status === 'Waiting');
    const deploymentId = release.stages[0]!.sequences[0]!.deploymentId!;
    const approval = signOffOf(await ok(stack.api().api.deployments[':id'].$get({ param: { id: deploymentId } })));
    expect(approval.inputs).toEqual([{ name: 'risk', type: 'choice', options: ['low', 'high'], required: true }]);
    const finished = (data: Record<string, unknown>) =>
      stack.send('POST', '/api/v1/event', { as: 'jjones', body: { type: 'sh.keptn.event.approval.finished', shkeptncontext: keptnContext, triggeredid: approval.id, data: { status: 'succeeded', ...data } } });

    const bad = await problem(finished({ result: 'pass', inputs: { risk: 'extreme', colour: 'red' } }), 400);
    expect((bad.errors ?? []).map((error) => error.name).sort()).toEqual(['body.data.inputs.colour', 'body.data.inputs.risk']);
    expect((await problem(finished({ result: 'pass' }), 400)).errors).toEqual([{ name: 'body.data.inputs.risk', reason: 'required' }]);
    expect((await problem(finished({ result: 'pass', inputs: 'low' }), 400)).errors?.[0]?.name).toBe('body.data.inputs');
    // Nothing was taken.
    expect(signOffOf(await ok(stack.api().api.deployments[':id'].$get({ param: { id: deploymentId } })))).toMatchObject({ state: 'Pending', assignee: null });

    expect((await finished({ result: 'pass', message: 'low risk', inputs: { risk: 'low' } })).status).toBe(202);
    const done = await waitForRelease(stack, keptnContext, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    const deployed = await ok(stack.api().api.deployments[':id'].$get({ param: { id: deploymentId } }));
    expect(signOffOf(deployed)).toMatchObject({ state: 'Proceeded', assignee: { username: 'jjones' }, inputValues: { risk: 'low' } });
    expect(deployed.steps.map((step) => [step.name, step.status, step.log])).toContainEqual(['report', 'Succeeded', 'risk=low\n']);
  });
});
