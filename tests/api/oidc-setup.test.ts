import { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../app.js';
import { EXAMPLE_CONFIG_PATH, loadConfig, parseConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { freePort } from '../../temporal/dev-server.js';
import { openPage, signIn } from '../support/dashboard.js';

/**
 * What the sign-in pages do around the identity provider, before any deployment is involved: no
 * provider configured, a provider that cannot be reached, a client secret whose variable is unset.
 * Token sign-in works in each. (The whole flow through a real provider is tests/e2e/oidc-sign-in.)
 * The app's Temporal client is never used here; it connects only when asked.
 */
function appWith(auth: string | undefined, env: NodeJS.ProcessEnv = {}) {
  const config: Config = { ...loadConfig(EXAMPLE_CONFIG_PATH), ...(auth ? { auth: parseConfig(auth).auth } : {}) };
  return createApp({ temporal: { client: new Client(), taskQueue: 'unused' }, config, env, publicUrl: 'http://interlock.test' });
}

describe('sign-in around the identity provider', () => {
  it('without auth.oidc: no provider button, and its routes are 404', async () => {
    const app = appWith(undefined);
    const page = await (await openPage(app, '/sign-in')).text();
    expect(page).not.toContain('Sign in with');
    expect((await openPage(app, '/auth/oidc/login?next=/')).status).toBe(404);
    expect((await openPage(app, '/auth/oidc/callback?code=x&state=y')).status).toBe(404);
  });

  it('a provider that cannot be reached: 503 saying so, and token sign-in still works', async () => {
    const closed = await freePort();
    const app = appWith(`auth: { oidc: { name: Okta, issuer: 'http://127.0.0.1:${closed}', clientId: interlock } }`);
    const signInPage = await (await openPage(app, '/sign-in?next=/projects')).text();
    expect(signInPage).toContain('href="/auth/oidc/login?next=%2Fprojects"');
    expect(signInPage).toContain('Sign in with Okta');
    const login = await openPage(app, '/auth/oidc/login?next=/');
    expect(login.status).toBe(503);
    expect(await login.text()).toContain(`The identity provider http://127.0.0.1:${closed} cannot be reached`);
    expect(await signIn(app, 'jjones')).toMatch(/^interlock_session=/);
  });

  it('a client secret whose environment variable is unset: 503 naming the variable, never a value', async () => {
    const app = appWith('auth: { oidc: { name: Okta, issuer: https://idp.invalid, clientId: interlock, clientSecret: { env: OIDC_CLIENT_SECRET } } }');
    const login = await openPage(app, '/auth/oidc/login?next=/');
    expect(login.status).toBe(503);
    expect(await login.text()).toContain('auth.oidc.clientSecret names the environment variable OIDC_CLIENT_SECRET, which is not set.');
  });
});
