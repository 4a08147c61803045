import { z } from 'zod';

/**
 * `auth:` of the config (docs/security.md): how people sign in with the organization's identity
 * provider (`oidc`), and which CI jobs' workload identities are trusted, as whom (`trust`).
 */

/** A secret is never written in the config: it names the environment variable that holds it. */
export const EnvReferenceSchema = z.strictObject(
  { env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable (letters, digits, "_")') },
  // Never the value itself: a secret written here would be in every copy of the file.
  { error: (issue) => (issue.code === 'invalid_type' ? 'name the environment variable that holds the secret ({env: OIDC_CLIENT_SECRET}), never the secret itself' : undefined) },
);

/** An issuer's URL as the provider states it: https, or http on this machine's loopback (a provider for tests). */
const IssuerUrl = z.url().refine(isAcceptableIssuer, 'an https URL (http only on localhost or 127.0.0.1)');

export function isAcceptableIssuer(url: string): boolean {
  try {
    const { protocol, hostname } = new URL(url);
    return protocol === 'https:' || (protocol === 'http:' && isLoopback(hostname));
  } catch {
    return false;
  }
}

export const isLoopback = (hostname: string) => ['localhost', '127.0.0.1', '[::1]', '::1'].includes(hostname);

/** The name of a claim of the provider's ID token or userinfo. */
const ClaimName = z.string().min(1).max(200);

export const OidcSchema = z.strictObject({
  /** What the sign-in page's button says: "Sign in with <name>". */
  name: z.string().min(1).max(100).default('your identity provider'),
  issuer: IssuerUrl,
  clientId: z.string().min(1),
  /** Absent for a public client (PKCE alone). */
  clientSecret: EnvReferenceSchema.optional(),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'a scope name (no spaces or quotes)')).min(1).default(['openid', 'profile', 'email'])
    .refine((scopes) => scopes.includes('openid'), 'must include "openid"'),
  claims: z
    .strictObject({
      username: ClaimName.default('preferred_username'),
      displayName: ClaimName.default('name'),
      email: ClaimName.default('email'),
      groups: ClaimName.default('groups'),
    })
    .default({ username: 'preferred_username', displayName: 'name', email: 'email', groups: 'groups' }),
});
export type OidcSettings = z.infer<typeof OidcSchema>;

/** A claim's expected value: exact, or with `*` standing for any run of characters (`refs/heads/release/*`). */
const ClaimValue = z.union([z.string().min(1).max(1000), z.number(), z.boolean()]);

/** The trust rules' and the whole `auth:`'s schemas, over the config's grant (which config/schema.ts defines, and which the whole config checks against its projects). */
export function authSchemas<G extends z.ZodType>(GrantSchema: G) {
  const TrustRuleSchema = z.strictObject({
    issuer: IssuerUrl,
    /** The `aud` the job asks its token for (GitHub: `core.getIDToken('interlock')`, GitLab: `id_tokens: {X: {aud: interlock}}`). */
    audience: z.string().min(1),
    /** Every one must match the token's claim of that name. At least one: otherwise every job of the issuer (every repository on GitHub) would be trusted. */
    claims: z
      .record(ClaimName, ClaimValue)
      .refine((claims) => Object.keys(claims).length > 0, 'name at least one claim (repository, ref, project_path…): without one, every job of this issuer would be trusted'),
    /** The principal's name: `trust:<as>` is its id, `as` its username in views and timelines. */
    as: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, ".", "_" and "-"'),
    grants: z.array(GrantSchema).default([]),
  });
  const AuthSchema = z.strictObject({
    oidc: OidcSchema.optional(),
    trust: z.array(TrustRuleSchema).default([]),
  });
  return { TrustRuleSchema, AuthSchema };
}
