import type { Config } from '../config/schema.js';
import { type Principal, principalOfPerson } from '../core/principals.js';

/** Who the identity provider says a signed-in person is: the claims `auth.oidc.claims` names, read at sign-in. */
export interface SignedInIdentity {
  username: string;
  displayName: string;
  email?: string | undefined;
  /** The provider's groups, which `teams[].groups` maps to teams. */
  groups: string[];
}

/**
 * The principal of a person signed in with the identity provider, under the current config
 * (docs/security.md): the teams whose `groups` name one of their groups, and, when `users:` lists
 * their username, that entry's id, teams, roles and grants too. Made again on every request, so a
 * change of the mapping applies at once. `oidc:<username>` is the id of a person not listed.
 */
export function principalOfIdentity(config: Pick<Config, 'teams' | 'users'>, identity: SignedInIdentity): Principal {
  const listed = config.users.find((user) => user.username === identity.username.toLowerCase());
  const fromGroups = config.teams.filter((team) => team.groups?.some((group) => identity.groups.includes(group))).map((team) => team.id);
  const teams = [...new Set([...(listed?.teams ?? []), ...fromGroups])];
  const email = identity.email ?? listed?.email;
  return principalOfPerson(
    {
      id: listed?.id ?? `oidc:${identity.username}`,
      username: listed?.username ?? identity.username,
      displayName: identity.displayName || listed?.displayName || identity.username,
      ...(email ? { email } : {}),
      teams,
      roles: listed?.roles ?? [],
      grants: listed?.grants,
    },
    config.teams,
    'oidc',
  );
}

/** What a username from the provider may hold: a login (`jjones`) or an email address (`jamie.jones@acme.com`). */
export const USERNAME = /^[a-z0-9][a-z0-9._@+-]{0,127}$/;

/** The identity in the claims of an ID token and userinfo, under `auth.oidc.claims`; or what is missing. */
export function identityOfClaims(
  claims: Record<string, unknown>,
  names: { username: string; displayName: string; email: string; groups: string },
): SignedInIdentity | { missing: string } {
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);
  // Providers compare usernames without case (Okta, Entra ID); so does Interlock, as `users:` spells them.
  const username = text(claims[names.username])?.toLowerCase();
  // A username goes into views, timelines and visibility queries: only the characters of a login or an email address.
  if (!username || !USERNAME.test(username)) return { missing: names.username };
  const rawGroups = claims[names.groups];
  const groups = (Array.isArray(rawGroups) ? rawGroups : rawGroups === undefined ? [] : [rawGroups])
    .filter((group): group is string => typeof group === 'string' && group.length > 0 && group.length <= 256);
  const email = text(claims[names.email]);
  return {
    username,
    displayName: (text(claims[names.displayName]) ?? username).slice(0, 200),
    ...(email && email.length <= 254 ? { email } : {}),
    groups: [...new Set(groups)],
  };
}
