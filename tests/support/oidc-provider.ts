import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';
import { freePort } from '../../temporal/dev-server.js';

/** A person the provider knows: the login its own sign-in page takes (any password), and their claims. */
export interface ProviderPerson {
  name: string;
  email: string;
  groups: string[];
}

export interface TestProvider {
  /** The issuer, on loopback: `http://localhost:<port>` (another site than Interlock's 127.0.0.1). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** How many sessions the provider has ended through its end_session_endpoint (RP-initiated logout). */
  logouts(): number;
  close(): Promise<void>;
}

/**
 * A real OpenID Connect provider, the certified `oidc-provider` from npm, on loopback: one client
 * (Interlock, a confidential client with PKCE required), the claims a company's provider gives
 * (preferred_username, name, email, groups), its own development sign-in and consent pages, and
 * RP-initiated logout. `people` are the logins it knows, by username.
 */
export async function startTestProvider(options: { interlockUrl: string; people: Record<string, ProviderPerson> }): Promise<TestProvider> {
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const clientId = 'interlock';
  const clientSecret = `test-secret-${crypto.randomUUID()}`;
  let logouts = 0;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [`${options.interlockUrl}/auth/oidc/callback`],
        post_logout_redirect_uris: [`${options.interlockUrl}/sign-in?signed-out`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'], groups: ['groups'] },
    scopes: ['openid', 'profile', 'email', 'groups'],
    async findAccount(_, id) {
      const person = options.people[id];
      if (!person) return undefined;
      return { accountId: id, claims: () => ({ sub: id, preferred_username: id, name: person.name, email: person.email, groups: person.groups }) };
    },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    pkce: { required: () => true },
    cookies: { keys: [crypto.randomUUID()] },
  });
  provider.on('end_session.success', () => {
    logouts += 1;
  });
  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    issuer,
    clientId,
    clientSecret,
    logouts: () => logouts,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
