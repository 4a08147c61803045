import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, overHttp, type Who } from '../support/api.js';
import { accessibilityProblems, closeBrowser, launchBrowser, newPerson, scriptErrors, signIn } from '../support/browser.js';
import { followUntil } from '../support/events.js';
import { npmStart, type Running } from '../support/npm-start.js';
import { tokens } from '../support/stack.js';

// docs/change-control.md in Chromium against `npm start` with examples/change-control.yaml, its
// freeze moved to now: the Window banner says when it opens; an SRE lead breaks glass with a
// reason; an admin reviews the override on the Overrides page; a release manager approves it to go
// on tomorrow, and the page says when.

const dataDir = mkdtempSync(join(tmpdir(), 'interlock-change-control-'));
const HOUR = 3_600_000;
const opensAt = new Date(Math.ceil((Date.now() + 5 * 24 * HOUR) / HOUR) * HOUR).toISOString();
const configPath = join(dataDir, 'interlock.yaml');
const example = readFileSync(fileURLToPath(new URL('../../examples/change-control.yaml', import.meta.url)), 'utf8');
writeFileSync(configPath, example.replace(/freezes:\n.*\n/, `freezes:\n      - {from: ${new Date(Date.now() - HOUR).toISOString()}, to: ${opensAt}, reason: Database migration}\n`));

let stack: Running | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];

// The stack and the browser start together, and stop together whatever happened.
beforeAll(async () => {
  const [launched, started] = await Promise.allSettled([launchBrowser(), npmStart({ INTERLOCK_DATA_DIR: dataDir, INTERLOCK_CONFIG: configPath })]);
  if (launched.status === 'fulfilled') browser = launched.value;
  if (started.status === 'fulfilled') stack = started.value;
  for (const outcome of [launched, started]) if (outcome.status === 'rejected') throw outcome.reason;
}, 180_000);
afterAll(async () => {
  try {
    await closeBrowser(browser, contexts);
  } finally {
    await stack?.shutdown();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);

const api = (who: Who) => overHttp(stack!.url).api(who).api;

async function person(who: Who) {
  const { context, page } = await newPerson(browser!, stack!.url);
  contexts.push(context);
  await signIn(page, tokens[who]);
  return page;
}

describe('the Window banner and break-glass in the dashboard', () => {
  it('says when it opens; an SRE lead overrides it with a reason; an admin reviews it', async () => {
    const releaseNotes = 'Fixes **checkout**.\n\n<script>window.pwned = true</script> [details](javascript:window.pwned=true)';
    const created = await ok(api('ci').deployments.$post({ json: { project: 'hello-service', environment: 'production', release: '3.1.0', releaseNotes }, header: {} }), 201);
    const id = created.id;
    await followUntil(overHttp(stack!.url), id, (view) => view.interruptions.some((i) => i.kind === 'Window'), 60_000);
    const path = `/deployments/${encodeURIComponent(id).replaceAll('%3A', ':')}`;

    // Jamie sees why it waits and when it opens, and that only SRE leads may override it.
    const jamie = await person('jjones');
    await jamie.goto(path);
    const banner = jamie.locator('#banner');
    await expect.poll(() => banner.getByRole('heading').textContent()).toContain('Waiting for the deployment window: Policy: production');
    expect(await banner.locator('#window-opens').textContent()).toMatch(/^Opens .+ 09:00 Europe\/London/);
    expect(await banner.textContent()).toContain('Database migration');
    expect(await banner.textContent()).toContain('Only SRE leads may override it');
    expect(await banner.getByRole('textbox').count()).toBe(0);
    // The context to decide (docs/change-control.md#the-context-to-decide): the release notes as data, never markup or a script link.
    expect(await banner.locator('#previous').textContent()).toBe('No earlier successful deployment to production.');
    const notes = banner.locator('#release-notes');
    expect(await notes.locator('strong').textContent()).toBe('checkout');
    expect(await notes.textContent()).toContain('<script>window.pwned = true</script>');
    expect(await notes.locator('script, a[href^="javascript:"]').count()).toBe(0);
    expect(await jamie.evaluate(() => 'pwned' in window)).toBe(false);
    expect(await accessibilityProblems(jamie)).toEqual([]);

    // Morgan, an SRE lead, breaks glass with a reason.
    const morgan = await person('mlee');
    await morgan.goto(path);
    await morgan.getByLabel('Reason for overriding the window').fill('Payments are failing in production; 3.1.0 is the fix (INC-4711).');
    expect(await accessibilityProblems(morgan)).toEqual([]);
    await morgan.getByRole('button', { name: 'Override the window' }).click();
    await expect.poll(() => morgan.locator('#banner').getByRole('heading').textContent(), { timeout: 20_000 }).toContain('Waiting for approval: Policy: production');
    expect(scriptErrors(jamie)).toEqual([]);
    expect(scriptErrors(morgan)).toEqual([]);

    // Ada, an admin, finds it on the Overrides page and marks it reviewed.
    const ada = await person('admin');
    await ada.goto('/overrides');
    const row = ada.locator('table.overrides tbody tr').filter({ hasText: 'INC-4711' });
    expect(await row.textContent()).toContain('Morgan Lee (mlee)');
    expect(await accessibilityProblems(ada)).toEqual([]);
    await row.getByLabel('Notes').fill('Justified: INC-4711 was a payment outage.');
    await row.getByRole('button', { name: 'Mark reviewed' }).click();
    await ada.locator('#no-overrides').waitFor();
    const listed = await ok(api('admin').overrides.$get({ query: { reviewed: 'true' } }));
    expect(listed.overrides[0]).toMatchObject({ deploymentId: id, reviewed: { user: { username: 'admin' }, notes: 'Justified: INC-4711 was a payment outage.' } });

    // Jamie approves now and lets it go on tomorrow at 06:00 UTC (docs/change-control.md#deploy-later).
    await jamie.goto(path);
    await jamie.getByRole('button', { name: 'Assign to me' }).click();
    const tomorrow = new Date(Date.now() + 24 * HOUR).toISOString().slice(0, 10);
    await jamie.getByLabel('Go on later, at (UTC)').fill(`${tomorrow}T06:00`);
    expect(await accessibilityProblems(jamie)).toEqual([]);
    await jamie.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => jamie.locator('#outcome').textContent(), { timeout: 20_000 }).toContain(`Scheduled: it was proceeded to go on at ${tomorrow}T06:00:00.000Z`);
    expect(await jamie.locator('#deployment-status').textContent()).toBe('Waiting');
    expect(scriptErrors(jamie)).toEqual([]);
  }, 120_000);
});
