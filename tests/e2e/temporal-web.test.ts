import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeBrowser, launchBrowser, newPerson, signIn } from '../support/browser.js';
import { npmStart, type Running } from '../support/npm-start.js';
import { until } from '../support/poll.js';

/**
 * Temporal Web behind Interlock's sign-in, as people meet it with `npm start`: an admin or an
 * operator opens "Open in Temporal Web" from the dashboard and reads a deployment's input decoded,
 * with nothing to set in Temporal Web; everyone else, signed in or not, finds nothing there.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'interlock-temporal-web-'));
const configPath = join(dataDir, 'interlock.yaml');
const SECRET = `vault-${Date.now().toString(36)}-key`;

const person = (id: string, username: string, access: string) => `
  - id: ${id}
    username: ${username}
    displayName: ${username}
    ${access}
    tokenSha256: ${createHash('sha256').update(`${username}-token`).digest('hex')}`;

let stack: Running | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  writeFileSync(configPath, `users:${[
    person('u-1', 'ada', 'roles: [admin]'),
    person('u-2', 'olive', 'grants: [{ role: operator }]'),
    person('u-3', 'dana', 'grants: [{ role: deployer, projects: [vault] }]'),
    person('u-4', 'vic', 'roles: [viewer]'),
    person('u-5', 'ci', 'roles: [deployer]'),
  ].join('')}

projects:
  - id: vault
    name: Vault
    environments: [qa]
    variables:
      ApiKey: { prompted: true, sensitive: true }
    process:
      - name: Deploy
        type: script
        run: echo deploying
`);
  browser = await launchBrowser();
  stack = await npmStart({ INTERLOCK_DATA_DIR: dataDir, INTERLOCK_CONFIG: configPath, HOST: '127.0.0.1' });
}, 180_000);

afterAll(async () => {
  await closeBrowser(browser, contexts);
  await stack?.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

const url = () => stack!.url;
const bearer = (username: string) => ({ Authorization: `Bearer ${username}-token` });

async function signedIn(username: string): Promise<Page> {
  const { context, page } = await newPerson(browser!, url());
  contexts.push(context);
  await signIn(page, `${username}-token`);
  return page;
}

let deployment: { id: string; links: { temporal: string | null } } | undefined;

/** CI deploys Vault with its API key, once for the file; the deployment ends Succeeded. */
async function deployed() {
  if (deployment) return deployment;
  const response = await fetch(`${url()}/api/deployments`, {
    method: 'POST',
    headers: { ...bearer('ci'), 'Content-Type': 'application/json' },
    body: JSON.stringify({ project: 'vault', environment: 'qa', release: '1.0.0', variables: { ApiKey: SECRET } }),
  });
  expect(response.status).toBe(201);
  const created = (await response.json()) as { id: string };
  deployment = await until(
    async () => (await (await fetch(`${url()}/api/deployments/${encodeURIComponent(created.id)}`, { headers: bearer('ci') })).json()) as { id: string; status: string; links: { temporal: string | null } },
    (view) => view.status === 'Succeeded',
    'the deployment to succeed',
  );
  return deployment;
}

describe('Temporal Web at /temporal/', () => {
  it('links each deployment to Temporal Web on Interlock\'s own origin', async () => {
    const { id, links } = await deployed();
    expect(links.temporal).toBe(`${url()}/temporal/namespaces/default/workflows/${encodeURIComponent(id)}`);
  });

  for (const username of ['ada', 'olive']) {
    it(`lets ${username === 'ada' ? 'an admin' : 'an operator'} open it from the dashboard and read the input decoded, with no setting changed`, async () => {
      const { id } = await deployed();
      const page = await signedIn(username);
      await page.goto(`/deployments/${encodeURIComponent(id)}`);
      // The dashboard masks the sensitive value; Temporal Web shows what the workflow was given.
      expect(await page.locator('body').innerText()).not.toContain(SECRET);
      await page.getByRole('link', { name: 'Open in Temporal Web' }).click();
      await page.getByText(SECRET).first().waitFor({ timeout: 30_000 });
      // Temporal Web's own page of that workflow (it adds the run and the tab to the path).
      expect(new URL(page.url()).pathname.startsWith(`/temporal/namespaces/default/workflows/${encodeURIComponent(id)}/`)).toBe(true);
      expect(await page.getByText(/Codec Server could not connect/i).count()).toBe(0);
    }, 90_000);
  }

  it('is not there for a viewer, a deployer of the project, a bearer token, or nobody at all', async () => {
    const { id } = await deployed();
    const path = `/temporal/namespaces/default/workflows/${encodeURIComponent(id)}`;
    for (const username of ['vic', 'dana']) {
      const page = await signedIn(username);
      const response = await page.goto(path);
      expect(response?.status(), username).toBe(404);
      expect(await page.locator('h1').innerText()).toBe('Not found');
      expect(await page.locator('body').innerText()).not.toContain(SECRET);
    }
    // Temporal Web's own API (what Terminate, Signal and Reset call) alike.
    for (const headers of [{}, bearer('ada')]) {
      expect((await fetch(`${url()}/temporal/`, { headers })).status).toBe(404);
      const terminate = await fetch(`${url()}/temporal/api/v1/namespaces/default/workflows/${encodeURIComponent(id)}/terminate`, { method: 'POST', headers });
      expect(terminate.status).toBe(404);
    }
  }, 60_000);

  it('listens on loopback only, so the way in is through Interlock', () => {
    const port = Number(stack!.env.TEMPORAL_UI_PORT);
    const listening = readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[3] === '0A' && parseInt(fields[1]!.split(':')[1]!, 16) === port)
      .map((fields) => fields[1]!.split(':')[0]);
    // 0100007F is 127.0.0.1 as /proc/net/tcp writes it.
    expect(listening).toEqual(['0100007F']);
  });
});
