import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Config, User } from '../config/schema.js';
import type { Principal } from '../core/principals.js';
import { principalOfUser } from '../service/permissions.js';
import type { Signer } from '../service/signing.js';
import { hasExpired, principalForToken, type TokenAnswer } from './authenticate.js';
import { principalOfIdentity, type SignedInIdentity } from './oidc-identity.js';

/**
 * The dashboard's sessions: a stateless cookie `<payload>.<signature>`, where the payload holds the
 * user's id, an expiry and a CSRF nonce, and the signature is an HMAC-SHA256 of the payload and the
 * user's `tokenSha256` under the session secret. So a session ends when it expires, when the user's
 * token is rotated in the config or passes its `expires`, when the user leaves the config, or when
 * the secret changes. The session's principal is read from the config on every request: a change
 * of teams or grants applies at once.
 *
 * A person signed in with the identity provider (auth/oidc-sign-in.ts) need not be in the config:
 * their cookie holds the identity the provider vouched for (username, name, email, groups) instead
 * of a user id, and their principal is made from it and the current config on every request
 * (auth/oidc-identity.ts). Such a session ends when it expires or the secret changes.
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
  /** For a person signed in with the identity provider: who it says they are. */
  identity?: SignedInIdentity | undefined;
}

interface Payload {
  u: string;
  e: number;
  n: string;
}

/** The payload of a session signed in with the identity provider: `o` is the identity, in short keys. */
interface IdentityPayload {
  o: { u: string; d: string; m?: string | undefined; g: string[] };
  e: number;
  n: string;
}

/** A browser sends at most about 4 KB a cookie: an identity with more groups keeps only those the config maps to teams. */
const MAX_COOKIE = 3800;

/** The dashboard's sessions under one config and signer. */
export interface Sessions {
  /** The signed-in user and their CSRF nonce, or undefined for no, a forged, or an expired session. */
  read(c: Context): Session | undefined;
  /** Signs the person in: HttpOnly, SameSite=Strict, Secure when the request came over https. */
  start(c: Context, user: User): void;
  /** Signs in whoever holds this token (the dashboard's sign-in form), or says why not (nobody's, expired). */
  signInWithToken(c: Context, token: string): TokenAnswer;
  /** Signs in a person the identity provider vouched for (who need not be in the config). */
  startWithIdentity(c: Context, identity: SignedInIdentity): void;
  end(c: Context): void;
}

export function createSessions(config: Config, signer: Signer): Sessions {
  const sign = (payload: string, user: User) => signer.mac('session', `${payload}\n${user.tokenSha256 ?? ''}`);
  // A purpose of its own: a token session's signature can never stand for an identity's.
  const signIdentity = (payload: string) => signer.mac('identity session', payload);
  return {
    read(c) {
      const cookie = getCookie(c, SESSION_COOKIE);
      if (!cookie || cookie.length > MAX_COOKIE + 100) return undefined;
      const [payload, signature] = cookie.split('.');
      if (!payload || !signature) return undefined;
      let parsed: Payload;
      try {
        parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Payload;
      } catch {
        return undefined;
      }
      if (isIdentityPayload(parsed)) {
        if (parsed.e <= Date.now() || !matches(signIdentity(payload), signature)) return undefined;
        const identity: SignedInIdentity = { username: parsed.o.u, displayName: parsed.o.d, ...(parsed.o.m ? { email: parsed.o.m } : {}), groups: parsed.o.g };
        return { user: principalOfIdentity(config, identity), csrf: parsed.n, expiresAt: parsed.e, identity };
      }
      if (cookie.length > 1000) return undefined;
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
    startWithIdentity(c, identity) {
      const payloadOf = (groups: string[]): string => {
        const payload: IdentityPayload = {
          o: { u: identity.username, d: identity.displayName, ...(identity.email ? { m: identity.email } : {}), g: groups },
          e: Date.now() + SESSION_HOURS * 3600_000,
          n: randomBytes(18).toString('base64url'),
        };
        return Buffer.from(JSON.stringify(payload)).toString('base64url');
      };
      let encoded = payloadOf(identity.groups);
      if (encoded.length > MAX_COOKIE - 100) {
        const mapped = new Set(config.teams.flatMap((team) => team.groups ?? []));
        encoded = payloadOf(identity.groups.filter((group) => mapped.has(group)));
      }
      setCookie(c, SESSION_COOKIE, `${encoded}.${signIdentity(encoded)}`, {
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

function isIdentityPayload(parsed: unknown): parsed is IdentityPayload {
  const candidate = parsed as Partial<IdentityPayload> | null;
  const o = candidate?.o;
  return typeof o === 'object' && o !== null && typeof o.u === 'string' && typeof o.d === 'string' && (o.m === undefined || typeof o.m === 'string')
    && Array.isArray(o.g) && o.g.every((group) => typeof group === 'string') && typeof candidate?.e === 'number' && typeof candidate.n === 'string';
}

function matches(expected: string, presented: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
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
