import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { csrf } from 'hono/csrf';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from '../auth/request-env.js';
import { csrfMatches, type Session, type Sessions } from '../auth/sessions.js';

export type DashboardEnv = {
  Variables: AppEnv['Variables'] & { session: Session; form: Record<string, string> };
};

/** The host the browser addressed, as a proxy passes it on: what a same-origin form's Origin names. */
function sameHost(origin: string, c: Context): boolean {
  try {
    const host = c.req.header('x-forwarded-host')?.split(',')[0]?.trim() ?? c.req.header('host');
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** The address the request came from (its socket's); `local` for a request made in-process (tests' `app.request`). */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'local';
  } catch {
    return 'local';
  }
}

/** Only a local path, so a sign-in link can never send someone elsewhere. */
export const safeNext = (next: unknown) =>
  typeof next === 'string' && /^\/(?![/\\])\S*$/.test(next) && next.length <= 2000 ? next : '/';

/** The page a form was on: where to come back to after signing in again. */
const pageOf = (path: string) => path.match(/^\/(deployments\/[^/]+|projects)/)?.[0] ?? '/';

/** A form post from another site: the Origin (or Sec-Fetch-Site) must name this one. */
export const sameOrigin = csrf({ origin: sameHost });

/** The guards of the dashboard's routes: a session for every page, and for forms its CSRF token too. */
export function guards(sessions: Sessions) {
  const signedIn = createMiddleware<DashboardEnv>(async (c, next) => {
    const session = sessions.read(c);
    if (!session) {
      const wanted = c.req.method === 'GET' ? c.req.path + (new URL(c.req.url).search || '') : pageOf(c.req.path);
      return c.redirect(`/sign-in?next=${encodeURIComponent(wanted)}`, 303);
    }
    c.set('session', session);
    await next();
  });

  const formToken = createMiddleware<DashboardEnv>(async (c, next) => {
    const body = await c.req.parseBody();
    const form = Object.fromEntries(Object.entries(body).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
    if (!csrfMatches(c.get('session'), form._csrf)) {
      throw new HTTPException(403, { message: 'This form has expired or did not come from this dashboard. Reload the page and try again.' });
    }
    c.set('form', form);
    await next();
  });

  return { signedIn, formToken };
}
