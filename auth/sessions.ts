import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Config, User } from '../config/schema.js';
import type { Principal } from '../core/principals.js';
import { principalOfUser } from '../service/permissions.js';
import type { Signer } from '../service/signing.js';
import { hasExpired, principalForToken, type TokenAnswer } from './tokens.js';

/**
 * The dashboard's sessions: a stateless cookie `<payload>.<signature>`, where the payload holds the
 * user's id, an expiry and a CSRF nonce, and the signature is an HMAC-SHA256 of the payload and the
 * user's `tokenSha256` under the session secret. So a session ends when it expires, when the user's
 * token is rotated in the config or passes its `expires`, when the user leaves the config, or when
 * the secret changes. The session's principal is read from the config on every request: a change
 * of teams or grants applies at once.
 *
 * The secret is the signer's (`INTERLOCK_SESSION_SECRET`, or else random per process: a restart
 * then signs everyone out, and several API processes behind one address need the variable).
 */
export const SESSION_COOKIE = 'interlock_session';
export const SESSION_HOURS = 12;

export interface Session {
  /** Who is signed in, as a principal (`via: 'session'`). */
  user: Principal;
  /** Sent back in a hidden field by every dashboard form; checked against this. */
  csrf: string;
  expiresAt: number;
}

interface Payload {
  u: string;
  e: number;
  n: string;
}

/** The dashboard's sessions under one config and signer. */
export interface Sessions {
  /** The signed-in user and their CSRF nonce, or undefined for no, a forged, or an expired session. */
  read(c: Context): Session | undefined;
  /** Signs the person in: HttpOnly, SameSite=Strict, Secure when the request came over https. */
  start(c: Context, user: User): void;
  /** Signs in whoever holds this token (the dashboard's sign-in form), or says why not (nobody's, expired). */
  signInWithToken(c: Context, token: string): TokenAnswer;
  end(c: Context): void;
}

export function createSessions(config: Config, signer: Signer): Sessions {
  const sign = (payload: string, user: User) => signer.mac('session', `${payload}\n${user.tokenSha256 ?? ''}`);
  return {
    read(c) {
      const cookie = getCookie(c, SESSION_COOKIE);
      if (!cookie || cookie.length > 1000) return undefined;
      const [payload, signature] = cookie.split('.');
      if (!payload || !signature) return undefined;
      let parsed: Payload;
      try {
        parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Payload;
      } catch {
        return undefined;
      }
      if (typeof parsed?.u !== 'string' || typeof parsed.e !== 'number' || typeof parsed.n !== 'string') return undefined;
      if (parsed.e <= Date.now()) return undefined;
      const user = config.users.find((candidate) => candidate.id === parsed.u);
      if (!user || hasExpired(user)) return undefined;
      const expected = Buffer.from(sign(payload, user));
      const presented = Buffer.from(signature);
      if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) return undefined;
      return { user: principalOfUser(config, user, 'session'), csrf: parsed.n, expiresAt: parsed.e };
    },
    start(c, user) {
      const payload: Payload = { u: user.id, e: Date.now() + SESSION_HOURS * 3600_000, n: randomBytes(18).toString('base64url') };
      const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
      setCookie(c, SESSION_COOKIE, `${encoded}.${sign(encoded, user)}`, {
        path: '/',
        httpOnly: true,
        sameSite: 'Strict',
        secure: isHttps(c),
        maxAge: SESSION_HOURS * 3600,
      });
    },
    signInWithToken(c, token) {
      const answer = principalForToken(config, token);
      if ('principal' in answer) this.start(c, answer.user);
      return answer;
    },
    end(c) {
      deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Strict', secure: isHttps(c) });
    },
  };
}

/** Whether the browser reached us over https, directly or through a proxy that says so. */
export function isHttps(c: Context): boolean {
  const forwarded = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  return forwarded === 'https' || new URL(c.req.url).protocol === 'https:';
}

/** Compares a submitted CSRF token with the session's nonce in constant time. */
export function csrfMatches(session: Session, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const expected = Buffer.from(session.csrf);
  const presented = Buffer.from(submitted);
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}
