import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, type Who } from '../support/api.js';
import { accessibilityProblems, closeBrowser, launchBrowser, newPerson, scriptErrors, signIn } from '../support/browser.js';
import { tokens } from '../support/api.js';
import { GO_LIVE_PROJECT, securityTeamsConfig } from '../support/fixtures.js';
import { serveOverHttp, uniqueRelease, useStack, waitFor } from '../support/stack.js';

/**
 * Approval rules and approver inputs on the dashboard (docs/manual-steps.md), in a real Chromium:
 * the banner shows each rule's progress and who may approve; the decision form asks the step's
 * inputs (a list, a text with its pattern, a box to tick); a bad one comes back next to its field.
 */
const config = securityTeamsConfig(GO_LIVE_PROJECT);
const stack = useStack(config);
let server: Awaited<ReturnType<typeof serveOverHttp>> | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
beforeAll(async () => {
  server = await serveOverHttp(stack);
  browser = await launchBrowser();
});
afterAll(async () => {
  await closeBrowser(browser, contexts);
  await server?.close();
});

async function person(who: Who): Promise<Page> {
  const { context, page } = await newPerson(browser!, server!.url);
  contexts.push(context);
  await signIn(page, tokens[who]);
  return page;
}

/** Clicks a button that posts a form, and waits for the page it leads to. */
async function submit(page: Page, name: string): Promise<void> {
  const loaded = page.waitForEvent('load');
  await page.getByRole('button', { name, exact: true }).click();
  await loaded;
}

describe('approval rules and inputs on the dashboard', () => {
  it('shows each rule\'s progress and who may approve; asks the inputs; refuses a bad one next to its field; two people approve', async () => {
    const { id } = await ok(stack.trigger({ project: 'guarded', environment: 'production', release: uniqueRelease() }), 201);
    await waitFor(stack, id, (view) => view.status === 'Waiting');
    const path = `/deployments/${encodeURIComponent(id)}`;

    const morgan = await person('mlee');
    await morgan.goto(path);
    const rules = morgan.locator('#rules');
    await expect.poll(() => rules.locator('li').allInnerTexts()).toEqual(['2 from Security: 0 of 2', '1 from Release managers: 0 of 1']);
    expect(await morgan.locator('#may-approve').innerText()).toBe('May approve now: Jamie Jones, Morgan Lee, Vic Viewer (or an admin).');
    await submit(morgan, 'Assign to me');

    // The form asks each input; the browser's own checks pass a ticket that the server refuses.
    await morgan.getByLabel('risk').selectOption('low');
    await morgan.getByLabel('ticket (optional)').fill('see chat');
    await morgan.getByLabel(/backupTaken/).check();
    expect(await accessibilityProblems(morgan)).toEqual([]);
    await submit(morgan, 'Proceed');
    const ticket = morgan.getByLabel('ticket (optional)');
    expect(await ticket.getAttribute('aria-invalid')).toBe('true');
    expect(await morgan.locator('#input-ticket-error').innerText()).toBe('"see chat" does not match CHG-[0-9]+');
    // What was chosen stays chosen; the notes are not what was wrong.
    expect(await morgan.getByLabel('risk').inputValue()).toBe('low');
    expect(await morgan.getByLabel('Notes').getAttribute('aria-invalid')).toBeNull();
    expect(await accessibilityProblems(morgan)).toEqual([]);

    await ticket.fill('CHG-7');
    await morgan.getByLabel(/backupTaken/).check();
    await submit(morgan, 'Proceed');
    await expect.poll(() => morgan.locator('#rules li').allInnerTexts()).toEqual(['2 from Security: 1 of 2 (Morgan Lee)', '1 from Release managers: met (Morgan Lee)']);

    const vic = await person('vic');
    await vic.goto(path);
    expect(await vic.locator('#may-approve').innerText()).toBe('May approve now: Vic Viewer (or an admin).');
    await submit(vic, 'Assign to me');
    await vic.getByLabel('risk').selectOption('high');
    await vic.getByLabel('ticket (optional)').fill('CHG-8');
    await vic.getByLabel(/backupTaken/).check();
    await submit(vic, 'Proceed');
    const done = await waitFor(stack, id, (view) => view.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    expect(done.steps[1]?.log).toBe('risk=high ticket=CHG-8 backup=True\n');
    expect([...scriptErrors(morgan), ...scriptErrors(vic)]).toEqual([]);
  });
});
