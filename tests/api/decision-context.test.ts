import { afterAll, describe, expect, it } from 'vitest';
import { type Deployment, ok, problem } from '../support/api.js';
import { openPage, signIn } from '../support/dashboard.js';
import { eventually, until } from '../support/poll.js';
import { startSmtpServer } from '../support/receivers.js';
import { testConfig, uniqueRelease, useStack, waitFor } from '../support/stack.js';

// docs/change-control.md#the-context-to-decide as a user meets it: 1.0 goes to production through a
// sign-off Morgan gives; 1.1 comes with other variables and release notes, and whoever is asked to
// sign it off sees what ran before, who approved it, what changed (a secret masked) and the notes —
// in the API, the list of interruptions, the dashboard and the email.

const OLD_SECRET = 'old-db-pa55-Zq9';
const NEW_SECRET = 'new-db-pa55-Kx4';
const NOTES = 'Fixes the checkout timeout (PAY-142).\n\n<script>alert(1)</script> [click me](javascript:alert(2))';

const smtp = await startSmtpServer();
afterAll(() => smtp.close());

const config = testConfig(`
- id: shop
  name: Shop
  environments: [production]
  variables:
    ImageTag: { prompted: true }
    Replicas: { value: "3", prompted: true }
    DbPassword: { prompted: true, sensitive: true }
  process:
    - { name: Deploy, type: script, run: 'echo deploying #{ImageTag}' }
    - name: Sign-off
      type: manual
      responsibleTeams: [release-managers]
      instructions: 'Check the canary for #{ImageTag}.'
`);
config.notifications = {
  channels: [{ id: 'mail', email: { to: ['responsible'], from: 'Interlock <interlock@localhost>', subjectPrefix: '[Interlock]' } }],
  subscriptions: [{ events: ['interruption.created'], projects: ['shop'], channels: ['mail'] }],
} as typeof config.notifications;
const stack = useStack(config, { env: { SMTP_URL: smtp.url }, publicUrl: 'http://interlock.test' });

const signOff = (view: Deployment) => view.interruptions.find((i) => i.step === 'Sign-off' && (i.state === 'Pending' || i.state === 'Assigned'));

describe('the context to decide', () => {
  it('shows the previous release, who approved it, what changed and the release notes with the next sign-off', async () => {
    const first = uniqueRelease();
    const triggered = await ok(
      stack.trigger({ project: 'shop', environment: 'production', release: first, variables: { ImageTag: first, DbPassword: OLD_SECRET } }),
      201,
    );
    // The first deployment here has nothing before it.
    const waitingFirst = await waitFor(stack, triggered.id, (view) => signOff(view) !== undefined);
    expect(signOff(waitingFirst)!.context).toEqual({
      releaseNotes: null,
      previous: null,
      changedVariables: [],
      remaining: { rules: [], mayApprove: ['jjones', 'mlee'] },
    });
    const at = { id: triggered.id, iid: signOff(waitingFirst)!.id };
    await ok(stack.act('mlee', 'take-responsibility', at));
    await ok(stack.act('mlee', 'proceed', at, { notes: 'canary is green' }));
    const finished = await waitFor(stack, triggered.id, (view) => view.finishedAt !== null);
    expect(finished.status).toBe('Succeeded');
    // Visibility (which finds the previous deployment) says so a moment after it finished.
    await until(
      () => ok(stack.api().api.deployments.$get({ query: { project: 'shop', environment: 'production', status: 'Succeeded' } })),
      (page) => page.deployments.some((row) => row.id === triggered.id),
      'the first deployment listed as Succeeded',
    );

    const second = uniqueRelease();
    const tooLong = await problem(
      stack.trigger({ project: 'shop', environment: 'production', release: second, releaseNotes: 'x'.repeat(20_001) }),
      400,
    );
    expect(tooLong.errors?.map((error) => error.name)).toEqual(['body.releaseNotes']);

    const next = await ok(
      stack.trigger({
        project: 'shop',
        environment: 'production',
        release: second,
        variables: { ImageTag: second, Replicas: '4', DbPassword: NEW_SECRET },
        releaseNotes: NOTES,
      }),
      201,
    );
    const waiting = await waitFor(stack, next.id, (view) => signOff(view) !== undefined);
    const context = signOff(waiting)!.context!;
    expect(context.releaseNotes).toBe(NOTES);
    expect(context.previous).toMatchObject({ deploymentId: triggered.id, release: first, finishedAt: finished.finishedAt, triggeredBy: 'ci' });
    expect(context.previous!.approvedBy).toEqual([{ username: 'mlee', displayName: 'Morgan Lee', step: 'Sign-off', at: expect.any(String) }]);
    expect(context.changedVariables).toEqual([
      { name: 'DbPassword', from: '********', to: '********' },
      { name: 'ImageTag', from: first, to: second },
      { name: 'Replicas', from: '3', to: '4' },
    ]);
    expect(context.remaining).toEqual({ rules: [], mayApprove: ['jjones', 'mlee'] });
    expect(JSON.stringify(waiting)).not.toContain(OLD_SECRET);
    expect(JSON.stringify(waiting)).not.toContain(NEW_SECRET);

    // The list of interruptions carries the same context.
    const listed = await ok(stack.api('jjones').api.interruptions.$get({ query: { actionable: 'true' } }));
    expect(listed.interruptions.find((i) => i.deployment.id === next.id)?.context).toEqual(context);

    // The dashboard's banner: the notes as text (no script, no javascript: link), the previous release, what changed.
    const page = await openPage(stack.app, `/deployments/${next.id}`, await signIn(stack.app, 'jjones'));
    const html = await page.text();
    expect(html).toContain('Fixes the checkout timeout (PAY-142).');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toMatch(/href="javascript:/i);
    expect(html).toMatch(new RegExp(`Previous in production.*${first.replace(/[.+]/g, '\\$&')}`, 's'));
    expect(html).toContain('Morgan Lee');
    expect(html).toContain('ImageTag');
    expect(html).not.toContain(OLD_SECRET);

    // The email to whoever may sign it off says it too, and shows the notes as text.
    const mail = await eventually(
      () => smtp.mails.find((candidate) => candidate.to.includes('jamie.jones@example.com') && candidate.parsed.text?.includes(second)),
      'the sign-off email to Jamie',
    );
    const text = mail.parsed.text!;
    expect(text).toMatch(new RegExp(`Previous in production: +${first.replace(/[.+]/g, '\\$&')} \\(by ci, finished .*\\); approved by Morgan Lee \\(mlee\\)`));
    expect(text).toContain(`DbPassword ******** → ********; ImageTag ${first} → ${second}; Replicas 3 → 4`);
    expect(text).toContain('Release notes:\nFixes the checkout timeout (PAY-142).');
    expect(mail.parsed.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.parsed.html).not.toContain('<script>');
    expect(mail.parsed.html).not.toMatch(/href="javascript:/i);
    expect(`${text}${String(mail.parsed.html)}`).not.toContain(NEW_SECRET);
  });
});
