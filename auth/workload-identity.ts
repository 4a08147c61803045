import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import { isAcceptableIssuer } from '../config/auth-schema.js';
import type { TrustRule } from '../config/schema.js';
import type { Principal } from '../core/principals.js';

/**
 * CI with no stored secret (docs/ci.md): a job's short-lived OIDC token (GitHub Actions, GitLab CI,
 * any issuer with a JWKS) as a bearer, trusted by a rule of `auth.trust`. The signature is checked
 * against the issuer's keys (discovered, cached, fetched again on an unknown `kid` at most once per
 * cooldown), `iss` and `aud` must match a rule, `exp`/`nbf` hold with 60 s of leeway, and only
 * asymmetric algorithms count (never `none`, never an HMAC, whose "secret" would be the public key).
 * Then one rule's claims must all match; its `as` and grants make the principal.
 */

/** The algorithms a trusted issuer may sign with: public-key ones only. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** Clock skew allowed on `exp` and `nbf`, in seconds. */
export const LEEWAY_SECONDS = 60;

/** Why a CI token is refused, as the 401's detail names it. */
export type JwtRefusalReason = 'malformed' | 'issuer' | 'audience' | 'expired' | 'not yet valid' | 'signature' | 'no trust rule matches';

export type JwtAnswer =
  | { principal: Principal; rule: TrustRule }
  | { refused: JwtRefusalReason; detail: string }
  | { unavailable: string };

export interface WorkloadIdentityOptions {
  /** How soon after fetching an issuer's keys an unknown `kid` may fetch them again (default 30 s): what bounds the refetches a stream of forged `kid`s causes. */
  cooldownMs?: number;
  /** How long an issuer's keys and discovery document are kept (default 10 min). */
  cacheMs?: number;
  /** How long a fetch from the issuer may take (default 5 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface WorkloadIdentity {
  /** The principal of a CI job's token under the rules, or why not (never with the token in it). */
  verify(rules: readonly TrustRule[], token: string): Promise<JwtAnswer>;
}

/** A bearer shaped like a JWT: three base64url parts separated by dots. */
export const looksLikeJwt = (token: string): boolean => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);

type KeySet = ReturnType<typeof createRemoteJWKSet>;

export function createWorkloadIdentity(options: WorkloadIdentityOptions = {}): WorkloadIdentity {
  const cooldownMs = options.cooldownMs ?? 30_000;
  const cacheMs = options.cacheMs ?? 600_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const fetchImpl = options.fetch ?? fetch;
  // Per issuer: its key set (which caches its keys and refetches on an unknown kid), or a recent failure.
  const issuers = new Map<string, { keys: KeySet; until: number } | { failed: string; until: number }>();

  async function keysOf(issuer: string): Promise<KeySet | { failed: string }> {
    const known = issuers.get(issuer);
    if (known && known.until > Date.now()) return 'keys' in known ? known.keys : known;
    try {
      const discovery = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const response = await fetchImpl(discovery, { signal: AbortSignal.timeout(timeoutMs), headers: { Accept: 'application/json' } });
      if (!response.ok) throw new Error(`${discovery} answered ${response.status}`);
      const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (document.issuer !== issuer) throw new Error(`${discovery} names the issuer ${JSON.stringify(document.issuer)}`);
      if (typeof document.jwks_uri !== 'string' || !isAcceptableIssuer(document.jwks_uri)) throw new Error(`${discovery} has no usable jwks_uri`);
      const keys = createRemoteJWKSet(new URL(document.jwks_uri), { cooldownDuration: cooldownMs, cacheMaxAge: cacheMs, timeoutDuration: timeoutMs });
      issuers.set(issuer, { keys, until: Date.now() + cacheMs });
      return keys;
    } catch (error) {
      // Remembered briefly, so a stream of tokens does not become a stream of fetches.
      const failed = `the keys of ${issuer} could not be fetched (${(error as Error).message})`;
      issuers.set(issuer, { failed, until: Date.now() + Math.min(cooldownMs, 10_000) });
      return { failed };
    }
  }

  return {
    async verify(rules, token) {
      const refuse = (refused: JwtRefusalReason, why: string): JwtAnswer => ({ refused, detail: `The CI token is refused (${refused}): ${why}` });
      let header: ReturnType<typeof decodeProtectedHeader>;
      let unverified: JWTPayload;
      try {
        header = decodeProtectedHeader(token);
        unverified = decodeJwt(token);
      } catch {
        return refuse('malformed', 'it is not a JWT that can be read.');
      }
      const alg = typeof header.alg === 'string' ? header.alg : 'none';
      if (!ASYMMETRIC_ALGORITHMS.includes(alg)) {
        return refuse('signature', `it is signed with "${alg}"; only public-key algorithms count (${ASYMMETRIC_ALGORITHMS.join(', ')}), never "none" or an HMAC.`);
      }
      const issuer = typeof unverified.iss === 'string' ? unverified.iss : undefined;
      const ofIssuer = rules.filter((rule) => rule.issuer === issuer);
      if (!issuer || ofIssuer.length === 0) {
        const trusted = [...new Set(rules.map((rule) => rule.issuer))];
        return refuse('issuer', `${issuer ? `no trust rule names its issuer ${issuer}` : 'it names no issuer'}; auth.trust trusts ${trusted.join(', ') || 'no issuer'}.`);
      }
      const keys = await keysOf(issuer);
      if ('failed' in keys) return { unavailable: `The CI token cannot be checked now: ${keys.failed}. Try again shortly.` };
      const audiences = [...new Set(ofIssuer.map((rule) => rule.audience))];
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer,
          audience: audiences,
          algorithms: ASYMMETRIC_ALGORITHMS,
          clockTolerance: LEEWAY_SECONDS,
          // A token without an expiry would be good forever.
          requiredClaims: ['exp'],
        }));
      } catch (error) {
        return refusalOf(error, refuse, audiences, timeoutMs);
      }
      const audience = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      const candidates = ofIssuer.filter((rule) => audience.includes(rule.audience));
      const rule = candidates.find((candidate) => Object.entries(candidate.claims).every(([name, expected]) => claimMatches(payload[name], expected)));
      if (!rule) {
        const looked = [...new Set(candidates.flatMap((candidate) => Object.keys(candidate.claims)))];
        return refuse('no trust rule matches', `its signature, issuer and audience are good, but no rule for them matches its claims (they look at ${looked.join(', ')}).`);
      }
      return { principal: principalOfRule(rule), rule };
    },
  };
}

/** jose's refusal in the words of the 401 (never the token). */
function refusalOf(error: unknown, refuse: (reason: JwtRefusalReason, why: string) => JwtAnswer, audiences: string[], timeoutMs: number): JwtAnswer {
  if (error instanceof errors.JWTExpired) {
    const exp = typeof error.payload.exp === 'number' ? new Date(error.payload.exp * 1000).toISOString() : 'its exp';
    return refuse('expired', `it expired at ${exp} (${LEEWAY_SECONDS} s of leeway); ask the CI for a fresh one.`);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return refuse('audience', `its audience is not one a trust rule of its issuer expects (${audiences.join(', ')}).`);
    if (error.claim === 'iss') return refuse('issuer', 'its issuer does not match.');
    if (error.claim === 'nbf') return refuse('not yet valid', `its nbf is more than ${LEEWAY_SECONDS} s ahead.`);
    if (error.claim === 'exp') return refuse('expired', 'it has no exp: a token must say when it expires.');
    return refuse('malformed', `its claim ${error.claim} is not valid (${error.reason}).`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) return refuse('signature', 'no key of its issuer\'s JWKS matches its kid and algorithm, even after fetching the keys again.');
  if (error instanceof errors.JWSSignatureVerificationFailed) return refuse('signature', 'its signature does not verify against its issuer\'s keys.');
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return refuse('signature', 'its algorithm is not one its issuer\'s keys allow.');
  if (error instanceof errors.JWKSTimeout) return { unavailable: `The CI token cannot be checked now: its issuer's keys did not come within ${timeoutMs} ms. Try again shortly.` };
  if (error instanceof errors.JWKSInvalid || (error instanceof Error && !(error instanceof errors.JOSEError))) {
    return { unavailable: `The CI token cannot be checked now: its issuer's keys could not be fetched (${error.message}). Try again shortly.` };
  }
  return refuse('malformed', 'it is not a JWT that can be read.');
}

/** A claim against a rule's value: equal (as text), or matching where `*` stands for any run of characters. */
export function claimMatches(actual: unknown, expected: string | number | boolean): boolean {
  if (typeof actual !== 'string' && typeof actual !== 'number' && typeof actual !== 'boolean') return false;
  const value = String(actual);
  const wanted = String(expected);
  if (!wanted.includes('*')) return value === wanted;
  const pattern = wanted.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${pattern}$`, 's').test(value);
}

/** The principal of a CI job trusted by `rule`: `trust:<as>`, with the rule's grants and no team. */
export function principalOfRule(rule: Pick<TrustRule, 'as' | 'grants'>): Principal {
  return { id: `trust:${rule.as}`, username: rule.as, displayName: rule.as, teams: [], grants: rule.grants, via: 'jwt' };
}
