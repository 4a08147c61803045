import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (scripts/install-chromium.sh installs it when missing); override with CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A real headless Chromium, quiet: no network of its own, no first-run work, no sandbox (CI runs as root). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM) && !process.env.CHROMIUM_PATH) {
    // On a fresh machine `npm test` installs Debian's package itself, as .ci/run does.
    execFileSync(fileURLToPath(new URL('../../scripts/install-chromium.sh', import.meta.url)), { stdio: 'inherit' });
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install Debian's "chromium" package (or set CHROMIUM_PATH).`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Closes every person's context and the browser, whatever state a failed test left them in. */
export async function closeBrowser(browser: Browser | undefined, contexts: BrowserContext[]): Promise<void> {
  await Promise.all(contexts.map((context) => context.close().catch(() => undefined)));
  await browser?.close().catch(() => undefined);
}

export interface PersonOptions {
  viewport?: { width: number; height: number } | undefined;
  /** false: a browser with JavaScript off, to check that the pages work without it. */
  javaScript?: boolean | undefined;
}

/** A browser context of its own (its own cookies), as a second person at another computer. */
export async function newPerson(browser: Browser, baseURL: string, options: PersonOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    baseURL,
    viewport: options.viewport ?? { width: 1280, height: 900 },
    javaScriptEnabled: options.javaScript ?? true,
    reducedMotion: 'reduce',
  });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  // A script error on any page fails the test that caused it, instead of passing unnoticed.
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of (4\d\d)/.test(message.text())) {
      errors.push(message.text());
    }
  });
  (page as Page & { scriptErrors?: string[] }).scriptErrors = errors;
  return { context, page };
}

/** Script errors and CSP violations the page reported so far. */
export const scriptErrors = (page: Page): string[] => (page as Page & { scriptErrors?: string[] }).scriptErrors ?? [];

/** Signs in through the sign-in page with a demo token, as a person does. */
export async function signIn(page: Page, token: string, next = '/'): Promise<void> {
  await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Your token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Signed in as').waitFor();
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * WCAG 2.1 A and AA problems axe-core finds on the page as it is now, one line each (rule, impact,
 * where). axe is evaluated through the DevTools protocol, so the page's own CSP stays in force; it
 * needs a page with JavaScript on.
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(options: object): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const result = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return result.violations.map((violation) => ({ id: violation.id, impact: violation.impact, targets: violation.nodes.map((node) => node.target.join(' ')) }));
  });
  return violations.map((violation) => `${violation.id} (${violation.impact}): ${violation.targets.join(', ')}`);
}
