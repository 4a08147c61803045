import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { timingSafeEqual } from 'node:crypto';
import * as client from 'openid-client';
import { isLoopback, type OidcSettings } from '../config/auth-schema.js';
import type { Config } from '../config/schema.js';
import type { Signer } from '../service/signing.js';
import { identityOfClaims, type SignedInIdentity } from './oidc-identity.js';
import { isHttps } from './sessions.js';

/**
 * Sign-in with the organization's OpenID Connect provider (docs/security.md), with `openid-client`:
 * the provider's endpoints from its discovery document, the authorization code flow with PKCE, and
 * `state` and `nonce` checked on the way back. Between `login` and `callback` the browser holds the
 * flow's secrets in a short-lived signed cookie of its own (SameSite=Lax: the provider's redirect
 * back is a top-level navigation from another site). The client secret is read from the environment
 * variable `auth.oidc.clientSecret.env` names, and never logged.
 */
export const LOGIN_COOKIE = 'interlock_oidc_login';
/** The ID token, kept only to name the session when asking the provider to end it (RP-initiated logout). */
export const ID_TOKEN_COOKIE = 'interlock_oidc_id';
export const CALLBACK_PATH = '/auth/oidc/callback';
const LOGIN_MINUTES = 10;

export interface OidcSignInDeps {
  /** The config as of this request (auth.oidc may change with it). */
  config: () => Config;
  signer: Signer;
  /** `INTERLOCK_PUBLIC_URL`: the redirect URI is `<publicUrl>/auth/oidc/callback`. */
  publicUrl: string;
  /** Where `auth.oidc.clientSecret.env` is read; process.env by default. */
  env?: NodeJS.ProcessEnv | undefined;
}

export type CallbackAnswer = { identity: SignedInIdentity; next: string } | { refused: string; status: 400 | 401 | 503 };

export interface OidcSignIn {
  /** `auth.oidc`, when the config has one. */
  settings(): OidcSettings | undefined;
  /** The provider's authorization URL for a new sign-in that comes back to `next`; the flow's cookie is set on `c`. */
  loginUrl(c: Context, next: string): Promise<URL>;
  /** Checks the provider's answer (state, PKCE, nonce, ID token) and reads the person's identity. */
  callback(c: Context): Promise<CallbackAnswer>;
  /** Where to send the browser to end the provider's session too, when it offers that (`end_session_endpoint`); the ID token cookie is cleared. */
  endSessionUrl(c: Context, afterwards: string): Promise<URL | undefined>;
}

/** The provider could not be reached or answered nonsense: 503, with what to check. */
export class ProviderUnavailable extends Error {
  override name = 'ProviderUnavailable';
}

interface Flow {
  s: string;
  n: string;
  v: string;
  x: string;
  e: number;
}

export function createOidcSignIn(deps: OidcSignInDeps): OidcSignIn {
  const redirectUri = `${deps.publicUrl.replace(/\/$/, '')}${CALLBACK_PATH}`;
  // One discovery per provider and client, kept while they stay the same; a failed one is tried again next time.
  let discovered: { key: string; configuration: Promise<client.Configuration> } | undefined;

  function clientOf(settings: OidcSettings): Promise<client.Configuration> {
    const secretName = settings.clientSecret?.env;
    const secret = secretName ? (deps.env ?? process.env)[secretName] : undefined;
    const key = JSON.stringify([settings.issuer, settings.clientId, secretName, secret]);
    if (discovered?.key === key) return discovered.configuration;
    if (secretName && !secret) {
      return Promise.reject(new ProviderUnavailable(`auth.oidc.clientSecret names the environment variable ${secretName}, which is not set.`));
    }
    const issuer = new URL(settings.issuer);
    const configuration = client
      .discovery(issuer, settings.clientId, undefined, secret ? client.ClientSecretBasic(secret) : client.None(), {
        // http only for a provider on this machine (config/auth-schema.ts refuses any other).
        ...(issuer.protocol === 'http:' && isLoopback(issuer.hostname) ? { execute: [client.allowInsecureRequests] } : {}),
        timeout: 10,
      })
      .catch((error: unknown) => {
        discovered = undefined;
        throw new ProviderUnavailable(`The identity provider ${settings.issuer} cannot be reached or its discovery document is not valid (${(error as Error).message}).`);
      });
    discovered = { key, configuration };
    return configuration;
  }

  const sealFlow = (flow: Flow) => {
    const payload = Buffer.from(JSON.stringify(flow)).toString('base64url');
    return `${payload}.${deps.signer.mac('oidc sign-in', payload)}`;
  };
  const openFlow = (cookie: string | undefined): Flow | undefined => {
    const [payload, signature] = cookie?.split('.') ?? [];
    if (!payload || !signature || !sameText(signature, deps.signer.mac('oidc sign-in', payload))) return undefined;
    try {
      const flow = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Flow;
      return typeof flow.s === 'string' && typeof flow.n === 'string' && typeof flow.v === 'string' && typeof flow.x === 'string' && flow.e > Date.now()
        ? flow
        : undefined;
    } catch {
      return undefined;
    }
  };

  const settings = () => deps.config().auth?.oidc;

  return {
    settings,
    async loginUrl(c, next) {
      const oidc = settings();
      if (!oidc) throw new ProviderUnavailable('This Interlock has no identity provider (auth.oidc).');
      const configuration = await clientOf(oidc);
      const flow: Flow = { s: client.randomState(), n: client.randomNonce(), v: client.randomPKCECodeVerifier(), x: next, e: Date.now() + LOGIN_MINUTES * 60_000 };
      setCookie(c, LOGIN_COOKIE, sealFlow(flow), { path: CALLBACK_PATH, httpOnly: true, sameSite: 'Lax', secure: isHttps(c), maxAge: LOGIN_MINUTES * 60 });
      return client.buildAuthorizationUrl(configuration, {
        redirect_uri: redirectUri,
        scope: oidc.scopes.join(' '),
        state: flow.s,
        nonce: flow.n,
        code_challenge: await client.calculatePKCECodeChallenge(flow.v),
        code_challenge_method: 'S256',
      });
    },

    async callback(c) {
      const oidc = settings();
      if (!oidc) return { refused: 'This Interlock has no identity provider (auth.oidc).', status: 400 };
      const flow = openFlow(getCookie(c, LOGIN_COOKIE));
      deleteCookie(c, LOGIN_COOKIE, { path: CALLBACK_PATH, httpOnly: true, sameSite: 'Lax', secure: isHttps(c) });
      if (!flow) return { refused: 'This sign-in was started in another browser or took longer than 10 minutes. Start it again.', status: 400 };
      const providerError = c.req.query('error');
      if (providerError) {
        const said = /^[\x20-\x7e]{1,100}$/.test(providerError) ? providerError : 'an error';
        return { refused: `${oidc.name} did not sign you in (${said}). Try again, or ask an admin whether you may use Interlock.`, status: 401 };
      }
      let configuration: client.Configuration;
      try {
        configuration = await clientOf(oidc);
      } catch (error) {
        return { refused: (error as Error).message, status: 503 };
      }
      // The URL the provider sent the browser to, as the redirect URI names it (a proxy may have rewritten the request's).
      const current = new URL(redirectUri);
      current.search = new URL(c.req.url).search;
      let claims: Record<string, unknown>;
      try {
        const tokens = await client.authorizationCodeGrant(configuration, current, {
          pkceCodeVerifier: flow.v,
          expectedState: flow.s,
          expectedNonce: flow.n,
          idTokenExpected: true,
        });
        claims = { ...tokens.claims() };
        // Many providers (Okta's org server among them) put groups, or every claim a scope asks for, in userinfo only.
        const lacking = [oidc.claims.username, oidc.claims.groups].some((name) => claims[name] === undefined);
        if (lacking && configuration.serverMetadata().userinfo_endpoint) {
          const info = await client.fetchUserInfo(configuration, tokens.access_token, String(claims.sub));
          claims = { ...info, ...claims };
        }
        if (tokens.id_token && tokens.id_token.length <= 3800) {
          setCookie(c, ID_TOKEN_COOKIE, tokens.id_token, { path: '/sign-out', httpOnly: true, sameSite: 'Strict', secure: isHttps(c) });
        }
      } catch (error) {
        // oauth4webapi's words (state mismatch, nonce mismatch, invalid_grant…); never a token.
        const reason = reasonOf(error);
        return { refused: `${oidc.name}'s answer was refused: ${reason}. Start the sign-in again.`, status: 401 };
      }
      const identity = identityOfClaims(claims, oidc.claims);
      if ('missing' in identity) {
        return { refused: `${oidc.name} did not say who you are: its answer has no usable "${identity.missing}" claim (auth.oidc.claims.username: a login or an email address). Ask an admin.`, status: 401 };
      }
      return { identity, next: flow.x };
    },

    async endSessionUrl(c, afterwards) {
      const idToken = getCookie(c, ID_TOKEN_COOKIE);
      deleteCookie(c, ID_TOKEN_COOKIE, { path: '/sign-out', httpOnly: true, sameSite: 'Strict', secure: isHttps(c) });
      const oidc = settings();
      if (!oidc) return undefined;
      let configuration: client.Configuration;
      try {
        configuration = await clientOf(oidc);
      } catch {
        return undefined;
      }
      if (!configuration.serverMetadata().end_session_endpoint) return undefined;
      return client.buildEndSessionUrl(configuration, {
        post_logout_redirect_uri: afterwards,
        ...(idToken ? { id_token_hint: idToken } : { client_id: oidc.clientId }),
      });
    },
  };
}

/** An error's words and its causes' (openid-client says "invalid response encountered"; its cause says which check failed), on one line. */
function reasonOf(error: unknown): string {
  const words: string[] = [];
  for (let at: unknown = error; at instanceof Error && words.length < 3; at = at.cause) words.push(at.message.split('\n')[0]!);
  return words.length > 0 ? words.join(': ').slice(0, 300) : 'its answer did not check out';
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
