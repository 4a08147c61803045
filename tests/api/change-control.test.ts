import { afterAll, describe, expect, it } from 'vitest';
import { PolicySchema } from '../../config/policy-schema.js';
import { type Deployment, ok, problem, type Who } from '../support/api.js';
import { openPage, postForm, signIn, signInForForms } from '../support/dashboard.js';
import { eventually } from '../support/poll.js';
import { startWebhookReceiver } from '../support/receivers.js';
import { testConfig, uniqueRelease, useStack, waitFor } from '../support/stack.js';

// docs/change-control.md as people meet it through the API and the dashboard: a production policy the
// process cannot remove, a deployment that waits at its freeze (a Window with opensAt), break-glass
// refused without a reason and for people outside the override teams, accepted for mlee (an SRE),
// sent to subscribers, listed in GET /api/overrides until an admin reviews it.

const hook = await startWebhookReceiver();
afterAll(() => hook.close());

const HOUR = 3_600_000;
const freezeEnds = new Date(Math.ceil((Date.now() + 7 * 24 * HOUR) / HOUR) * HOUR).toISOString();

const config = testConfig(`
- id: gated
  name: Gated service
  environments: [qa, production]
  process:
    # A process that tries to be the gate: it cannot stand in for it.
    - { name: 'Policy: production', type: script, run: 'echo "no gate here"' }
    - { name: Deploy, type: script, run: 'echo deployed' }
- id: queued
  name: Queued service
  environments: [production]
  process:
    - { name: Sign-off, type: manual, responsibleTeams: [release-managers], blockConcurrentDeployments: true }
- id: later
  name: Later service
  environments: [qa]
  process:
    - { name: Deploy, type: script, run: 'echo deployed' }
`);
config.policies = [
  PolicySchema.parse({
    environments: ['production'],
    freezes: [{ from: new Date(Date.now() - HOUR).toISOString(), to: freezeEnds, reason: 'Year-end freeze' }],
    override: { teams: ['sre'] },
  }),
  // In qa, one project's releases need one approval, and a newer one supersedes the older waiting ones.
  PolicySchema.parse({ environments: ['qa'], projects: ['later'], approvals: { rules: [{ teams: ['release-managers'], count: 1 }] }, supersede: true }),
];
// mlee is an SRE lead here: a member of the override team besides release-managers.
config.users = config.users.map((user) => (user.username === 'mlee' ? { ...user, teams: [...user.teams, 'sre'] } : user));
config.notifications = {
  channels: [{ id: 'audit-hook', webhook: { url: hook.url, format: 'cloudevents', timeout: 10_000 } }],
  subscriptions: [{ events: ['policy.overridden'], channels: ['audit-hook'] }],
} as typeof config.notifications;
const stack = useStack(config);

const trigger = async (environment: string, project = 'gated') => (await ok(stack.trigger({ project, environment, release: uniqueRelease() }), 201)).id;
const windowOf = (view: Deployment) => view.interruptions.find((interruption) => interruption.kind === 'Window');
const override = (who: Who, id: string, iid: string, reason?: string) =>
  stack.send('POST', `/api/deployments/${encodeURIComponent(id)}/interruptions/${iid}/override`, { as: who, body: reason === undefined ? {} : { reason } });

describe('a production policy with a freeze and break-glass', () => {
  it('puts its gate before the first step whatever the process says, and waits at a Window that says when it opens', async () => {
    const id = await trigger('production');
    const view = await waitFor(stack, id, (v) => v.status === 'Waiting');
    expect(view.steps.map((step) => [step.name, step.type, step.status])).toEqual([
      ['Policy: production (2)', 'policy', 'Waiting'],
      ['Policy: production', 'script', 'Pending'],
      ['Deploy', 'script', 'Pending'],
    ]);
    const window = windowOf(view)!;
    expect(window).toMatchObject({ state: 'Pending', step: 'Policy: production (2)', opensAt: freezeEnds, reason: 'Year-end freeze', overrideTeams: ['sre'] });
    expect(view.steps[0]!.policy).toMatchObject({ window: { state: 'Waiting', opensAt: freezeEnds, reason: 'Year-end freeze', interruption: window.id }, approvals: { state: 'NotRequired' } });
    // Nobody proceeds a window.
    expect((await problem(stack.act('admin', 'take-responsibility', { id, iid: window.id }), 409)).code).toBe('NOT_AN_OPTION');
    // mlee, of its override team, finds it among the interruptions she may act on, with override as her one action.
    const mine = await ok(stack.api('mlee').api.interruptions.$get({ query: { actionable: 'true' } }));
    expect(mine.interruptions.find((item) => item.id === window.id)?.actions).toEqual(['override']);
  });

  it('applies to its environment only', async () => {
    const id = await trigger('qa');
    const view = await waitFor(stack, id, (v) => v.status === 'Succeeded');
    expect(view.steps.map((step) => step.type)).toEqual(['script', 'script']);
  });

  it('refuses break-glass without a reason (400) and for people outside its override teams (403); accepts it for an SRE; lists it for review until an admin reviews it', async () => {
    const id = await trigger('production');
    const iid = windowOf(await waitFor(stack, id, (v) => windowOf(v) !== undefined && v.status === 'Waiting'))!.id;

    const missing = await problem(override('mlee', id, iid), 400);
    expect(missing.errors?.map((error) => error.name)).toEqual(['body.reason']);
    expect((await problem(override('mlee', id, iid, 'asap'), 400)).errors?.[0]?.reason).toContain('at least 10 characters');
    const jamie = await problem(override('jjones', id, iid, 'The release fixes a payment outage.'), 403);
    expect(jamie.code).toBe('NOT_OVERRIDER');
    expect(jamie.detail).toContain('only members of sre may');

    const reason = 'Payments are failing in production; this release is the fix (INC-4711).';
    const overridden = await ok(stack.api('mlee').api.deployments[':id'].interruptions[':iid'].override.$post({ param: { id, iid }, json: { reason } }));
    expect(overridden).toMatchObject({ state: 'Overridden', override: { user: { username: 'mlee' }, reason } });
    const done = await waitFor(stack, id, (v) => v.status === 'Succeeded');
    expect(done.steps[0]!.policy!.window.state).toBe('Overridden');
    expect(done.timeline.filter((entry) => entry.action === 'Overridden' && entry.result === 'accepted')).toEqual([
      expect.objectContaining({ user: 'mlee', interruption: iid, reason: `window: ${reason}` }),
    ]);

    const event = await eventually(() => hook.deliveries.find((d) => d.event?.type === 'dev.interlock.policy.overridden' && d.event.data.deployment?.id === id), 'the override at the webhook');
    expect(event.event?.data).toMatchObject({ step: 'Policy: production (2)', override: { part: 'window', reason, user: { username: 'mlee' } } });

    // Only admins read and review the list.
    await problem(stack.api('jjones').api.overrides.$get({ query: {} }), 403);
    const listed = await ok(stack.api('admin').api.overrides.$get({ query: { reviewed: 'false' } }));
    const record = listed.overrides.find((item) => item.deploymentId === id)!;
    expect(record).toMatchObject({ interruptionId: iid, part: 'window', user: { username: 'mlee' }, reason, reviewed: null, project: 'gated', environment: 'production' });

    await problem(stack.api('mlee').api.overrides[':overrideId'].review.$post({ param: { overrideId: record.id }, json: {} }), 403);
    const reviewed = await ok(stack.api('admin').api.overrides[':overrideId'].review.$post({ param: { overrideId: record.id }, json: { notes: 'Checked with INC-4711: justified.' } }));
    expect(reviewed.reviewed).toMatchObject({ user: { username: 'admin' }, notes: 'Checked with INC-4711: justified.' });
    expect((await problem(stack.api('admin').api.overrides[':overrideId'].review.$post({ param: { overrideId: record.id }, json: {} }), 409)).code).toBe('ALREADY_REVIEWED');
    expect((await problem(stack.api('admin').api.overrides[':overrideId'].review.$post({ param: { overrideId: 'no-such-override' }, json: {} }), 404)).code).toBe('OVERRIDE_NOT_FOUND');
    const open = await ok(stack.api('admin').api.overrides.$get({ query: { reviewed: 'false' } }));
    expect(open.overrides.map((item) => item.id)).not.toContain(record.id);
    const all = await ok(stack.api('admin').api.overrides.$get({ query: {} }));
    expect(all.overrides.find((item) => item.id === record.id)?.reviewed?.user.username).toBe('admin');
  });

  it('runs its gate before the queue of a blockConcurrentDeployments step: a deployment waiting for its window holds no queue and is queued behind none', async () => {
    const reason = 'Release train is late; ship the fix now (INC-4713).';
    const first = await trigger('production', 'queued');
    const firstWindow = windowOf(await waitFor(stack, first, (v) => windowOf(v) !== undefined))!.id;
    await ok(stack.api('mlee').api.deployments[':id'].interruptions[':iid'].override.$post({ param: { id: first, iid: firstWindow }, json: { reason } }));
    // Past its gate, the first holds the queue while it waits at its blocking sign-off.
    const signOff = (await waitFor(stack, first, (v) => v.interruptions.some((i) => i.kind === 'Manual' && i.state === 'Pending'))).interruptions.find((i) => i.kind === 'Manual')!;

    const second = await trigger('production', 'queued');
    const waiting = await waitFor(stack, second, (v) => windowOf(v) !== undefined);
    expect(waiting.status).toBe('Waiting');
    expect(waiting.queuedBehind ?? null).toBeNull();
    await ok(stack.api('mlee').api.deployments[':id'].interruptions[':iid'].override.$post({ param: { id: second, iid: windowOf(waiting)!.id }, json: { reason } }));
    expect((await waitFor(stack, second, (v) => v.status === 'Queued')).queuedBehind).toBe(first);

    await ok(stack.act('jjones', 'take-responsibility', { id: first, iid: signOff.id }));
    await ok(stack.act('jjones', 'proceed', { id: first, iid: signOff.id }));
    await waitFor(stack, first, (v) => v.status === 'Succeeded');
    await waitFor(stack, second, (v) => v.status === 'Waiting' && v.interruptions.some((i) => i.kind === 'Manual'));
  });

  it('the dashboard shows the Window banner: when it opens, and the override form to its override team only', async () => {
    const id = await trigger('production');
    const iid = windowOf(await waitFor(stack, id, (v) => windowOf(v) !== undefined && v.status === 'Waiting'))!.id;
    const path = `/deployments/${encodeURIComponent(id)}`;

    const jamieCookie = await signIn(stack.app, 'jjones');
    const forJamie = await (await openPage(stack.app, path, jamieCookie)).text();
    expect(forJamie).toContain('Waiting for the deployment window: Policy: production (2)');
    expect(forJamie).toContain('id="window-opens"');
    expect(forJamie).toContain('Year-end freeze');
    expect(forJamie).toContain('Only Site reliability may override it');
    expect(forJamie).not.toContain('name="reason"');
    // The Overrides page is for admins only; its link too.
    expect(forJamie).not.toContain('href="/overrides"');
    expect((await openPage(stack.app, '/overrides', jamieCookie)).status).toBe(403);

    const mlee = await signInForForms(stack.app, 'mlee');
    const forMlee = await (await openPage(stack.app, path, mlee.cookie)).text();
    expect(forMlee).toContain(`/interruptions/${iid}/override`);
    expect(forMlee).toContain('Reason for overriding the window');

    const refused = await postForm(stack.app, mlee, `${path}/interruptions/${iid}/override`, { reason: '' });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('A reason is required to override');
    const accepted = await postForm(stack.app, mlee, `${path}/interruptions/${iid}/override`, { reason: 'Hotfix for the checkout outage (INC-4712).' });
    expect(accepted.status).toBe(303);
    expect((await waitFor(stack, id, (v) => v.status === 'Succeeded')).interruptions[0]!.state).toBe('Overridden');
  });
});

describe('deploy later, start-by and supersede (qa policy of the later service)', () => {
  const approvalOf = (view: Deployment) => view.interruptions.find((interruption) => interruption.kind === 'Approval' && interruption.state !== 'Superseded');
  const decide = (id: string, iid: string, action: 'proceed' | 'abort', json: { notes?: string; runAt?: string }) =>
    stack.api('jjones').api.deployments[':id'].interruptions[':iid'][action].$post({ param: { id, iid }, json });
  const cancel = async (id: string) => expect([200, 202]).toContain((await stack.api('ci').api.deployments[':id'].cancel.$post({ param: { id } })).status);

  it('a proceed with runAt shows scheduledFor and waits; a bad runAt is a 400 naming body.runAt and changes nothing; it may be cancelled meanwhile', async () => {
    const id = await trigger('qa', 'later');
    const iid = approvalOf(await waitFor(stack, id, (v) => v.status === 'Waiting'))!.id;
    await ok(stack.act('jjones', 'take-responsibility', { id, iid }));
    const past = await problem(decide(id, iid, 'proceed', { runAt: new Date(Date.now() - HOUR).toISOString() }), 400);
    expect(past.errors).toEqual([{ name: 'body.runAt', reason: expect.stringContaining('must be in the future') }]);
    const far = await problem(decide(id, iid, 'proceed', { runAt: new Date(Date.now() + 31 * 24 * HOUR).toISOString() }), 400);
    expect(far.errors).toEqual([{ name: 'body.runAt', reason: expect.stringContaining('at most 30 days') }]);
    const withAbort = await problem(decide(id, iid, 'abort', { runAt: new Date(Date.now() + HOUR).toISOString() }), 400);
    expect(withAbort.errors).toEqual([{ name: 'body.runAt', reason: 'runAt goes with proceed only, not abort.' }]);
    const notATime = await problem(decide(id, iid, 'proceed', { runAt: 'tomorrow morning' }), 400);
    expect(notATime.errors?.map((param) => param.name)).toEqual(['body.runAt']);
    expect((await waitFor(stack, id, () => true)).interruptions.find((i) => i.id === iid)!.state).toBe('Assigned');

    // An offset is read as the instant it names.
    const runAt = new Date(Math.ceil((Date.now() + 2 * 24 * HOUR) / HOUR) * HOUR);
    const local = `${new Date(runAt.getTime() + 2 * HOUR).toISOString().slice(0, 19)}+02:00`;
    const proceeded = await ok(decide(id, iid, 'proceed', { notes: 'after the campaign', runAt: local }));
    expect(proceeded).toMatchObject({ state: 'Proceeded', runAt: runAt.toISOString() });
    const scheduled = await waitFor(stack, id, (v) => v.scheduledFor !== undefined);
    expect(scheduled).toMatchObject({ status: 'Waiting', scheduledFor: runAt.toISOString() });
    expect(scheduled.steps.map((step) => step.status)).toEqual(['Waiting', 'Pending']);

    await cancel(id);
    const cancelled = await waitFor(stack, id, (v) => v.status === 'Cancelled');
    expect(cancelled.scheduledFor).toBeUndefined();
    expect(cancelled.steps.map((step) => step.status)).toEqual(['Cancelled', 'Skipped']);
  });

  it('the dashboard\'s deploy form carries release notes, which the approval shows; too long ones are refused next to their field', async () => {
    const session = await signInForForms(stack.app, 'ci');
    const release = uniqueRelease();
    const tooLong = await postForm(stack.app, session, '/projects/later/deployments', { release, environment: 'qa', variables: '', releaseNotes: 'x'.repeat(20_001) });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.text()).toMatch(/id="later-releaseNotes-error"[^>]*><svg.*?<\/svg><span>at most 20,000 characters<\/span>/);
    const started = await postForm(stack.app, session, '/projects/later/deployments', { release, environment: 'qa', variables: '', releaseNotes: 'Fixes the **checkout** timeout.' });
    expect(started.status).toBe(303);
    const id = decodeURIComponent(started.headers.get('location')!.split('/deployments/')[1]!);
    const waiting = await waitFor(stack, id, (v) => approvalOf(v) !== undefined);
    expect(approvalOf(waiting)!.context?.releaseNotes).toBe('Fixes the **checkout** timeout.');
    await cancel(id);
  });

  it('a trigger\'s notAfter must be a future date-time (400 naming body.notAfter) and shows in the view', async () => {
    for (const notAfter of [new Date(Date.now() - HOUR).toISOString(), 'next friday']) {
      const refused = await problem(stack.trigger({ project: 'later', environment: 'qa', release: uniqueRelease(), notAfter }), 400);
      expect(refused.errors?.map((param) => param.name)).toEqual(['body.notAfter']);
    }
    const notAfter = new Date(Math.ceil((Date.now() + 24 * HOUR) / HOUR) * HOUR).toISOString();
    const created = await ok(stack.trigger({ project: 'later', environment: 'qa', release: uniqueRelease(), notAfter }), 201);
    expect(created.notAfter).toBe(notAfter);
    await cancel(created.id);
  });

  it('a newer release to qa supersedes the older one waiting for its approval, linking the newer; the newer waits on', async () => {
    const older = await trigger('qa', 'later');
    await waitFor(stack, older, (v) => v.status === 'Waiting');
    const newer = await trigger('qa', 'later');
    const superseded = await waitFor(stack, older, (v) => v.status === 'Superseded');
    expect(superseded.supersededBy).toBe(newer);
    expect(superseded.steps.map((step) => step.status)).toEqual(['Cancelled', 'Skipped']);
    expect(superseded.interruptions.map((interruption) => interruption.state)).toEqual(['Superseded']);
    expect(superseded.timeline.at(-1)).toMatchObject({ user: 'system', action: 'supersede', result: 'accepted', reason: expect.stringContaining(newer) });
    expect((await waitFor(stack, newer, (v) => v.status === 'Waiting')).interruptions.map((interruption) => interruption.state)).toEqual(['Pending']);
    // It is listed as Superseded, and nobody can act on it any more.
    const listed = await eventually(async () => {
      const page = await ok(stack.api('jjones').api.deployments.$get({ query: { project: 'later', status: 'Superseded' } }));
      return page.deployments.find((row) => row.id === older);
    }, 'the older one to be listed as Superseded');
    expect(listed.status).toBe('Superseded');
    expect((await problem(stack.act('jjones', 'take-responsibility', { id: older, iid: superseded.interruptions[0]!.id }), 409)).code).toBe('ALREADY_DECIDED');
    await cancel(newer);
  });
});
