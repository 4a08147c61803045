import { type Who, tokens } from './api.js';

/** Whatever answers requests in-process: an app's `app.request`. */
export interface InProcess {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

/** A person signed in to the dashboard: their session cookie, and the form token its pages carry. */
export interface Session {
  cookie: string;
  csrf: string;
}

/** What a browser on the dashboard's own origin sends with a form. */
const SAME_ORIGIN = { Origin: 'http://localhost', Host: 'localhost' };

/** Signs in through the sign-in form with `who`'s demo token (or a token of a test's own config), as a browser does; the session cookie. */
export async function signIn(app: InProcess, who: Who | { token: string }): Promise<string> {
  const token = typeof who === 'string' ? tokens[who] : who.token;
  const response = await app.request('/sign-in', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...SAME_ORIGIN },
    body: new URLSearchParams({ token, next: '/' }).toString(),
  });
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  if (response.status !== 303 || !cookie) throw new Error(`${typeof who === 'string' ? who : 'a token'} could not sign in: ${response.status} ${await response.text()}`);
  return cookie;
}

/** Signed in, with the form token a page of the dashboard carries (read from /projects). */
export async function signInForForms(app: InProcess, who: Who | { token: string }): Promise<Session> {
  const cookie = await signIn(app, who);
  const page = await (await openPage(app, '/projects', cookie)).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
  if (!csrf) throw new Error(`no form token on /projects for ${typeof who === 'string' ? who : 'a token'}`);
  return { cookie, csrf };
}

/** A page as a browser asks for it, signed in with `cookie` when given. */
export const openPage = (app: InProcess, path: string, cookie?: string) =>
  app.request(path, { headers: { Accept: 'text/html', ...(cookie ? { Cookie: cookie } : {}) } });

/** A form of the dashboard posted as the browser posts it: the session's cookie, the form token unless `fields` has its own, the fields. */
export const postForm = (app: InProcess, session: Session, path: string, fields: Record<string, string> = {}) =>
  app.request(path, {
    method: 'POST',
    headers: { Cookie: session.cookie, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html', ...SAME_ORIGIN },
    body: new URLSearchParams({ _csrf: session.csrf, ...fields }).toString(),
  });
