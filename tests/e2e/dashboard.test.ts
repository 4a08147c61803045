import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinkSigner } from '../../auth/one-click-links.js';
import { loadCodecKeys } from '../../temporal/payload-codec.js';
import { ok, overHttp, type Who } from '../support/api.js';
import { accessibilityProblems, closeBrowser, launchBrowser, newPerson, scriptErrors, signIn } from '../support/browser.js';
import { followUntil } from '../support/events.js';
import { npmStart, type Running } from '../support/npm-start.js';

const STEP = 'Ensure traders are aware of the deployment';
// The README's screenshots: `UPDATE_SCREENSHOTS=1 npm test` renews them; otherwise they go to a
// scratch folder, so a test run leaves the work tree as it found it.
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS
  ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
  : mkdtempSync(join(tmpdir(), 'interlock-screenshots-'));
const dataDir = mkdtempSync(join(tmpdir(), 'interlock-dashboard-'));

let stack: Running | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  // One real stack (dev server, worker, API and dashboard) and one browser for the whole file.
  browser = await launchBrowser();
  stack = await npmStart({ INTERLOCK_DATA_DIR: dataDir }).catch((error: Error) => {
    // The dev server's own words, before afterAll removes its data directory.
    const log = join(dataDir, 'temporal.log');
    throw new Error(`${error.message}\n--- temporal.log ---\n${existsSync(log) ? readFileSync(log, 'utf8').slice(-4000) : '(none)'}`);
  });
}, 180_000);

afterAll(async () => {
  await closeBrowser(browser, contexts);
  await stack?.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

const url = () => stack!.url;
// Each run has a data directory of its own, so each test's release names its deployments alone.
let minor = 6;
const newRelease = () => `2.${minor++}.0`;

/** The typed client of the npm start under test, as `who`. */
const api = (who: Who) => overHttp(url()).api(who).api;

/** CI triggers a deployment through the API, as a pipeline does. */
async function trigger(environment: string, release: string, variables?: Record<string, string>): Promise<string> {
  const created = await ok(api('ci').deployments.$post({ json: { project: 'hello-service', environment, release, ...(variables ? { variables } : {}) }, header: {} }), 201);
  return created.id;
}

/** Follows the deployment's event stream until a view satisfies `done`. */
const until = (id: string, done: Parameters<typeof followUntil>[2], timeoutMs = 60_000) => followUntil(overHttp(url()), id, done, timeoutMs);

const pathOf = (id: string) => `/deployments/${encodeURIComponent(id).replaceAll('%3A', ':')}`;

async function person(token: string, options: { javaScript?: boolean; viewport?: { width: number; height: number } } = {}) {
  const { context, page } = await newPerson(browser!, url(), options);
  contexts.push(context);
  await signIn(page, token);
  return page;
}

/** Marks the page, so a later check can tell that it was never reloaded. */
const mark = (page: Page) => page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
const stillSamePage = (page: Page) => page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded === true);

const buttonsIn = async (locator: Locator) => (await locator.getByRole('button').allInnerTexts()).map((text) => text.trim());
const status = (page: Page, value: string) => page.locator('#deployment-status', { hasText: value }).waitFor();

/**
 * Clicks a button that posts a form and waits until the page it leads to has loaded. Without
 * JavaScript a click returns before that navigation ends, and a reload in its middle fails.
 */
async function submit(page: Page, button: Locator): Promise<void> {
  const loaded = page.waitForEvent('load');
  await button.click();
  await loaded;
}

/** Presses Tab (nothing else) until the focused element matches; fails naming everything it passed. */
async function tabTo(page: Page, what: string, matches: (element: { tag: string; text: string; id: string }) => boolean): Promise<void> {
  const passed: string[] = [];
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const element = document.activeElement as HTMLElement | null;
      return { tag: element?.tagName.toLowerCase() ?? '', text: (element?.innerText ?? '').trim().replace(/\s+/g, ' '), id: element?.id ?? '' };
    });
    if (matches(focused)) return;
    passed.push(`${focused.tag}${focused.id ? `#${focused.id}` : ''} "${focused.text.slice(0, 40)}"`);
  }
  throw new Error(`Tab never reached ${what}; it passed: ${passed.join(', ')}`);
}

describe('the dashboard, in a real browser against npm start', () => {
  it('two release managers: one assigns and proceeds with notes, the other watches every change live', async () => {
    const release = newRelease();
    // Some history for the list: one that failed, then one that succeeded.
    const failed = await trigger('qa', `${release}-rc.1`, { ExitCode: '3', DeploySeconds: '0' });
    const succeeded = await trigger('qa', release);
    await Promise.all([until(succeeded, (view) => view.status === 'Succeeded'), until(failed, (view) => view.status === 'Failed')]);
    const [jamie, morgan] = await Promise.all([person('jjones-demo-token'), person('mlee-demo-token')]);
    await mark(jamie);

    // CI sends it to production; it appears in Jamie's "Waiting for you" without a reload.
    const id = await trigger('production', release);
    const waiting = jamie.locator('#waiting').getByRole('link', { name: new RegExp(`Waiting: ${STEP}.*${release.replaceAll('.', '\\.')} → production`) });
    await waiting.waitFor();
    expect(await stillSamePage(jamie)).toBe(true);
    await jamie.locator('#deployment-list tbody tr').first().getByText('Waiting').waitFor();
    expect(await jamie.locator('#deployment-list').innerText()).toMatch(/Waiting[\s\S]*Succeeded[\s\S]*Failed/);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await jamie.screenshot({ path: join(SCREENSHOTS, 'deployments.png'), fullPage: true });
    expect(await accessibilityProblems(jamie)).toEqual([]);

    await waiting.click();
    await morgan.goto(pathOf(id));
    for (const page of [jamie, morgan]) {
      await page.getByRole('heading', { name: `Waiting: ${STEP}` }).waitFor();
      expect(await page.locator('#banner').innerText()).toContain('Nobody has taken responsibility yet.');
      expect(await buttonsIn(page.locator('#banner'))).toEqual(['Assign to me']);
      await mark(page);
    }
    // The instructions, as markdown: the release in bold.
    await jamie.getByText('Show details').click();
    expect(await jamie.locator('#instructions strong').innerText()).toBe(release);

    await jamie.getByRole('button', { name: 'Assign to me' }).click();
    await jamie.locator('#assignee', { hasText: 'Assigned to you (Jamie Jones).' }).waitFor();
    expect(await buttonsIn(jamie.locator('#banner'))).toEqual(['Proceed', 'Abort']);

    // Morgan's page changes by itself: Jamie holds it now, and all Morgan may do is take it over.
    await morgan.locator('#assignee', { hasText: 'Assigned to Jamie Jones (jjones).' }).waitFor();
    expect(await buttonsIn(morgan.locator('#banner'))).toEqual(['Take over…']);
    expect(await stillSamePage(morgan)).toBe(true);

    await jamie.getByText('Show details').click();
    // Notes are invited, never required.
    const field = jamie.getByLabel('Notes');
    expect(await field.getAttribute('placeholder')).toBe('What you checked, or why you abort (optional)');
    expect(await field.getAttribute('required')).toBeNull();
    const notes = `Checked with Rick for ${release}, got the all-clear; Michelle is out at a meeting.`;
    await jamie.getByLabel('Notes').fill(notes);
    await jamie.mouse.move(0, 0);
    await jamie.screenshot({ path: join(SCREENSHOTS, 'waiting-deployment.png'), fullPage: true });
    expect(await accessibilityProblems(jamie)).toEqual([]);
    expect(await accessibilityProblems(morgan)).toEqual([]);
    await jamie.getByRole('button', { name: 'Proceed' }).click();

    for (const page of [jamie, morgan]) {
      await status(page, 'Succeeded');
      await page.locator('#decisions blockquote', { hasText: notes }).waitFor();
      expect(await page.locator('#decisions').innerText()).toContain(`${STEP}: proceeded by Jamie Jones`);
      expect(await page.locator('#banner').isHidden()).toBe(true);
      expect(await page.locator('#steps .badge').allInnerTexts()).toEqual(['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded']);
      expect(await page.locator('#timeline').innerText()).toMatch(/Jamie Jones\s+Take responsibility\s+Accepted/);
      expect(await page.getByRole('link', { name: 'Open in Temporal Web' }).getAttribute('href')).toBe(
        `${stack!.uiUrl}/namespaces/default/workflows/${encodeURIComponent(id)}`,
      );
    }
    // The last step's log has the sign-off, which read the notes as a variable.
    expect(await accessibilityProblems(morgan)).toEqual([]);
    await morgan.getByText('Log of Record sign-off').click();
    expect(await morgan.locator('#steps li').last().locator('pre').innerText()).toContain(`Signed off by Jamie Jones: ${notes}`);
    expect(await stillSamePage(morgan)).toBe(true);
    expect(scriptErrors(jamie)).toEqual([]);
    expect(scriptErrors(morgan)).toEqual([]);
  }, 120_000);

  it('the abort path works without JavaScript, refuses notes over the limit, and the watcher sees it end Aborted', async () => {
    const release = newRelease();
    const id = await trigger('production', release);
    await until(id, (view) => view.status === 'Waiting');
    const [jamie, morgan] = await Promise.all([person('jjones-demo-token', { javaScript: false }), person('mlee-demo-token')]);
    await Promise.all([jamie.goto(pathOf(id)), morgan.goto(pathOf(id))]);
    await mark(morgan);

    await jamie.getByRole('button', { name: 'Assign to me' }).click();
    await jamie.locator('#assignee', { hasText: 'Assigned to you' }).waitFor();
    await morgan.locator('#assignee', { hasText: 'Assigned to Jamie Jones' }).waitFor();

    // Notes over the limit (past the field's own maxlength, as a hand-made form could send them):
    // the server refuses in the one rule's words, next to the Notes field, and keeps what was typed.
    await jamie.getByLabel('Notes').evaluate((field: HTMLTextAreaElement) => {
      field.removeAttribute('maxlength');
      field.value = 'x'.repeat(4001);
    });
    const refused = jamie.waitForResponse((response) => response.url().endsWith('/abort'));
    await jamie.getByRole('button', { name: 'Abort' }).click();
    expect((await refused).status()).toBe(400);
    const error = jamie.locator('#decide-error');
    expect(await error.innerText()).toContain('Notes may be at most 4000 characters; these are 4001.');
    expect(await jamie.getByLabel('Notes').inputValue()).toHaveLength(4001);
    expect(await jamie.getByLabel('Notes').getAttribute('aria-describedby')).toContain('decide-error');
    expect(await jamie.locator('#deployment-status').innerText()).toBe('Waiting');

    await jamie.getByLabel('Notes').fill('The trading desk asked us to wait until the close.');
    await submit(jamie, jamie.getByRole('button', { name: 'Abort' }));
    await until(id, (view) => view.status === 'Aborted');
    await jamie.reload();
    for (const page of [jamie, morgan]) {
      await status(page, 'Aborted');
      expect(await page.locator('#outcome').innerText()).toContain(`Aborted at “${STEP}” by Jamie Jones`);
      await page.locator('#decisions blockquote', { hasText: 'The trading desk asked us to wait until the close.' }).waitFor();
      expect(await page.locator('#steps .badge').allInnerTexts()).toEqual(['Succeeded', 'Aborted', 'Skipped', 'Skipped']);
      expect(await page.locator('#decisions').innerText()).toContain(`Action[${STEP}].Output.Manual.Result`);
    }
    expect(await stillSamePage(morgan)).toBe(true);
  }, 120_000);

  it('a stale page is told who holds the step; taking over asks first and the other holder sees it; a deployer cancels', async () => {
    const release = newRelease();
    const id = await trigger('production', release);
    const waiting = await until(id, (view) => view.status === 'Waiting');
    const iid = waiting.interruptions[0]!.id;
    // Jamie's browser has no JavaScript, so her page stays as it was loaded.
    const [jamie, morgan] = await Promise.all([person('jjones-demo-token', { javaScript: false }), person('mlee-demo-token')]);
    await Promise.all([jamie.goto(pathOf(id)), morgan.goto(pathOf(id))]);
    await mark(morgan);
    await ok(api('mlee').deployments[':id'].interruptions[':iid']['take-responsibility'].$post({ param: { id, iid }, json: {} }));
    await morgan.locator('#assignee', { hasText: 'Assigned to you (Morgan Lee).' }).waitFor();

    // The refusal, in words, next to the button that caused it; the page now shows the real state.
    const refused = jamie.waitForResponse((response) => response.url().endsWith('/take-responsibility'));
    await jamie.getByRole('button', { name: 'Assign to me' }).click();
    expect((await refused).status()).toBe(409);
    expect(await jamie.locator('#banner #take-error').innerText()).toContain('Morgan Lee (mlee) is responsible for this step; ask them, or take it over.');
    expect(await buttonsIn(jamie.locator('#banner'))).toEqual(['Take over…']);

    await jamie.getByRole('button', { name: 'Take over…' }).click();
    await jamie.getByRole('heading', { name: `Take over “${STEP}”?` }).waitFor();
    expect(await jamie.locator('main').innerText()).toContain('Morgan Lee (mlee) is responsible for this step');
    await jamie.getByRole('button', { name: 'Yes, take over' }).click();
    await jamie.locator('#assignee', { hasText: 'Assigned to you (Jamie Jones).' }).waitFor();

    await morgan.locator('#assignee', { hasText: 'Assigned to Jamie Jones (jjones).' }).waitFor();
    expect(await buttonsIn(morgan.locator('#banner'))).toEqual(['Take over…']);
    expect(await morgan.locator('#timeline').innerText()).toContain('took over from mlee');

    await jamie.getByRole('button', { name: 'Cancel deployment…' }).click();
    await submit(jamie, jamie.getByRole('button', { name: 'Yes, cancel it' }));
    await status(morgan, 'Cancelled');
    expect(await morgan.locator('#outcome').innerText()).toContain('Cancelled');
    expect(await stillSamePage(morgan)).toBe(true);
    await jamie.reload();
    await status(jamie, 'Cancelled');
    expect(await buttonsIn(jamie.locator('main'))).toEqual([]);
    // The dashboard's cancel says who asked, as the API's does: never "system".
    const cancelled = await until(id, (view) => view.status === 'Cancelled');
    expect(cancelled.timeline.filter((entry) => entry.action === 'cancel')).toEqual([
      expect.objectContaining({ user: 'jjones', result: 'accepted' }),
    ]);
  }, 120_000);

  it('a viewer sees no action buttons, and the server refuses their forged and cross-site posts', async () => {
    const release = newRelease();
    const id = await trigger('production', release);
    await until(id, (view) => view.status === 'Waiting');
    const vic = await person('vic-demo-token');
    expect(await vic.locator('#signed-in-as').innerText()).toBe('Signed in as Vic Viewer (vic, viewer)');
    expect(await vic.locator('#waiting').innerText()).toContain('Nothing is waiting for you');

    await vic.goto(pathOf(id));
    await vic.getByRole('heading', { name: `Waiting: ${STEP}` }).waitFor();
    expect(await buttonsIn(vic.locator('main'))).toEqual([]);
    expect(await vic.locator('#banner').innerText()).toContain('Only Release managers or Production approvers (or an admin) can act on this step.');
    await vic.goto('/projects');
    await vic.getByRole('heading', { name: 'Hello service (hello-service)' }).waitFor();
    expect(await vic.getByRole('button', { name: 'Deploy' }).count()).toBe(0);

    // The buttons are missing, and the server checks anyway: a hand-made post with a valid token is refused.
    const view = await ok(api('vic').deployments[':id'].$get({ param: { id } }));
    const take = `${pathOf(id)}/interruptions/${view.interruptions[0]!.id}/take-responsibility`;
    const refused = await vic.evaluate(async (action) => {
      const csrf = (document.querySelector('input[name=_csrf]') as HTMLInputElement).value;
      const response = await fetch(action, { method: 'POST', body: new URLSearchParams({ _csrf: csrf }) });
      return { status: response.status, text: await response.text() };
    }, take);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('Vic Viewer (vic) may not act on');

    // Cross-site: another origin, or no CSRF token, changes nothing.
    const crossSite = await vic.request.post(`${url()}${take}`, { form: { _csrf: 'x' }, headers: { Origin: 'https://evil.example' }, maxRedirects: 0 });
    expect(crossSite.status()).toBe(403);
    const noToken = await vic.request.post(`${url()}${take}`, { form: {}, headers: { Origin: url() }, maxRedirects: 0 });
    expect(noToken.status()).toBe(403);
    expect(await noToken.text()).toContain('did not come from this dashboard');
    const after = await ok(api('vic').deployments[':id'].$get({ param: { id } }));
    expect(after.interruptions[0]).toMatchObject({ state: 'Pending', assignee: null });
  }, 120_000);

  it('a keyboard alone signs in, finds the waiting deployment, reads it, assigns it and proceeds', async () => {
    const release = newRelease();
    const id = await trigger('production', release);
    await until(id, (view) => view.status === 'Waiting');
    const { context, page } = await newPerson(browser!, url());
    contexts.push(context);

    await page.goto('/');
    await page.locator('#token').waitFor();
    // The token field has focus on arrival: type, then Enter.
    await page.keyboard.type('jjones-demo-token');
    await page.keyboard.press('Enter');
    await page.getByText('Signed in as').waitFor();

    await tabTo(page, 'the waiting deployment', (element) => element.tag === 'a' && element.text.includes(`${release} → production`));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: `Waiting: ${STEP}` }).waitFor();

    await tabTo(page, '"Show details"', (element) => element.tag === 'summary' && element.text === 'Show details');
    await page.keyboard.press('Space');
    expect(await page.locator('#instructions').getAttribute('open')).not.toBeNull();
    await tabTo(page, '"Assign to me"', (element) => element.tag === 'button' && element.text === 'Assign to me');
    await page.keyboard.press('Enter');
    await page.locator('#assignee', { hasText: 'Assigned to you' }).waitFor();

    await tabTo(page, 'the Notes field', (element) => element.id === 'notes');
    await page.keyboard.type('Approved from the keyboard.');
    await tabTo(page, '"Proceed"', (element) => element.tag === 'button' && element.text === 'Proceed');
    await page.keyboard.press('Space');
    await status(page, 'Succeeded');
    await page.locator('#decisions blockquote', { hasText: 'Approved from the keyboard.' }).waitFor();
    expect(scriptErrors(page)).toEqual([]);
  }, 120_000);

  it('deploys a release from the projects page, showing a bad field next to itself first', async () => {
    const release = newRelease();
    const jamie = await person('jjones-demo-token');
    await jamie.getByRole('link', { name: 'Projects' }).click();
    const form = jamie.getByRole('form', { name: 'Deploy a release' });
    await form.getByLabel('Release', { exact: true }).fill(release);
    await form.getByLabel('Environment').selectOption('qa');
    await form.getByLabel('Variables (optional)').fill('DeploySeconds=0\nnot a pair');
    await form.getByRole('button', { name: 'Deploy' }).click();

    const error = jamie.locator('#hello-service-variables-error');
    expect(await error.innerText()).toContain('Line 2 (“not a pair”) is not KEY=VALUE.');
    // The example has a lifecycle project too: its own form, in a section of its own.
    const section = jamie.locator('#hello-service');
    expect(await section.getByLabel('Variables (optional)').getAttribute('aria-invalid')).toBe('true');
    expect(await section.getByLabel('Release', { exact: true }).inputValue()).toBe(release);
    expect(await accessibilityProblems(jamie)).toEqual([]);

    await section.getByLabel('Variables (optional)').fill('DeploySeconds=0');
    await section.getByRole('button', { name: 'Deploy' }).click();
    await jamie.getByRole('heading', { name: `Hello service ${release} → qa` }).waitFor();
    await status(jamie, 'Succeeded');
    expect(await jamie.locator('#facts').innerText()).toContain('Jamie Jones (jjones)');

    // The list, filtered: only what matches, and a bad filter said in words.
    await jamie.getByRole('link', { name: 'Deployments' }).click();
    await jamie.getByLabel('Environment').selectOption('qa');
    await jamie.getByLabel('Status').selectOption('Succeeded');
    await jamie.getByRole('button', { name: 'Filter' }).click();
    await jamie.waitForURL(/environment=qa&status=Succeeded/);
    const rows = await jamie.locator('#deployment-list tbody tr').allInnerTexts();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toMatch(/^Succeeded[\s\S]*\tqa\t/);
    expect(rows.some((row) => row.includes(release))).toBe(true);
    await jamie.goto('/?status=Finished');
    expect(await jamie.locator('#filter-error').innerText()).toContain('These filters are not valid: status');
    expect(scriptErrors(jamie)).toEqual([]);
  }, 120_000);

  it('a one-click link opened in the browser loses its controls the moment someone else decides, and says it no longer works', async () => {
    const release = newRelease();
    const id = await trigger('production', release);
    const waiting = await until(id, (view) => view.status === 'Waiting');
    // The link an email to Morgan carries, signed as the worker signs it (with the codec's keys in the data directory).
    const token = createLinkSigner(loadCodecKeys(undefined, dataDir)).sign({
      deploymentId: id,
      interruptionId: waiting.interruptions[0]!.id,
      userId: 'users-238',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const morgan = await person('mlee-demo-token');
    await morgan.goto(`/i/${token}`);
    await morgan.getByRole('heading', { name: `${STEP}: Hello service ${release} → production` }).waitFor();
    expect(await buttonsIn(morgan.locator('#banner'))).toEqual(['Assign to me']);
    await mark(morgan);

    // Jamie decides from the API while Morgan's page is open.
    const at = { param: { id, iid: waiting.interruptions[0]!.id } };
    await ok(api('jjones').deployments[':id'].interruptions[':iid']['take-responsibility'].$post({ ...at, json: {} }));
    await ok(api('jjones').deployments[':id'].interruptions[':iid'].proceed.$post({ ...at, json: { notes: 'done' } }));
    await morgan.locator('#one-click', { hasText: 'This link no longer works' }).waitFor();
    expect(await morgan.locator('#one-click').innerText()).toContain('has been decided by Jamie Jones (jjones) (Proceeded). There is nothing left to decide here.');
    expect(await morgan.locator('#banner').isHidden()).toBe(true);
    expect(await morgan.getByRole('button').allInnerTexts()).toEqual(['Sign out']);
    expect(await stillSamePage(morgan)).toBe(true);
    expect(await accessibilityProblems(morgan)).toEqual([]);
    expect(scriptErrors(morgan)).toEqual([]);

    // Opened again later, from the same email: the same answer, 410.
    const again = await morgan.reload();
    expect(again?.status()).toBe(410);
    await morgan.getByRole('link', { name: 'Open the deployment' }).click();
    await status(morgan, 'Succeeded');
  });

  it('signs in with a token into an HttpOnly, SameSite=Strict cookie, refuses a wrong one, and signs out', async () => {
    const { context, page } = await newPerson(browser!, url(), { viewport: { width: 390, height: 844 } });
    contexts.push(context);
    await page.goto('/projects');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await page.getByLabel('Your token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.locator('#token-error').innerText()).toContain('That token belongs to nobody');
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(await context.cookies()).toEqual([]);

    await page.getByLabel('Your token').fill('mlee-demo-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Back where they were going.
    await page.getByRole('heading', { name: 'Projects', exact: true }).waitFor();
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'interlock_session', httpOnly: true, sameSite: 'Strict', secure: false, path: '/' });
    expect(cookie!.value).not.toContain('mlee-demo-token');

    // A link from another site (chat, e-mail): SameSite=Strict withholds the cookie from that first
    // request, and the sign-in page, finding the session after all, goes straight on.
    const elsewhere = url().replace('localhost', '127.0.0.1');
    await page.goto(`${elsewhere}/sign-in`);
    await page.evaluate((target) => (location.href = target), `${url()}/projects`);
    await page.waitForURL(`${url()}/projects`);
    await page.getByText('Signed in as Morgan Lee').waitFor();

    // Behind a proxy that speaks https, the cookie is Secure too.
    const https = await fetch(`${url()}/sign-in`, {
      method: 'POST',
      headers: { 'X-Forwarded-Proto': 'https', Origin: url(), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'token=mlee-demo-token',
      redirect: 'manual',
    });
    expect(https.status).toBe(303);
    expect(https.headers.get('set-cookie')).toMatch(/^interlock_session=[^;]+; Max-Age=43200; Path=\/; HttpOnly; Secure; SameSite=Strict$/);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    expect(await context.cookies()).toEqual([]);
    await page.goto('/');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
  }, 60_000);
});
