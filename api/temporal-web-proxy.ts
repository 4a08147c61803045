import { type Context, Hono } from 'hono';
import { proxy } from 'hono/proxy';
import { SESSION_COOKIE, type Sessions } from '../auth/sessions.js';
import type { AppEnv } from '../auth/request-env.js';
import { can } from '../service/permissions.js';

/**
 * Temporal Web behind Interlock's sign-in (docs/security.md): `/temporal/*` goes to the Temporal Web
 * that `npm start` serves on loopback under the same path, for people signed in to the dashboard
 * with an admin role or an operator grant. Everyone else gets the 404 of a page that is not there,
 * so its Terminate, Signal and Reset stay out of reach and nothing says it exists. Its codec
 * endpoint (`/codec`) is then on the same origin, and the session decodes payloads with no setting
 * changed in Temporal Web.
 */
export function temporalWebProxy(upstream: string, sessions: Sessions, notFound: (c: Context<AppEnv>) => Response | Promise<Response>) {
  const origin = new URL(upstream).origin;
  const app = new Hono<AppEnv>();
  app.all('*', (c) => {
    const principal = sessions.read(c)?.user;
    if (!principal || !can(principal, 'temporalWeb')) return notFound(c);
    const url = new URL(c.req.url);
    const headers = new Headers(c.req.raw.headers);
    // Interlock's own credentials are no business of Temporal Web's.
    headers.delete('authorization');
    const cookies = withoutCookie(headers.get('cookie'), SESSION_COOKIE);
    if (cookies) headers.set('cookie', cookies);
    else headers.delete('cookie');
    return proxy(`${origin}${url.pathname}${url.search}`, { raw: c.req.raw, headers });
  });
  return app;
}

const withoutCookie = (header: string | null, name: string) =>
  (header ?? '')
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !part.startsWith(`${name}=`))
    .join('; ');
