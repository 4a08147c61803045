import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG_PATH } from '../../config/load.js';
import { freePort } from '../../temporal/dev-server.js';
import type { CloudEvent } from '../../core/cloud-events.js';
import { ok, overHttp, waitForRelease, type Who } from '../support/api.js';
import { accessibilityProblems, closeBrowser, launchBrowser, newPerson, scriptErrors, signIn } from '../support/browser.js';
import { flakyService } from '../support/fixtures.js';
import { npmStart, type Running } from '../support/npm-start.js';
import { eventually } from '../support/poll.js';
import { startSmtpServer, startWebhookReceiver } from '../support/receivers.js';

/**
 * The dashboard of lifecycle releases and of notifications, as people meet them in a real browser
 * against a real `npm start`: the example config (its Keptn shipyard), with email to a real SMTP
 * server and a project whose failing step asks a person.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'interlock-release-page-'));
const configPath = join(dataDir, 'interlock.yaml');
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let executor: Awaited<ReturnType<typeof startWebhookReceiver>>;
let stack: Running | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  smtp = await startSmtpServer();
  // Keptn's job executor, as a small CloudEvents receiver: it answers each task's .triggered event
  // with .started and .finished, posted to the Keptn event API of the npm start under test.
  executor = await startWebhookReceiver(({ event }) => {
    if (event?.type.endsWith('.triggered')) setTimeout(() => void answer(event), 50);
    return 200;
  });
  const example = readFileSync(EXAMPLE_CONFIG_PATH, 'utf8').replace('shipyardFile: shipyard.yaml', `shipyardFile: ${join(EXAMPLE_CONFIG_PATH, '..', 'shipyard.yaml')}`);
  writeFileSync(configPath, `${example}
${flakyService().replace(/^/gm, '  ')}

  - id: helloservice
    name: Hello service
    shipyardFile: ${join(EXAMPLE_CONFIG_PATH, '..', 'shipyard.yaml')}
    tasks:
      je-deployment: { type: external, executors: [je-bot] }
      je-test: { type: external, executors: [je-bot] }

notifications:
  channels:
    - id: mail
      email: { to: [responsible] }
    - id: job-executor
      webhook: { url: '${executor.url}' }
  subscriptions:
    - events: [interruption.created]
      projects: [podtatohead, flaky]
      channels: [mail]
    - events: ['sh.keptn.event.je-deployment.triggered', 'sh.keptn.event.je-test.triggered']
      projects: [helloservice]
      channels: [job-executor]
`);
  const port = String(await freePort());
  browser = await launchBrowser();
  stack = await npmStart({
    INTERLOCK_DATA_DIR: dataDir,
    INTERLOCK_CONFIG: configPath,
    PORT: port,
    INTERLOCK_PUBLIC_URL: `http://localhost:${port}`,
    SMTP_URL: smtp.url,
    // A config of one's own with the demo tokens: listen on loopback, as the example does.
    HOST: '127.0.0.1',
  });
}, 180_000);

afterAll(async () => {
  await closeBrowser(browser, contexts);
  await stack?.shutdown();
  await smtp?.close();
  await executor?.close();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

let minor = 1;
const newRelease = () => `0.${minor++}.0`;

/** The typed client of the npm start under test, as `who`, or with `x-token` as Keptn's API takes it. */
const api = (who: Who | null, headers: Record<string, string> = {}) => overHttp(stack!.url).api(who, headers).api;
/** The release (by id or keptnContext) once `done` holds of it. */
const releaseWhen = (id: string, done: Parameters<typeof waitForRelease>[2]) => waitForRelease(overHttp(stack!.url), id, done, 60_000);

async function person(token: string | undefined, next = '/') {
  const { context, page } = await newPerson(browser!, stack!.url);
  contexts.push(context);
  if (token) await signIn(page, token, next);
  return page;
}

async function releaseWaitingForApproval(): Promise<{ id: string; release: string }> {
  const release = newRelease();
  const created = await ok(api('ci').releases.$post({ json: { project: 'podtatohead', release } }), 201);
  await releaseWhen(created.id, (view) => view.status === 'Waiting');
  return { id: created.id, release };
}

/** The executor's answer to a task's `.triggered` event, with its own token: `.started`, then `.finished` with a pass (as CloudEvents, raw). */
async function answer(event: CloudEvent) {
  const post = (kind: string, data: Record<string, unknown>) =>
    fetch(`${stack!.url}/api/v1/event`, {
      method: 'POST',
      headers: { 'x-token': 'je-bot-demo-token', 'Content-Type': 'application/cloudevents+json' },
      body: JSON.stringify({ specversion: '1.0', type: event.type.replace('.triggered', `.${kind}`), source: 'job-executor', shkeptncontext: event.shkeptncontext, triggeredid: event.id, data }),
    });
  const scope = { project: event.data.project, stage: event.data.stage, service: event.data.service };
  await post('started', { ...scope, status: 'succeeded' });
  await post('finished', { ...scope, status: 'succeeded', result: 'pass', message: `job-executor ran ${event.type}` });
}

const releasePath = (id: string) => `/releases/${encodeURIComponent(id).replaceAll('%3A', ':')}`;

describe('a release\'s page', () => {
  it('shows the stages left to right, production blue and waiting for approval, and lets a release manager approve; it goes on live', async () => {
    const { id, release } = await releaseWaitingForApproval();
    const page = await person('jjones-demo-token', releasePath(id));
    await page.goto(releasePath(id));
    await page.getByRole('heading', { name: `Podtato head ${release}` }).waitFor();
    const qa = page.locator('.stage[data-stage="qa"]');
    const production = page.locator('.stage[data-stage="production"]');
    expect((await qa.boundingBox())!.x).toBeLessThan((await production.boundingBox())!.x);
    await expect(qa.locator('.sequence').innerText()).resolves.toMatch(/delivery\s+Succeeded\s+pass/);
    const waiting = production.locator('.sequence-approval');
    await waiting.getByText('waiting for approval').waitFor();
    expect(await waiting.evaluate((element) => getComputedStyle(element).borderColor)).toBe('rgb(29, 100, 216)');
    await page.getByRole('heading', { name: 'Waiting for approval: approval' }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.getByRole('button', { name: 'Assign to me' }).click();
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    expect(await page.getByRole('button', { name: 'Decline' }).isVisible()).toBe(true);
    await page.getByLabel('Notes').fill('qa is green');
    await page.getByRole('button', { name: 'Approve' }).click();
    // Back on the release's page, which then follows the release live, without reloading, to its end.
    await page.waitForURL((address) => address.pathname === releasePath(id) && !address.hash);
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await page.locator('#release-status', { hasText: 'Succeeded' }).waitFor({ timeout: 30_000 });
    await expect(production.locator('.sequence').innerText()).resolves.toMatch(/delivery\s+Succeeded\s+pass/);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(scriptErrors(page)).toEqual([]);
  });

  it('shows a viewer the approval without the buttons', async () => {
    const { id } = await releaseWaitingForApproval();
    const page = await person('vic-demo-token', releasePath(id));
    await page.goto(releasePath(id));
    await page.getByRole('heading', { name: 'Waiting for approval: approval' }).waitFor();
    expect(await page.locator('#banner').getByRole('button').count()).toBe(0);
    await ok(api('ci').releases[':id'].cancel.$post({ param: { id } }), [200, 202]);
  });
});

describe('a one-click link from an email', () => {
  it('opens, after signing in, the confirmation page of that interruption for that person; opening it decides nothing', async () => {
    const { id, release } = await releaseWaitingForApproval();
    const mail = await eventually(
      () => smtp.mails.find((m) => m.to.includes('morgan.lee@example.com') && m.parsed.text?.includes(release) && m.parsed.text.includes('/i/')),
      'the approval email to mlee',
    );
    const link = /(http:\/\/localhost:\d+\/i\/\S+)/.exec(mail.parsed.text!)![1]!;

    // A browser that is not signed in: the link asks for sign-in first, then lands where it points.
    const page = await person(undefined);
    await page.goto(link);
    await page.getByLabel('Your token').fill('mlee-demo-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: `approval: Podtato head ${release} → production` }).waitFor();
    expect(new URL(page.url()).pathname).toBe(new URL(link).pathname);
    expect(await page.getByText('Nothing has been done yet').isVisible()).toBe(true);
    const view = await ok(api('vic').releases[':id'].$get({ param: { id } }));
    const production = await ok(api('vic').deployments[':id'].$get({ param: { id: view.stages[1]!.sequences[0]!.deploymentId! } }));
    expect(production.interruptions[0]).toMatchObject({ state: 'Pending', assignee: null });

    await page.getByRole('button', { name: 'Assign to me' }).click();
    await page.getByLabel('Notes').fill('not before the freeze ends');
    await page.getByRole('button', { name: 'Decline' }).click();
    await page.getByText('there is nothing left to decide here').waitFor();
    expect(scriptErrors(page)).toEqual([]);

    // Someone else who opens mlee's link is told it is not theirs.
    const other = await person('jjones-demo-token');
    await other.goto(link);
    await other.getByRole('heading', { name: 'This link is for someone else' }).waitFor();
  });
});

describe('guided failure in the dashboard', () => {
  it('offers Retry, Ignore and Fail to whoever takes the failed step; Retry runs it again', async () => {
    const created = await ok(api('ci').deployments.$post({ json: { project: 'flaky', environment: 'production', release: newRelease(), variables: { Marker: join(dataDir, `marker-${minor}`) } }, header: {} }), 201);
    const path = `/deployments/${encodeURIComponent(created.id).replaceAll('%3A', ':')}`;
    const page: Page = await person('mlee-demo-token', path);
    await page.goto(path);
    await page.getByRole('heading', { name: 'A step failed: Deploy' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Assign to me' }).click();
    for (const name of ['Retry', 'Ignore and go on', 'Fail the deployment']) await page.getByRole('button', { name }).waitFor();
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.locator('#deployment-status', { hasText: 'Succeeded' }).waitFor({ timeout: 30_000 });
    await page.getByText('Attempt 1 (failed)').waitFor();
    // The record says what was chosen, in words: the decision and the timeline's action.
    expect(await page.locator('#decisions').innerText()).toContain('Deploy: retried by Morgan Lee');
    await page.locator('#timeline td[data-label="Action"]', { hasText: /^Retry$/ }).waitFor();
    expect(scriptErrors(page)).toEqual([]);
  });
});

describe('the seed shipyard with external tasks, end to end', () => {
  it('a Keptn delivery event starts it, the job executor answers qa\'s tasks, production waits for approval, approval.finished lets je-deployment run there', async () => {
    const { keptnContext } = await ok(api(null, { 'x-token': 'ci-demo-token' }).v1.event.$post({
      json: {
        type: 'sh.keptn.event.qa.delivery.triggered',
        specversion: '1.0',
        source: 'https://github.com/keptn/keptn/cli#configuration-change',
        data: { project: 'helloservice', stage: 'qa', service: 'helloservice', configurationChange: { values: { image: 'ghcr.io/podtato-head/helloservice:0.9.1' } } },
      },
    }), 202);
    const waiting = await releaseWhen(keptnContext, (view) => view.status === 'Waiting');
    expect(waiting).toMatchObject({ release: '0.9.1', status: 'Waiting' });
    expect(executor.deliveries.map((d) => d.event?.type)).toEqual(['sh.keptn.event.je-deployment.triggered', 'sh.keptn.event.je-test.triggered']);

    const { events } = await ok(api('vic').v1.event.$get({ query: { keptnContext, type: 'sh.keptn.event.approval.triggered' } }));
    const approval = events[0]!;
    await ok(api(null, { 'x-token': 'mlee-demo-token' }).v1.event.$post({
      json: { type: 'sh.keptn.event.approval.finished', shkeptncontext: keptnContext, triggeredid: approval.id, data: { result: 'pass', status: 'succeeded' } },
    }), 202);
    const release = await releaseWhen(keptnContext, (view) => view.finishedAt !== null);
    expect(release.status).toBe('Succeeded');
    const production = executor.deliveries.filter((d) => d.event?.data.stage === 'production').map((d) => d.event?.type);
    expect(production).toEqual(['sh.keptn.event.je-deployment.triggered']);
  });
});

