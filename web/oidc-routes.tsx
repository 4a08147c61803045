import { type Context, Hono } from 'hono';
import { type OidcSignIn, ProviderUnavailable } from '../auth/oidc-sign-in.js';
import { principalOfIdentity } from '../auth/oidc-identity.js';
import type { Sessions } from '../auth/sessions.js';
import type { Config } from '../config/schema.js';
import { auditActor } from '../service/audit.js';
import { ErrorMessage } from './components.js';
import { type DashboardEnv, safeNext } from './guard.js';
import { page } from './layout.js';
import { SignInPage } from './pages/sign-in-page.js';

/**
 * Sign-in with the identity provider (docs/security.md): `GET /auth/oidc/login?next=<path>` sends
 * the browser to the provider; the provider sends it back to `GET /auth/oidc/callback`, which checks
 * the answer (auth/oidc-sign-in.ts), starts the session and goes on to `next`. Without `auth.oidc`
 * both are 404.
 */
export function oidcRoutes(oidc: OidcSignIn, sessions: Sessions, config: Config) {
  const app = new Hono<DashboardEnv>();

  const unavailable = (c: Context, message: string, status: 400 | 401 | 404 | 503) =>
    page(c, { title: 'Sign in', session: undefined, status }, (
      <section class="card narrow" aria-labelledby="error-heading">
        <h1 id="error-heading">{status === 404 ? 'Not found' : 'Not signed in'}</h1>
        <ErrorMessage id="page-error" message={message} />
        <p>
          <a href="/sign-in">Back to sign-in</a>
        </p>
      </section>
    ));

  app.get('/auth/oidc/login', async (c) => {
    const next = safeNext(c.req.query('next'));
    if (!oidc.settings()) return unavailable(c, 'This Interlock has no identity provider to sign in with; sign in with your token.', 404);
    try {
      return c.redirect((await oidc.loginUrl(c, next)).href, 303);
    } catch (error) {
      if (!(error instanceof ProviderUnavailable)) throw error;
      c.var.audit.record({ action: 'sign-in-refused', reason: `the identity provider is unavailable: ${error.message}`, request: { method: c.req.method, path: c.req.path } }, c.var.logger);
      return unavailable(c, `${error.message} Sign in with your token, or try again later.`, 503);
    }
  });

  app.get('/auth/oidc/callback', async (c) => {
    const settings = oidc.settings();
    if (!settings) return unavailable(c, 'This Interlock has no identity provider to sign in with; sign in with your token.', 404);
    const answer = await oidc.callback(c);
    if ('refused' in answer) {
      c.var.audit.record({ action: 'sign-in-refused', reason: `the identity provider's answer: ${answer.refused}`, request: { method: c.req.method, path: c.req.path } }, c.var.logger);
      return page(c, { title: 'Sign in', session: undefined, status: answer.status }, <SignInPage next="/" providerError={answer.refused} provider={settings.name} />);
    }
    sessions.startWithIdentity(c, answer.identity);
    c.var.audit.record({ action: 'signed-in', actor: auditActor(principalOfIdentity(config, answer.identity)), request: { method: c.req.method, path: c.req.path } }, c.var.logger);
    // The provider's redirect is a navigation from another site, which carries no SameSite=Strict cookie all the way to
    // `next`; this page, on Interlock's own origin, goes on there, so the session's cookie goes along.
    return c.html(onwardPage(safeNext(answer.next), 'Signed in.'));
  });

  return app;
}

/**
 * A page that goes on to `href` by itself (and offers the link): from the provider's redirect to the
 * dashboard, and from a sign-out form to the provider's end of session, which a redirect cannot do
 * (the dashboard's forms may only post to, and be redirected within, its own origin).
 */
export const onwardPage = (href: string, words: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${escapeAttribute(href)}"><title>${words} · Interlock</title></head>` +
  `<body><p>${words} <a href="${escapeAttribute(href)}">Continue</a>.</p></body></html>`;

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
