import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../config/load.js';
import { principalOfIdentity, identityOfClaims } from '../../auth/oidc-identity.js';
import { claimMatches, looksLikeJwt, principalOfRule } from '../../auth/workload-identity.js';

const PROJECTS = `
teams:
  - { id: release-managers, name: Release managers, groups: [okta-release-managers], grants: [{ role: deployer, projects: [hello-service] }] }
  - { id: sre, name: SRE, groups: [okta-sre, okta-oncall], grants: [{ role: viewer }] }
projects:
  - id: hello-service
    name: Hello service
    environments: [qa, production]
    process: [{ name: Deploy, type: script, run: echo }]
`;

/** Every problem the config's text has, as the loader lists them. */
function problemsOf(text: string): string[] {
  try {
    parseConfig(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('auth: in the config', () => {
  it('takes the documented OIDC section and trust rule, with defaults for what is left out', () => {
    const config = parseConfig(`${PROJECTS}
auth:
  oidc:
    name: Okta
    issuer: https://acme.okta.com
    clientId: interlock
    clientSecret: { env: OIDC_CLIENT_SECRET }
    scopes: [openid, profile, email, groups]
  trust:
    - issuer: https://token.actions.githubusercontent.com
      audience: interlock
      claims: { repository: acme/hello, ref: refs/heads/main }
      as: ci-hello
      grants: [{ role: deployer, projects: [hello-service], environments: [qa, production] }]
`);
    expect(config.auth?.oidc).toEqual({
      name: 'Okta',
      issuer: 'https://acme.okta.com',
      clientId: 'interlock',
      clientSecret: { env: 'OIDC_CLIENT_SECRET' },
      scopes: ['openid', 'profile', 'email', 'groups'],
      claims: { username: 'preferred_username', displayName: 'name', email: 'email', groups: 'groups' },
    });
    expect(config.auth?.trust[0]?.as).toBe('ci-hello');
    expect(parseConfig(PROJECTS).auth).toBeUndefined();
  });

  it('names every invalid field by its path, and never repeats a secret written in the file', () => {
    const problems = problemsOf(`${PROJECTS}
auth:
  oidc: { issuer: http://idp.example.com, clientId: '', clientSecret: s3cr3t-value, scopes: [profile], claims: { user: login }, extra: 1 }
  trust:
    - { issuer: not a url, audience: interlock, claims: { repository: acme/hello }, as: ci }
    - { issuer: https://token.actions.githubusercontent.com, audience: interlock, claims: {}, as: CI Bot, grants: [{ role: deployer, projects: [nope] }] }
    - { issuer: https://gitlab.com, audience: '', claims: { project_path: acme/hello }, as: ci-gitlab, grants: [{ role: deployer, projects: [hello-service], environments: [staging] }] }
    - { issuer: https://gitlab.com, audience: interlock, claims: { project_path: acme/hello }, as: jjones }
users:
  - { id: users-237, username: jjones, displayName: Jamie Jones }
`);
    expect(problems).toEqual(
      expect.arrayContaining([
        'auth.oidc: Unrecognized key: "extra"',
        'auth.oidc.issuer: an https URL (http only on localhost or 127.0.0.1)',
        'auth.oidc.clientId: Too small: expected string to have >=1 characters',
        'auth.oidc.clientSecret: name the environment variable that holds the secret ({env: OIDC_CLIENT_SECRET}), never the secret itself',
        'auth.oidc.scopes: must include "openid"',
        'auth.oidc.claims: Unrecognized key: "user"',
        expect.stringMatching(/^auth\.trust\[0\]\.issuer: /),
        'auth.trust[1].claims: name at least one claim (repository, ref, project_path…): without one, every job of this issuer would be trusted',
        'auth.trust[1].as: lower-case letters, digits, ".", "_" and "-"',
        'auth.trust[1].grants[0].projects[0]: unknown project "nope"',
        expect.stringMatching(/^auth\.trust\[2\]\.audience: /),
        'auth.trust[2].grants[0].environments[0]: environment "staging" is not one of hello-service (qa, production)',
        'auth.trust[3].as: "jjones" is the username of a person in users:; choose another name, so views tell the job from them',
      ]),
    );
    expect(problems.join('\n')).not.toContain('s3cr3t-value');
  });

  it('takes an http issuer only on loopback (a provider for tests), and a public client with no secret', () => {
    const config = parseConfig(`${PROJECTS}
auth: { oidc: { issuer: 'http://127.0.0.1:4444', clientId: interlock } }
`);
    expect(config.auth?.oidc?.clientSecret).toBeUndefined();
    expect(config.auth?.oidc?.scopes).toEqual(['openid', 'profile', 'email']);
    expect(problemsOf(`${PROJECTS}\nauth: { oidc: { issuer: 'http://10.0.0.1', clientId: interlock } }`)).toEqual([
      'auth.oidc.issuer: an https URL (http only on localhost or 127.0.0.1)',
    ]);
  });
});

describe('a signed-in identity as a principal', () => {
  const config = parseConfig(`${PROJECTS}
users:
  - { id: users-237, username: jjones, displayName: Jamie Jones, teams: [sre], grants: [{ role: deployer, projects: [hello-service], environments: [qa] }] }
`);

  it('gets the teams its provider groups map to, and their grants, without being in users:', () => {
    const principal = principalOfIdentity(config, { username: 'mlee', displayName: 'Morgan Lee', groups: ['okta-release-managers', 'okta-everyone'] });
    expect(principal).toEqual({
      id: 'oidc:mlee',
      username: 'mlee',
      displayName: 'Morgan Lee',
      teams: ['release-managers'],
      grants: [{ role: 'deployer', projects: ['hello-service'] }],
      via: 'oidc',
    });
  });

  it('adds what a users: entry of the same username gives (its id, teams and grants)', () => {
    const principal = principalOfIdentity(config, { username: 'jjones', displayName: 'Jamie J.', email: 'jamie@acme.test', groups: ['okta-release-managers'] });
    expect(principal.id).toBe('users-237');
    expect(principal.teams).toEqual(['sre', 'release-managers']);
    expect(principal.grants).toEqual([
      { role: 'deployer', projects: ['hello-service'], environments: ['qa'] },
      { role: 'deployer', projects: ['hello-service'] },
      { role: 'viewer' },
    ]);
    expect(principal.email).toBe('jamie@acme.test');
  });

  it('reads the claims the config names; a username is required, groups may be one string', () => {
    const names = { username: 'preferred_username', displayName: 'name', email: 'email', groups: 'groups' };
    expect(identityOfClaims({ preferred_username: 'JJones', name: 'Jamie', groups: 'okta-sre' }, names)).toEqual({
      username: 'jjones',
      displayName: 'Jamie',
      groups: ['okta-sre'],
    });
    expect(identityOfClaims({ name: 'Jamie', groups: [] }, names)).toEqual({ missing: 'preferred_username' });
    expect(identityOfClaims({ preferred_username: 'a\nb' }, names)).toEqual({ missing: 'preferred_username' });
    // It goes into visibility queries and timelines: a login or an email address, nothing else.
    expect(identityOfClaims({ preferred_username: "x' OR 1=1" }, names)).toEqual({ missing: 'preferred_username' });
    expect(identityOfClaims({ preferred_username: 'Jamie.Jones@Acme.com' }, names)).toMatchObject({ username: 'jamie.jones@acme.com', displayName: 'jamie.jones@acme.com' });
  });
});

describe('a trust rule', () => {
  it('matches claims exactly, or with * for any run of characters', () => {
    expect(claimMatches('acme/hello', 'acme/hello')).toBe(true);
    expect(claimMatches('acme/hello-evil', 'acme/hello')).toBe(false);
    expect(claimMatches('refs/heads/release/1.4', 'refs/heads/release/*')).toBe(true);
    expect(claimMatches('refs/heads/main', 'refs/heads/release/*')).toBe(false);
    expect(claimMatches('acme.hello', 'acme?hello')).toBe(false);
    expect(claimMatches(true, true)).toBe(true);
    expect(claimMatches(['acme/hello'], 'acme/hello')).toBe(false);
    expect(claimMatches(undefined, '*')).toBe(false);
  });

  it('makes the principal trust:<as> with the rule\'s grants and no team', () => {
    expect(principalOfRule({ as: 'ci-hello', grants: [{ role: 'deployer', projects: ['hello-service'] }] })).toEqual({
      id: 'trust:ci-hello',
      username: 'ci-hello',
      displayName: 'ci-hello',
      teams: [],
      grants: [{ role: 'deployer', projects: ['hello-service'] }],
      via: 'jwt',
    });
  });

  it('looks at bearers shaped like a JWT only', () => {
    expect(looksLikeJwt('ci-demo-token')).toBe(false);
    expect(looksLikeJwt('eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.')).toBe(true);
    expect(looksLikeJwt('a.b.c.d')).toBe(false);
  });
});
