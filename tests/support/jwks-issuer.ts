import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

/** A key the issuer signs with: its private half, and its public JWK as the JWKS shows it. */
export interface IssuerKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/**
 * An OIDC issuer of workload identities, as GitHub Actions' or GitLab's is to Interlock: its
 * discovery document and its JWKS over real HTTP on loopback, keys it makes with jose, and a key
 * rotation. It counts the JWKS fetches, so a test can see how often Interlock asks.
 */
export interface JwksIssuer {
  url: string;
  /** The key it signs with now. */
  current(): IssuerKey;
  /** A new key (its kid new) that signs from now on; the JWKS then holds only it unless `keepOld`. */
  rotate(options?: { keepOld?: boolean; alg?: IssuerKey['alg'] }): Promise<IssuerKey>;
  /** A signed JWT with these claims (iss is the issuer's, iat now, exp in 5 minutes unless given), by `key` (the current one unless given). */
  sign(claims: JWTPayload, options?: { key?: IssuerKey; header?: Record<string, unknown> }): Promise<string>;
  jwksFetches(): number;
  close(): Promise<void>;
}

export async function newKey(alg: IssuerKey['alg'] = 'RS256'): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `key-${crypto.randomUUID().slice(0, 8)}`;
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export async function startJwksIssuer(): Promise<JwksIssuer> {
  let keys = [await newKey()];
  let fetches = 0;
  let url = '';
  const server: Server = createServer((request, response) => {
    const send = (body: unknown) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.url === '/.well-known/openid-configuration') return send({ issuer: url, jwks_uri: `${url}/.well-known/jwks`, id_token_signing_alg_values_supported: ['RS256', 'ES256'] });
    if (request.url === '/.well-known/jwks') {
      fetches += 1;
      return send({ keys: keys.map((key) => key.publicJwk) });
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer: JwksIssuer = {
    url,
    current: () => keys[keys.length - 1]!,
    async rotate({ keepOld = false, alg = 'RS256' } = {}) {
      const key = await newKey(alg);
      keys = keepOld ? [...keys, key] : [key];
      return key;
    },
    async sign(claims, { key = issuer.current(), header = {} } = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: url, iat: now, exp: now + 300, ...claims }).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
    },
    jwksFetches: () => fetches,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
  return issuer;
}

/** The claims of a GitHub Actions job's OIDC token for `acme/hello` on main (docs/ci.md), with `overrides`. */
export function githubActionsClaims(audience: string, overrides: JWTPayload = {}): JWTPayload {
  return {
    aud: audience,
    sub: 'repo:acme/hello:ref:refs/heads/main',
    repository: 'acme/hello',
    repository_owner: 'acme',
    ref: 'refs/heads/main',
    ref_type: 'branch',
    sha: 'c0ffee0000000000000000000000000000000000',
    workflow: 'deploy',
    event_name: 'push',
    actor: 'jjones',
    run_id: '1234567890',
    run_attempt: '1',
    environment: 'qa',
    jti: crypto.randomUUID(),
    ...overrides,
  };
}
