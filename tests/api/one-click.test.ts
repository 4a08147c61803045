import { afterAll, describe, expect, it } from 'vitest';
import { ok, type Who } from '../support/api.js';
import { openPage, postForm, signIn } from '../support/dashboard.js';
import { eventually } from '../support/poll.js';
import { startSmtpServer } from '../support/receivers.js';
import { testConfig, uniqueRelease, useStack, waitFor } from '../support/stack.js';

// One-click links as people meet them: the link in their email, opened in a browser after they
// sign in. A link works while what it asks them to decide is open, and not a moment longer:
// after the decision, after the timeout, after a cancel, whoever opens it is told it no longer works
// and gets no controls.

const smtp = await startSmtpServer();
afterAll(() => smtp.close());

const config = testConfig(`
- id: hello-service
  name: Hello service
  environments: [production]
  process:
    - { name: Approve, type: manual, instructions: 'Check the dashboards.', responsibleTeams: [release-managers] }
- id: timed
  name: Timed service
  environments: [production]
  process:
    - { name: Approve, type: manual, responsibleTeams: [release-managers], timeout: 3s, onTimeout: abort }
`);
config.notifications = {
  channels: [{ id: 'mail', email: { to: ['responsible'], from: 'Interlock <interlock@localhost>', subjectPrefix: '[Interlock]' } }],
  subscriptions: [{ events: ['interruption.created'], channels: ['mail'] }],
} as typeof config.notifications;
const stack = useStack(config, { env: { SMTP_URL: smtp.url }, publicUrl: 'http://interlock.test' });

const EMAIL: Partial<Record<Who, string>> = { jjones: 'jamie.jones@example.com', mlee: 'morgan.lee@example.com' };

/** Starts a deployment and waits for its email: the one-click link each person's copy carries (its path, `/i/…`). */
async function deployAndRead(project: string): Promise<{ id: string; linkFor(who: Who): Promise<string> }> {
  const release = uniqueRelease();
  const { id } = await ok(stack.trigger({ project, environment: 'production', release }), 201);
  return {
    id,
    async linkFor(who) {
      const mail = await eventually(
        () => smtp.mails.find((m) => m.to.includes(EMAIL[who]!) && m.parsed.text?.includes(release)),
        `the email to ${who} about ${release}`,
      );
      const link = /http:\/\/interlock\.test(\/i\/[A-Za-z0-9_.%-]+)/.exec(mail.parsed.text!)?.[1];
      expect(link).toBeDefined();
      return link!;
    },
  };
}

const cookies = new Map<Who, Promise<string>>();
/** `who`'s browser, signed in once for the whole file. */
function cookieOf(who: Who): Promise<string> {
  if (!cookies.has(who)) cookies.set(who, signIn(stack.app, who));
  return cookies.get(who)!;
}

/** Opens the link in a browser signed in as `who`: the status and the page. */
async function open(link: string, who: Who): Promise<{ status: number; html: string }> {
  const response = await openPage(stack.app, link, await cookieOf(who));
  return { status: response.status, html: await response.text() };
}

/** Posts one of the page's forms, as the browser does when a button is pressed. */
async function press(link: string, who: Who, action: string, fields: Record<string, string> = {}) {
  const { html } = await open(link, who);
  const form = new RegExp(`<form[^>]*action="([^"]*/${action})"[^>]*>([\\s\\S]*?)</form>`).exec(html);
  expect(form, `a ${action} form on the page`).not.toBeNull();
  const hidden = Object.fromEntries([...form![2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!.replaceAll('&amp;', '&')]));
  // The form carries its own form token among its hidden fields.
  const response = await postForm(stack.app, { cookie: await cookieOf(who), csrf: hidden._csrf ?? '' }, form![1]!.replaceAll('&amp;', '&'), { ...hidden, ...fields });
  return { status: response.status, location: response.headers.get('location') };
}

/** What a link that no longer works looks like: 410, the words, the way to the deployment, and nothing to press. */
function expectEnded(page: { status: number; html: string }, id: string, why: string) {
  expect(page.status).toBe(410);
  expect(page.html).toContain('This link no longer works');
  expect(page.html).toContain(why);
  expect(page.html).toContain('There is nothing left to decide here.');
  expect(page.html).toContain(`href="/deployments/${id}"`);
  expect(page.html).not.toMatch(/<form[^>]*action="[^"]*\/interruptions\//);
  // The regions a page left open swaps in live: its controls go away.
  expect(page.html).toContain('<div id="banner" data-live="true" hidden=""></div>');
}

describe('a one-click link from an email', () => {
  it('opens the controls while the step is open, and no longer works once it is decided', async () => {
    const deployment = await deployAndRead('hello-service');
    const { id } = deployment;
    const link = await deployment.linkFor('jjones');
    const before = await open(link, 'jjones');
    expect(before.status).toBe(200);
    expect(before.html).toContain('Check the dashboards.');
    expect(before.html).toMatch(/<form[^>]*action="[^"]*\/take-responsibility"/);

    // Take it and proceed from the page the link opened, as Jamie would.
    expect(await press(link, 'jjones', 'take-responsibility')).toEqual({ status: 303, location: `${link}#banner` });
    expect((await open(link, 'jjones')).status).toBe(200);
    // Back on the link, which the decision has ended: it says so, and who decided.
    expect(await press(link, 'jjones', 'proceed', { notes: 'dashboards are green' })).toEqual({ status: 303, location: link });
    await waitFor(stack, id, (view) => view.interruptions[0]?.state === 'Proceeded');
    expectEnded(await open(link, 'jjones'), id, '“Approve” has been decided by Jamie Jones (jjones) (Proceeded).');
    // The same for the colleague who got the same email and opens it later.
    expectEnded(await open(await deployment.linkFor('mlee'), 'mlee'), id, 'has been decided by Jamie Jones');
  });

  it('no longer works after the step timed out, or once the deployment was cancelled', async () => {
    const timed = await deployAndRead('timed');
    const timedLink = await timed.linkFor('mlee');
    const done = await waitFor(stack, timed.id, (view) => view.finishedAt !== null, 30_000);
    expect(done.interruptions[0]?.state).toBe('TimedOut');
    expectEnded(await open(timedLink, 'mlee'), timed.id, 'It expired with what it asked you to decide.');

    const cancelled = await deployAndRead('hello-service');
    const cancelledLink = await cancelled.linkFor('mlee');
    expect((await open(cancelledLink, 'mlee')).status).toBe(200);
    await ok(stack.api('ci').api.deployments[':id'].cancel.$post({ param: { id: cancelled.id } }), [200, 202]);
    await waitFor(stack, cancelled.id, (view) => view.finishedAt !== null);
    expectEnded(await open(cancelledLink, 'mlee'), cancelled.id, 'The deployment has ended (Cancelled)');
  });

  it('still answers an altered link, or someone else, as before: 404 and 403, with no controls', async () => {
    const link = await (await deployAndRead('hello-service')).linkFor('jjones');
    const altered = await open(`${link.slice(0, -2)}xx`, 'jjones');
    expect(altered.status).toBe(404);
    expect(altered.html).toContain('This link does not work');
    const someoneElse = await open(link, 'mlee');
    expect(someoneElse.status).toBe(403);
    expect(someoneElse.html).not.toMatch(/<form[^>]*action="[^"]*\/interruptions\//);
  });
});
