import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sha256Hex } from '../../service/signing.js';
import { ok, overHttp, tokens, untilAnswered } from '../support/api.js';
import { accessibilityProblems, closeBrowser, launchBrowser, newPerson } from '../support/browser.js';
import { helloService, project, TRADERS_STEP } from '../support/fixtures.js';
import { keptPort, npmStart, type Running } from '../support/npm-start.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import { uniqueRelease } from '../support/stack.js';

/**
 * Sign-in with OpenID Connect as a new user tries it: `npm start` with a config whose `auth.oidc`
 * points at a real provider (the npm `oidc-provider`, on loopback, another site than Interlock's),
 * in a real browser. A person who is in no `users:` entry signs in on the provider's own page,
 * lands on the dashboard with the team their provider group maps to, and decides a manual step;
 * another project stays out of sight (404); signing out ends the provider's session too.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'interlock-oidc-'));
let provider: TestProvider | undefined;
let running: Running | undefined;
let interlockUrl = '';
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
const configFile = join(dataDir, 'interlock.yaml');
/** The config, with the provider group that makes one a release manager. */
let config: (releaseManagersGroup: string) => string = () => '';

beforeAll(async () => {
  const port = await keptPort();
  interlockUrl = `http://127.0.0.1:${port}`;
  const started = await startTestProvider({
    interlockUrl,
    people: {
      mlee: { name: 'Morgan Lee', email: 'morgan.lee@example.com', groups: ['okta-release-managers', 'okta-everyone'] },
      pat: { name: 'Pat Doe', email: 'pat@example.com', groups: ['okta-everyone'] },
    },
  });
  provider = started;
  config = (releaseManagersGroup: string) => `
teams:
  - { id: release-managers, name: Release managers, groups: [${releaseManagersGroup}], grants: [{ role: deployer, projects: [hello-service] }] }
users:
  - { id: ci, username: ci, displayName: CI, roles: [deployer], tokenSha256: ${sha256Hex(tokens.ci)} }
projects:
${helloService(`
- { name: Deploy, type: script, run: echo deployed }
- { name: ${TRADERS_STEP}, type: manual, instructions: Tell the desk., responsibleTeams: [release-managers], environments: [production] }
`).replace(/^/gm, '  ')}
${project('billing', 'Billing', '- { name: Deploy, type: script, run: echo billed }').replace(/^/gm, '  ')}
auth:
  oidc:
    name: Test IdP
    issuer: ${started.issuer}
    clientId: ${started.clientId}
    clientSecret: { env: OIDC_CLIENT_SECRET }
    scopes: [openid, profile, email, groups]
`;
  writeFileSync(configFile, config('okta-release-managers'));
  browser = await launchBrowser();
  running = await npmStart({
    PORT: String(port),
    HOST: '127.0.0.1',
    INTERLOCK_PUBLIC_URL: interlockUrl,
    INTERLOCK_CONFIG: configFile,
    INTERLOCK_DATA_DIR: dataDir,
    OIDC_CLIENT_SECRET: provider.clientSecret,
  });
}, 180_000);

afterAll(async () => {
  await closeBrowser(browser, contexts);
  await running?.shutdown();
  await provider?.close();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

/** The JSON API of the npm start under test, as the CI user. */
const ci = () => overHttp(interlockUrl).api('ci').api;

/** CI starts a deployment, as a pipeline does; its id once it is where `ready` says. */
async function deploy(projectId: string, environment: string, ready: (status: string) => boolean): Promise<string> {
  const created = await ok(ci().deployments.$post({ json: { project: projectId, environment, release: uniqueRelease() }, header: {} }), 201);
  await untilAnswered(() => ci().deployments[':id'].$get({ param: { id: created.id } }), (view) => ready(view.status), `${created.id} to get there`);
  return created.id;
}

const pathOf = (id: string) => `/deployments/${encodeURIComponent(id).replaceAll('%3A', ':')}`;

/** A browser of its own, signed in on the provider's own page as `login`; on the dashboard afterwards. */
async function signInWithProvider(login: string): Promise<Page> {
  const { context, page } = await newPerson(browser!, interlockUrl);
  contexts.push(context);
  await page.goto('/');
  expect(await accessibilityProblems(page)).toEqual([]);
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  // The provider's pages: its sign-in form, then its consent.
  await page.waitForURL((url) => url.origin === provider!.issuer);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((url) => url.origin === interlockUrl && url.pathname === '/');
  await page.getByText('Signed in as').waitFor();
  return page;
}

/** GET /api/me in the person's browser, with their session. */
async function me(page: Page): Promise<unknown> {
  const response = await page.goto('/api/me');
  expect(response?.status()).toBe(200);
  return JSON.parse(await page.locator('body').innerText());
}

describe('sign-in with the identity provider', () => {
  it('a person in no users: entry signs in on the provider\'s page, gets the team of their group, and decides a manual step', async () => {
    const waiting = await deploy('hello-service', 'production', (status) => status === 'Waiting');
    const elsewhere = await deploy('billing', 'qa', (status) => status === 'Succeeded');

    const page = await signInWithProvider('mlee');
    expect(await page.locator('#signed-in-as').innerText()).toBe('Signed in as Morgan Lee (mlee, deployer on hello-service)');
    expect(await me(page)).toMatchObject({ id: 'oidc:mlee', username: 'mlee', displayName: 'Morgan Lee', email: 'morgan.lee@example.com', teams: [{ id: 'release-managers', name: 'Release managers' }] });

    await page.goto(pathOf(waiting));
    await page.getByRole('heading', { name: `Waiting: ${TRADERS_STEP}` }).waitFor();
    await page.getByRole('button', { name: 'Assign to me' }).click();
    await page.locator('#assignee', { hasText: 'Assigned to you (Morgan Lee).' }).waitFor();
    await page.getByRole('button', { name: 'Proceed' }).click();
    await page.locator('#deployment-status', { hasText: 'Succeeded' }).waitFor();
    expect(await page.locator('#decisions').innerText()).toContain(`${TRADERS_STEP}: proceeded by Morgan Lee`);

    // Another project is not there for them at all.
    expect((await page.goto(pathOf(elsewhere)))?.status()).toBe(404);
    const view = await ok(ci().deployments[':id'].$get({ param: { id: waiting } }));
    expect(view.interruptions[0]?.assignee).toMatchObject({ id: 'oidc:mlee', username: 'mlee' });
  });

  it('a change of the group mapping applies to a signed-in person\'s next request, with no restart and no new sign-in', async () => {
    const page = await signInWithProvider('mlee');
    const waiting = await deploy('hello-service', 'production', (status) => status === 'Waiting');
    expect((await page.goto(pathOf(waiting)))?.status()).toBe(200);
    try {
      // release-managers now maps another group: Morgan's session stays, her team and grant go.
      writeFileSync(configFile, config('okta-release-managers-2027'));
      await vi.waitFor(async () => expect(await me(page)).toMatchObject({ teams: [], grants: [] }), { timeout: 10_000, interval: 200 });
      expect((await page.goto(pathOf(waiting)))?.status()).toBe(404);
    } finally {
      writeFileSync(configFile, config('okta-release-managers'));
    }
    await vi.waitFor(async () => expect(await me(page)).toMatchObject({ teams: [{ id: 'release-managers' }] }), { timeout: 10_000, interval: 200 });
  });

  it('a person whose groups map to no team signs in and sees nothing', async () => {
    const hidden = await deploy('hello-service', 'qa', (status) => status === 'Succeeded');
    const page = await signInWithProvider('pat');
    expect(await page.locator('#signed-in-as').innerText()).toBe('Signed in as Pat Doe (pat, no access)');
    expect(await me(page)).toMatchObject({ id: 'oidc:pat', teams: [], grants: [] });
    expect((await page.goto(pathOf(hidden)))?.status()).toBe(404);
  });

  it('signing out ends the provider\'s session too: the next sign-in asks for the login again', async () => {
    const page = await signInWithProvider('mlee');
    const before = provider!.logouts();
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The provider's own question, then back to Interlock.
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByText('You are signed out.').waitFor();
    expect(new URL(page.url()).origin).toBe(interlockUrl);
    expect(provider!.logouts()).toBe(before + 1);
    expect((await page.goto('/api/me'))?.status()).toBe(401);

    await page.goto('/sign-in');
    await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
    await page.locator('input[name="login"]').waitFor();
  });

  it('refuses a callback that no sign-in of this browser started, and a next that leaves the site', async () => {
    const { context, page } = await newPerson(browser!, interlockUrl);
    contexts.push(context);
    const forged = await page.goto('/auth/oidc/callback?code=stolen&state=guessed');
    expect(forged?.status()).toBe(400);
    expect(await page.locator('#provider-error').innerText()).toContain('started in another browser');
    expect(await accessibilityProblems(page)).toEqual([]);
    expect((await page.goto('/api/me'))?.status()).toBe(401);

    // A callback whose state is not the one this browser's sign-in sent: refused before the code is used.
    const login = await fetch(`${interlockUrl}/auth/oidc/login?next=/`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    const authorize = new URL(login.headers.get('location')!);
    expect(authorize.origin).toBe(provider!.issuer);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${interlockUrl}/auth/oidc/callback`);
    const flowCookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const answer = new URLSearchParams({ code: 'stolen', state: `not-${authorize.searchParams.get('state')}`, iss: provider!.issuer });
    const mismatched = await fetch(`${interlockUrl}/auth/oidc/callback?${answer}`, { headers: { Cookie: flowCookie } });
    expect(mismatched.status).toBe(401);
    expect(await mismatched.text()).toContain('unexpected &quot;state&quot;');

    // A next that is not a path of this site brings the person to the dashboard's front page instead.
    await page.goto(`/auth/oidc/login?next=${encodeURIComponent('//evil.example/')}`);
    await page.locator('input[name="login"]').fill('pat');
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.origin === interlockUrl && url.pathname === '/');
  });
});
