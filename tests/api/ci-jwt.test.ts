import { exportSPKI, importJWK, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { helloService, project } from '../support/fixtures.js';
import { githubActionsClaims, type JwksIssuer, newKey, startJwksIssuer } from '../support/jwks-issuer.js';
import { deploymentIn, ok, problem } from '../support/api.js';
import { sleep } from '../support/poll.js';
import { useCliAgainst } from '../support/cli.js';
import { uniqueRelease, useStack } from '../support/stack.js';

/**
 * CI with no stored secret (docs/ci.md): a GitHub-Actions-shaped job token, signed by an issuer
 * this test runs (keys it makes and rotates), is trusted by a rule of auth.trust; the config holds
 * no token at all. Every forged variant is 401 with its reason in the problem's detail.
 */
let issuer: JwksIssuer;
let stranger: JwksIssuer;
beforeAll(async () => {
  issuer = await startJwksIssuer();
  stranger = await startJwksIssuer();
});
afterAll(async () => {
  await issuer?.close();
  await stranger?.close();
});

const AUDIENCE = 'interlock';
/** How soon an unknown kid may fetch the issuer's keys again: short here, so the rotation test need not wait 30 s. */
const COOLDOWN_MS = 1000;

const stack = useStack(
  () =>
    parseConfig(`
projects:
${helloService('- { name: Deploy, type: script, run: "echo deployed #{Release}" }').replace(/^/gm, '  ')}
${project('billing', 'Billing', '- { name: Deploy, type: script, run: echo billed }').replace(/^/gm, '  ')}
auth:
  trust:
    - issuer: ${issuer.url}
      audience: ${AUDIENCE}
      claims: { repository: acme/hello, ref: refs/heads/main }
      as: ci-hello
      grants: [{ role: deployer, projects: [hello-service], environments: [qa] }]
    - issuer: ${issuer.url}
      audience: ${AUDIENCE}
      claims: { repository: acme/hello, ref: 'refs/heads/release/*' }
      as: ci-hello-release
      grants: [{ role: viewer, projects: [hello-service] }]
`),
  { workloadIdentity: { cooldownMs: COOLDOWN_MS } },
);

// The CLI, as a CI job runs it, over real HTTP.
const { terminal } = useCliAgainst(stack);

/** The JSON API as whoever holds this bearer. */
const as = (token: string) => stack.api(null, { Authorization: `Bearer ${token}` });
const trigger = (token: string, environment = 'qa', projectId = 'hello-service') =>
  as(token).api.deployments.$post({ json: { project: projectId, environment, release: uniqueRelease() }, header: {} });

/** The 401 of a forged token: its reason in the detail, and never the token. */
async function refused(token: string, reason: string): Promise<string> {
  const body = await problem(trigger(token), 401);
  expect(body.detail).toContain(`(${reason})`);
  expect(body.detail).not.toContain(token);
  expect(body.detail).not.toContain(token.split('.')[1]);
  return body.detail;
}

describe('a CI job\'s token, trusted by auth.trust', () => {
  it('triggers a deployment and waits for it, with no token in the config', async () => {
    expect(stack.app).toBeDefined();
    const token = await issuer.sign(githubActionsClaims(AUDIENCE));
    const me = await ok(as(token).api.me.$get());
    expect(me).toMatchObject({ id: 'trust:ci-hello', username: 'ci-hello', teams: [] });

    const created = await ok(trigger(token), 201);
    expect(created.triggeredBy).toMatchObject({ id: 'trust:ci-hello', username: 'ci-hello' });
    const done = deploymentIn(await ok(as(token).api.deployments[':id'].wait.$get({ param: { id: created.id }, query: { timeout: '60' } })));
    expect(done.status).toBe('Succeeded');
    expect(done.steps[0]?.log).toContain(`deployed ${created.release}`);
  });

  it('is what the CLI sends as INTERLOCK_TOKEN: interlock deploy --wait passes, a forged token fails with its reason', async () => {
    const release = uniqueRelease();
    const args = ['deploy', '--project', 'hello-service', '--environment', 'qa', '--release', release, '--wait', '--timeout', '60s'];
    const deployed = await terminal('', args, { INTERLOCK_TOKEN: await issuer.sign(githubActionsClaims(AUDIENCE)) }).done;
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stdout + deployed.stderr).toContain('Succeeded');
    const forged = await terminal('', args, { INTERLOCK_TOKEN: await issuer.sign(githubActionsClaims('someone-else')) }).done;
    expect(forged.code).toBe(1);
    expect(forged.stderr).toContain('The CI token is refused (audience)');
  });

  it('may do only what its rule grants: 404 on a project it may not see, 403 where it may only look', async () => {
    const token = await issuer.sign(githubActionsClaims(AUDIENCE));
    await problem(trigger(token, 'qa', 'billing'), 404);
    // A release branch's job matches the other rule: it may look, not deploy.
    const release = await issuer.sign(githubActionsClaims(AUDIENCE, { ref: 'refs/heads/release/1.4' }));
    expect(await ok(as(release).api.me.$get())).toMatchObject({ id: 'trust:ci-hello-release' });
    expect((await problem(trigger(release), 403)).code).toBe('NOT_PERMITTED');
  });

  it('takes a token up to 60 s past its exp (clock skew), not later, and never one without exp', async () => {
    const now = Math.floor(Date.now() / 1000);
    await ok(as(await issuer.sign(githubActionsClaims(AUDIENCE, { iat: now - 400, exp: now - 30 }))).api.me.$get());
    const detail = await refused(await issuer.sign(githubActionsClaims(AUDIENCE, { iat: now - 400, exp: now - 120 })), 'expired');
    expect(detail).toContain('expired at');
    await refused(await issuer.sign(githubActionsClaims(AUDIENCE, { nbf: now + 600 })), 'not yet valid');
    expect(await refused(await issuer.sign(githubActionsClaims(AUDIENCE, { exp: undefined })), 'expired')).toContain('no exp');
  });

  it('refuses alg none and an HMAC signed with the issuer\'s public key', async () => {
    const unsigned = new UnsecuredJWT({ iss: issuer.url, ...githubActionsClaims(AUDIENCE) }).setIssuedAt().setExpirationTime('5m').encode();
    expect(await refused(unsigned, 'signature')).toContain('"none"');
    // The classic confusion: the public key, which anyone can fetch, used as an HMAC secret.
    const publicPem = await exportSPKI((await importJWK(issuer.current().publicJwk, 'RS256', { extractable: true })) as CryptoKey);
    const hmac = await new SignJWT({ iss: issuer.url, ...githubActionsClaims(AUDIENCE) })
      .setProtectedHeader({ alg: 'HS256', kid: issuer.current().kid })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(publicPem));
    expect(await refused(hmac, 'signature')).toContain('"HS256"');
  });

  it('refuses a wrong audience, an issuer no rule trusts, and claims no rule matches', async () => {
    await refused(await issuer.sign(githubActionsClaims('someone-else')), 'audience');
    // A real issuer with real keys, which no rule names.
    expect(await refused(await stranger.sign(githubActionsClaims(AUDIENCE)), 'issuer')).toContain(stranger.url);
    const detail = await refused(await issuer.sign(githubActionsClaims(AUDIENCE, { repository: 'acme/other', sub: 'repo:acme/other:ref:refs/heads/main' })), 'no trust rule matches');
    expect(detail).toContain('repository');
    expect(detail).not.toContain('acme/hello');
  });

  it('refuses a signature by a key its issuer does not have, fetching the keys again at most once per cooldown', async () => {
    const forger = await newKey();
    // Same kid as the issuer's key, other key: the signature does not verify.
    await refused(await issuer.sign(githubActionsClaims(AUDIENCE), { key: { ...forger, kid: issuer.current().kid } }), 'signature');
    await sleep(COOLDOWN_MS + 100);
    const before = issuer.jwksFetches();
    // Unknown kids, many at once: one fetch of the keys, then refusals from the cache.
    const tokens = await Promise.all(Array.from({ length: 5 }, () => issuer.sign(githubActionsClaims(AUDIENCE), { key: forger })));
    for (const token of tokens) await refused(token, 'signature');
    expect(issuer.jwksFetches() - before).toBe(1);
  });

  it('follows a key rotation: a token signed by the new key works once its kid is seen', async () => {
    const old = await issuer.sign(githubActionsClaims(AUDIENCE));
    await ok(as(old).api.me.$get());
    await issuer.rotate({ alg: 'ES256' });
    await sleep(COOLDOWN_MS + 100);
    const fresh = await issuer.sign(githubActionsClaims(AUDIENCE));
    expect(await ok(as(fresh).api.me.$get())).toMatchObject({ id: 'trust:ci-hello' });
    // The old key is gone from the JWKS: once the keys are fetched again, its tokens are refused.
    await refused(old, 'signature');
  });
});
