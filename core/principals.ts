/**
 * Who is asking, and what their grants give them where (docs/security.md). A principal is whoever a
 * request comes from — a person of the config with a token or a session, a person signed in with
 * the identity provider, a CI job's workload identity — with its teams and the union of its grants.
 * A grant is a role on some projects and environments (none named: all). Pure, so the service, the
 * dashboard, the notifications and the tests all read grants with the same rule.
 */
import type { Actor, Person } from './interruptions.js';
import { type ActorRole, type Role, ROLES } from './names.js';

/** A role on the projects and environments named (absent: every one). */
export interface Grant {
  role: Role;
  projects?: string[] | undefined;
  environments?: string[] | undefined;
}

/** How a principal proved who it is. */
export type Via = 'token' | 'session' | 'oidc' | 'jwt';

export interface Principal {
  /** `users[].id`; `oidc:<username>` for a signed-in person not in `users:`; `trust:<as>` for a CI trust rule. */
  id: string;
  username: string;
  displayName: string;
  email?: string | undefined;
  /** Team ids: the person's own, and those whose provider groups they belong to. */
  teams: string[];
  /** The union of every grant it holds: its own, its `roles` (unscoped), its teams', its trust rule's. */
  grants: Grant[];
  via: Via;
  /** A read-only token: it acts as a viewer wherever its grants reach, whatever their roles. */
  readOnly?: boolean | undefined;
}

/** Where something is: a project, and an environment (a lifecycle project's stage) of it; either may be left open. */
export interface Place {
  project?: string | undefined;
  environment?: string | undefined;
}

/** What each role includes: every role sees; an admin is everything. */
const INCLUDES: Record<Role, readonly Role[]> = {
  viewer: ['viewer'],
  deployer: ['viewer', 'deployer'],
  operator: ['viewer', 'operator'],
  admin: ROLES,
};

/** Whether `held` gives what `role` gives. */
export const includesRole = (held: Role, role: Role): boolean => INCLUDES[held].includes(role);

/** A grant that names no project and no environment: it applies everywhere. */
export const isUnscoped = (grant: Grant): boolean => grant.projects === undefined && grant.environments === undefined;

/**
 * Whether the grant reaches the place: each of the place's project and environment is one it names
 * (or it names none). A place that leaves its environment open (a project, a release) is reached by a
 * grant on any environment of it.
 */
export function covers(grant: Grant, place: Place): boolean {
  const project = place.project === undefined || grant.projects === undefined || grant.projects.includes(place.project);
  const environment = place.environment === undefined || grant.environments === undefined || grant.environments.includes(place.environment);
  return project && environment;
}

/** The grants that count for what `role` allows: a read-only principal's count only for seeing. */
export const grantsFor = (principal: Pick<Principal, 'grants' | 'readOnly'>, role: Role): Grant[] =>
  principal.readOnly && role !== 'viewer' ? [] : principal.grants.filter((grant) => includesRole(grant.role, role));

/** Whether the principal holds `role` at the place. */
export const hasRoleAt = (principal: Pick<Principal, 'grants' | 'readOnly'>, role: Role, place: Place): boolean =>
  grantsFor(principal, role).some((grant) => covers(grant, place));

/** Whether the principal holds `role` everywhere (by a grant that names no project nor environment). */
export const hasRoleEverywhere = (principal: Pick<Principal, 'grants' | 'readOnly'>, role: Role): boolean =>
  grantsFor(principal, role).some(isUnscoped);

/** The roles the principal holds at the place, each spelled out (an admin's include the deployer's), in `ROLES` order. */
export const rolesAt = (principal: Pick<Principal, 'grants' | 'readOnly'>, place: Place): Role[] =>
  ROLES.filter((role) => hasRoleAt(principal, role, place));

/** The roles its grants name, wherever they apply, in `ROLES` order; a read-only principal's are a viewer's. */
export function grantedRoles(principal: Pick<Principal, 'grants' | 'readOnly'>): Role[] {
  if (principal.readOnly) return principal.grants.length > 0 ? ['viewer'] : [];
  return ROLES.filter((role) => principal.grants.some((grant) => grant.role === role));
}

/**
 * The principal as a workflow sees it act at the place: its teams, and the roles it holds there in
 * the workflow's words (an admin is a deployer too; a viewer only when it is nothing more), so a step
 * that names no team is for "a deployer of this project and environment".
 */
export function actorOf(principal: Principal, place: Place): Actor {
  const { id, username, displayName, email, teams } = principal;
  return { id, username, displayName, ...(email ? { email } : {}), teams, roles: actorRoles(rolesAt(principal, place)) };
}

/** Roles as an `Actor` carries them: `['admin', 'deployer']`, `['deployer']`, `['viewer']` or none. */
export function actorRoles(roles: readonly Role[]): ActorRole[] {
  if (roles.includes('admin')) return ['admin', 'deployer'];
  if (roles.includes('deployer')) return ['deployer'];
  return roles.length > 0 ? ['viewer'] : [];
}

/** Who triggered or cancelled, as views and the timeline name them. */
export const personOf = ({ id, username, displayName }: Pick<Principal, 'id' | 'username' | 'displayName'>): Person => ({ id, username, displayName });

/** A person of the config, as far as principals need one. */
export interface ListedPerson {
  id: string;
  username: string;
  displayName: string;
  email?: string | undefined;
  teams: string[];
  roles: Role[];
  grants?: Grant[] | undefined;
  readOnly?: boolean | undefined;
}

/** A team of the config, as far as principals need one. */
export interface ListedTeam {
  id: string;
  grants?: Grant[] | undefined;
}

/**
 * A person of the config as a principal: their teams, and the union of their own grants, their
 * `roles` (each an unscoped grant) and their teams' grants.
 */
export function principalOfPerson(person: ListedPerson, teams: readonly ListedTeam[], via: Via): Principal {
  const grants = [
    ...person.roles.map((role): Grant => ({ role })),
    ...(person.grants ?? []),
    ...teams.filter((team) => person.teams.includes(team.id)).flatMap((team) => team.grants ?? []),
  ];
  return {
    id: person.id,
    username: person.username,
    displayName: person.displayName,
    ...(person.email ? { email: person.email } : {}),
    teams: person.teams,
    grants: distinct(grants),
    via,
    ...(person.readOnly ? { readOnly: true } : {}),
  };
}

/** Grants without repeats (the same grant from the person and a team counts once). */
function distinct(grants: Grant[]): Grant[] {
  const seen = new Set<string>();
  return grants.filter((grant) => {
    const key = JSON.stringify([grant.role, grant.projects ?? null, grant.environments ?? null]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A grant in words: `deployer`, `deployer on hello-service in qa`, `viewer in production`. */
export function grantInWords(grant: Grant): string {
  const projects = grant.projects ? ` on ${grant.projects.join(', ')}` : '';
  const environments = grant.environments ? ` in ${grant.environments.join(', ')}` : '';
  return `${grant.role}${projects}${environments}`;
}

/** What a principal may do, in words for a person: `deployer`, `viewer; deployer on hello-service in qa`, `no access`. */
export function accessInWords(principal: Pick<Principal, 'grants' | 'readOnly'>): string {
  if (principal.grants.length === 0) return 'no access';
  const everywhere = ROLES.filter((role) => principal.grants.some((grant) => isUnscoped(grant) && grant.role === role));
  // An admin everywhere says it all; a deployer and an operator everywhere are both said.
  const broad = everywhere.filter((role) => !everywhere.some((other) => other !== role && includesRole(other, role)));
  const scoped = principal.grants.filter((grant) => !isUnscoped(grant) && !broad.some((role) => includesRole(role, grant.role))).map(grantInWords);
  const words = [...broad, ...scoped].join('; ');
  return principal.readOnly ? `${words} (read-only: looks only)` : words;
}
