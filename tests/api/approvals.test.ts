import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Deployment, ok, problem, type Who } from '../support/api.js';
import { openPage, signIn } from '../support/dashboard.js';
import { eventually } from '../support/poll.js';
import { signatureIsValid, startSmtpServer, startWebhookReceiver } from '../support/receivers.js';
import { type Action, testConfig, type Trigger, uniqueRelease, useStack, waitFor } from '../support/stack.js';

// docs/manual-steps.md and docs/notifications.md as people meet them through the API: guided failure, two approvers without the
// one who triggered, a second deployment queued behind the first, and what reaches a real SMTP
// server and a webhook receiver that checks signatures.

const SECRET = 'ops-hook-s3cret';
const smtp = await startSmtpServer();
const hook = await startWebhookReceiver();
// A receiver that is down (503) for its first two deliveries, then back.
let refusals = 2;
const flakyHook = await startWebhookReceiver(() => (refusals-- > 0 ? 503 : 200));
const scratch = mkdtempSync(join(tmpdir(), 'interlock-approvals-'));
afterAll(async () => {
  await smtp.close();
  await hook.close();
  await flakyHook.close();
  rmSync(scratch, { recursive: true, force: true });
});

const config = {
  ...testConfig(`
- id: guarded
  name: Guarded service
  environments: [qa, production]
  guidedFailure: true
  preventSelfApproval: true
  process:
    # Fails the first time it runs for a release, as a flaky deploy does.
    - { name: Deploy, type: script, run: 'f=${scratch}/#{Release}; test -e "$f" || { touch "$f"; echo "connection reset"; exit 1; }; echo deployed' }
    - name: Production sign-off
      type: manual
      environments: [production]
      instructions: 'Sign off #{Release}.'
      responsibleTeams: [release-managers]
      requiredApprovals: 2
      blockConcurrentDeployments: true
- id: announced
  name: Announced service
  environments: [production]
  process:
    - { name: Deploy, type: script, run: 'echo deployed' }
`),
};
config.notifications = {
  channels: [
    { id: 'mail', email: { to: ['responsible'], from: 'Interlock <interlock@localhost>', subjectPrefix: '[Interlock]' } },
    { id: 'ops-hook', webhook: { url: hook.url, secret: { env: 'OPS_HOOK_SECRET' }, format: 'cloudevents', timeout: 10_000 } },
    { id: 'flaky-hook', webhook: { url: flakyHook.url, format: 'cloudevents', timeout: 10_000 } },
  ],
  subscriptions: [
    { events: ['interruption.created'], projects: ['guarded'], channels: ['mail', 'ops-hook'] },
    { events: ['interruption.decided', 'deployment.finished', 'deployment.queued'], projects: ['guarded'], channels: ['ops-hook'] },
    { events: ['deployment.finished'], projects: ['announced'], channels: ['flaky-hook'] },
  ],
} as typeof config.notifications;
const stack = useStack(config, { env: { SMTP_URL: smtp.url, OPS_HOOK_SECRET: SECRET }, publicUrl: 'http://interlock.test' });

const open = (view: Deployment, kind: string) => view.interruptions.find((i) => i.kind === kind && (i.state === 'Pending' || i.state === 'Assigned'));
const act = (id: string, iid: string, action: Action, as: Who, json?: { notes?: string }) => stack.act(as, action, { id, iid }, json);
const hooked = (id: string, type: string) => hook.deliveries.find((d) => d.event?.type === type && d.event.data.deployment?.id === id);
const trigger = async (json: Trigger, as: Who = 'ci') => (await ok(stack.trigger(json, { as }), 201)).id;

describe('a production deployment with guided failure, two approvers, no self-approval, blocking and notifications', () => {
  it('asks a person when Deploy fails; retry runs it again; two others approve; the next one waited Queued; all of it was sent', async () => {
    const release = uniqueRelease();
    const id = await trigger({ project: 'guarded', environment: 'production', release }, 'jjones');

    // Guided failure: the deployment waits for a person instead of failing.
    let view = await waitFor(stack, id, (v) => open(v, 'GuidedFailure') !== undefined);
    expect(view.status).toBe('Waiting');
    const failure = open(view, 'GuidedFailure')!;
    expect(failure.instructions).toContain('connection reset');
    const created = await eventually(() => hooked(id, 'dev.interlock.interruption.created'), 'interruption.created at the webhook');
    expect(signatureIsValid(SECRET, created)).toBe(true);
    expect(created.headers['idempotency-key']).toBe(created.event?.id);
    expect(created.event?.data.interruption).toMatchObject({ kind: 'GuidedFailure', step: 'Deploy' });
    await problem(act(id, failure.id, 'retry', 'vic'), 403);
    expect((await problem(act(id, failure.id, 'retry', 'ci'), 409)).code).toBe('NOT_TAKEN');
    await ok(act(id, failure.id, 'take-responsibility', 'ci'));
    expect((await problem(act(id, failure.id, 'proceed', 'ci'), 409)).code).toBe('NOT_AN_OPTION');
    const retried = await ok(act(id, failure.id, 'retry', 'ci', { notes: 'the network is back' }));
    expect(retried.state).toBe('Retried');

    // Two distinct people, and not the one who triggered it.
    view = await waitFor(stack, id, (v) => open(v, 'Manual') !== undefined);
    expect(view.steps[0]).toMatchObject({ status: 'Succeeded', log: 'deployed\n' });
    expect(view.steps[0]!.attempts).toHaveLength(1);
    expect(view.steps[0]!.attempts?.[0]?.log).toContain('connection reset');
    const signOff = open(view, 'Manual')!;
    const self = await problem(act(id, signOff.id, 'take-responsibility', 'jjones'), 403);
    expect(self.code).toBe('SELF_APPROVAL');

    // Everyone responsible who may decide got their own email: mlee; not jjones, who triggered it.
    const forMlee = await eventually(
      () => smtp.mails.find((mail) => mail.parsed.subject?.includes('Production sign-off') && mail.parsed.text?.includes(release)),
      'the sign-off email',
    );
    expect(forMlee.to).toEqual(['morgan.lee@example.com']);
    expect(forMlee.parsed.text).toContain(`Sign off ${release}.`);
    expect(forMlee.parsed.html).toContain('/i/');
    const link = /http:\/\/interlock\.test\/i\/([A-Za-z0-9_.%-]+)/.exec(forMlee.parsed.text!)?.[1];
    expect(link).toBeDefined();
    const signOffMails = smtp.mails.filter((mail) => mail.parsed.subject?.includes('Production sign-off') && mail.parsed.text?.includes(release));
    expect(signOffMails.flatMap((mail) => mail.to)).toEqual(['morgan.lee@example.com']);

    // The link opens a page for mlee and this interruption; opening it decides nothing.
    const mleeCookie = await signIn(stack.app, 'mlee');
    const page = await openPage(stack.app, `/i/${link}`, mleeCookie);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Production sign-off');
    expect(html).toContain('Assign to me');
    expect(open(await ok(stack.api().api.deployments[':id'].$get({ param: { id } })), 'Manual')).toMatchObject({ state: 'Pending', assignee: null });
    const notForJamie = await openPage(stack.app, `/i/${link}`, await signIn(stack.app, 'jjones'));
    expect(notForJamie.status).toBe(403);
    expect(await notForJamie.text()).toContain('This link is for someone else');
    expect((await openPage(stack.app, `/i/${link}x`, mleeCookie)).status).toBe(404);
    const signedOut = await openPage(stack.app, `/i/${link}`);
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get('location')).toBe(`/sign-in?next=${encodeURIComponent(`/i/${link}`)}`);

    // While it waits at the blocking step, a second deployment of the same project and environment is Queued.
    const second = await trigger({ project: 'guarded', environment: 'production', release: uniqueRelease() });
    const queued = await waitFor(stack, second, (v) => v.status === 'Queued');
    expect(queued.queuedBehind).toBe(id);
    const listed = await ok(stack.api().api.deployments.$get({ query: { project: 'guarded', status: 'Queued' } }));
    expect(listed.deployments.map((d) => d.id)).toContain(second);

    for (const who of ['mlee', 'admin'] as const) {
      await ok(act(id, signOff.id, 'take-responsibility', who));
      await ok(act(id, signOff.id, 'proceed', who, { notes: `ok from ${who}` }));
      if (who === 'mlee') expect((await problem(act(id, signOff.id, 'take-responsibility', 'mlee'), 409)).code).toBe('ALREADY_APPROVED');
    }
    const done = await waitFor(stack, id, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    expect(done.variables['Action[Production sign-off].Output.Manual.Approvers']).toBe('mlee,admin');

    // The second one goes on now (and meets its own flaky Deploy).
    await waitFor(stack, second, (v) => v.status !== 'Queued');
    const finished = await eventually(() => hooked(id, 'dev.interlock.deployment.finished'), 'deployment.finished at the webhook');
    expect(finished.event?.data.status).toBe('Succeeded');
    expect(signatureIsValid(SECRET, finished)).toBe(true);
    expect(hooked(second, 'dev.interlock.deployment.queued')?.event?.data.queuedBehind).toBe(id);
  });

  it('ignore goes on with the step Failed and ignored; fail fails the deployment', async () => {
    const ignoredRelease = uniqueRelease();
    const ignored = await trigger({ project: 'guarded', environment: 'qa', release: ignoredRelease });
    let failure = open(await waitFor(stack, ignored, (v) => open(v, 'GuidedFailure') !== undefined), 'GuidedFailure')!;
    await ok(act(ignored, failure.id, 'take-responsibility', 'mlee'));
    expect((await ok(act(ignored, failure.id, 'ignore', 'mlee', { notes: 'known flake' }))).state).toBe('Ignored');
    const done = await waitFor(stack, ignored, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    expect(done.steps[0]).toMatchObject({ status: 'Failed', ignored: true });

    const failed = await trigger({ project: 'guarded', environment: 'qa', release: uniqueRelease() });
    failure = open(await waitFor(stack, failed, (v) => open(v, 'GuidedFailure') !== undefined), 'GuidedFailure')!;
    await ok(act(failed, failure.id, 'take-responsibility', 'mlee'));
    expect((await ok(act(failed, failure.id, 'fail', 'mlee', { notes: 'broken for real' }))).state).toBe('Failed');
    expect((await waitFor(stack, failed, (v) => v.finishedAt !== null)).status).toBe('Failed');
  });

  it('delivers to a receiver that was down: retried with backoff, the same Idempotency-Key each time, no failure recorded', async () => {
    const id = await trigger({ project: 'announced', environment: 'production', release: uniqueRelease() });
    const deliveries = await eventually(() => {
      const mine = flakyHook.deliveries.filter((d) => d.event?.data.deployment?.id === id);
      return mine.length >= 3 ? mine : undefined;
    }, 'the third delivery');
    expect(deliveries).toHaveLength(3);
    expect(new Set(deliveries.map((d) => d.headers['idempotency-key'])).size).toBe(1);
    expect(new Set(deliveries.map((d) => d.event?.id)).size).toBe(1);
    const view = await waitFor(stack, id, (v) => v.finishedAt !== null);
    expect(view.status).toBe('Succeeded');
    expect(view.timeline.filter((entry) => entry.action === 'notify')).toEqual([]);
  });
});
