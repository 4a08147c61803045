import type { Config, User } from '../config/schema.js';
import { actionsFor } from '../core/interruptions.js';
import {
  actorOf,
  grantInWords,
  grantsFor,
  hasRoleAt,
  hasRoleEverywhere,
  type Place,
  type Principal,
  principalOfPerson,
  type Via,
} from '../core/principals.js';
import type { InterruptionActionName, Role } from '../core/names.js';
import type { Actor, Interruption } from '../workflows/messages.js';
import { searchAttributes } from '../workflows/messages.js';
import { notFound, ServiceError } from './errors.js';

export { accessInWords, actorOf, grantedRoles, personOf, rolesAt, type Grant, type Place, type Principal } from '../core/principals.js';

/**
 * Everything a principal may be asked about, and what each needs (docs/security.md):
 * - `see`: any role on the place (a release's or a project's place names no environment: any of its environments);
 * - `trigger`, `cancel`: the deployer role there (an admin's includes it);
 * - `act` (take responsibility, decide) and `postEvent` (a Keptn task's started/finished): seeing it, with a
 *   token that is not read-only; the step's teams and the task's executors decide the rest;
 * - `decode` (the codec endpoint), `temporalWeb`: an operator or admin grant on everything;
 * - `configStatus`, `reviewOverrides`: an admin grant on everything.
 * A read-only principal only sees.
 */
export type Permission = 'see' | 'trigger' | 'cancel' | 'act' | 'postEvent' | 'decode' | 'temporalWeb' | 'configStatus' | 'reviewOverrides';

interface Need {
  /** The role that gives it. */
  role: Role;
  /** Held on the place (scoped), or by a grant that names no project nor environment (the permission is not about one place). */
  everywhere: boolean;
  /** Changes something: never for a read-only principal. */
  writes: boolean;
  /** What it is, in "may not …". */
  doing: string;
}

const NEEDS: Record<Permission, Need> = {
  see: { role: 'viewer', everywhere: false, writes: false, doing: 'see' },
  trigger: { role: 'deployer', everywhere: false, writes: true, doing: 'deploy' },
  cancel: { role: 'deployer', everywhere: false, writes: true, doing: 'cancel' },
  act: { role: 'viewer', everywhere: false, writes: true, doing: 'act on' },
  postEvent: { role: 'viewer', everywhere: false, writes: true, doing: 'post events about' },
  decode: { role: 'operator', everywhere: true, writes: true, doing: 'decode payloads' },
  temporalWeb: { role: 'operator', everywhere: true, writes: false, doing: 'open Temporal Web' },
  configStatus: { role: 'admin', everywhere: true, writes: false, doing: 'read the config\'s status' },
  reviewOverrides: { role: 'admin', everywhere: true, writes: true, doing: 'review overrides' },
};

/** The one answer to "may this principal do this here?", which every front end asks (docs/security.md). */
export function can(principal: Principal, what: Permission, where: Place = {}): boolean {
  const need = NEEDS[what];
  if (need.writes && principal.readOnly) return false;
  return need.everywhere ? hasRoleEverywhere(principal, need.role) : hasRoleAt(principal, need.role, where);
}

/**
 * Refuses what the principal may not do at the place: NOT_FOUND when it may not even see it (in the
 * words `hidden`, those an unknown one gets, so nothing tells the two apart), else NOT_PERMITTED
 * naming the role, project and environment missing. `noun` names the thing in that refusal.
 * `seenAt`: where seeing is what counts, when it is not the place itself (a trigger: its project,
 * so a project one sees is 403 in an environment one does not).
 */
export function requirePermission(
  principal: Principal,
  what: Permission,
  where: Place,
  noun: string,
  { hidden = `No ${noun}.`, seenAt = where }: { hidden?: string; seenAt?: Place } = {},
): void {
  const need = NEEDS[what];
  if (!need.everywhere && !can(principal, 'see', seenAt)) throw notFound(hidden);
  if (can(principal, what, where)) return;
  throw notPermitted(principal, what, where, noun);
}

/** The 403 of a permission the principal lacks at the place, in words a person can act on. */
export function notPermitted(principal: Principal, what: Permission, where: Place, noun: string): ServiceError {
  const need = NEEDS[what];
  const who = `${principal.displayName} (${principal.username})`;
  if (need.writes && principal.readOnly) {
    return new ServiceError('NOT_PERMITTED', `${who} may not ${need.doing} ${noun}: this token is read-only, it may only look.`, {
      missing: { role: need.role, ...placeOf(where) },
    });
  }
  const at = need.everywhere ? ' on every project' : `${where.project ? ` on ${where.project}` : ''}${where.environment ? ` in ${where.environment}` : ''}`;
  const role = need.everywhere && need.role === 'operator' ? 'operator (or admin)' : need.role;
  const held = principal.grants.length > 0 ? ` ${principal.displayName} has: ${principal.grants.map(grantInWords).join('; ')}.` : '';
  return new ServiceError('NOT_PERMITTED', `${who} may not ${need.doing} ${noun}: that needs the ${role} role${at}.${held}`, {
    missing: { role: need.role, ...(need.everywhere ? {} : placeOf(where)) },
  });
}

const placeOf = ({ project, environment }: Place) => ({ ...(project ? { project } : {}), ...(environment ? { environment } : {}) });

/** Whether the principal sees every project in every environment (nothing it reads needs checking). */
export const seesEverything = (principal: Principal): boolean => hasRoleEverywhere(principal, 'viewer');

/**
 * The visibility query clause of what the principal may see, for lists served from Temporal
 * visibility with the scope in the query (a page never comes back short, and counts never include
 * what it may not see): null for everything; otherwise the OR of each grant's place. `environments:
 * false` for releases, whose place is their project (they carry no environment).
 */
export function visibilityClause(principal: Principal, { environments = true }: { environments?: boolean } = {}): string | null {
  return placesClause(principal, 'viewer', { environments });
}

/** A clause that no run matches: for a principal with no grant at all. */
export const NOTHING = `${searchAttributes.project.name} = ''`;

/** The places where the principal holds `role`, as a visibility clause (null: everywhere). */
export function placesClause(principal: Principal, role: Role, { environments = true }: { environments?: boolean } = {}): string | null {
  const grants = grantsFor(principal, role);
  const clauses: string[] = [];
  for (const grant of grants) {
    const parts = [
      ...(grant.projects ? [`${searchAttributes.project.name} IN (${grant.projects.map(quoted).join(', ')})`] : []),
      ...(grant.environments && environments ? [`${searchAttributes.environment.name} IN (${grant.environments.map(quoted).join(', ')})`] : []),
    ];
    if (parts.length === 0) return null;
    clauses.push(parts.length === 1 ? parts[0]! : `(${parts.join(' AND ')})`);
  }
  if (clauses.length === 0) return NOTHING;
  return clauses.length === 1 ? clauses[0]! : `(${clauses.join(' OR ')})`;
}

/** Project ids and environments are the config's ids (lower-case letters, digits, dashes): safe in quotes; anything else is a bug. */
function quoted(value: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(value)) throw new Error(`not an id of the config: ${JSON.stringify(value)}`);
  return `'${value}'`;
}

/** A person of the config as a principal: their grants, their roles (unscoped) and their teams' grants (docs/security.md). */
export function principalOfUser(config: Pick<Config, 'teams'>, user: User, via: Via = 'token'): Principal {
  return principalOfPerson(user, config.teams, via);
}

/**
 * The people of the config as a deployment at `place` knows them (its roster, for signals): those who
 * may see it, each with the roles effective there when it starts. Nobody else can act on it by signal.
 */
export function rosterAt(config: Pick<Config, 'teams' | 'users'>, place: Place): Actor[] {
  return config.users.map((user) => principalOfUser(config, user)).filter((principal) => can(principal, 'see', place)).map((principal) => actorOf(principal, place));
}

/** What the principal may do with an interruption of a deployment at `place` now: the rule behind the API's `actions` and the dashboard's buttons. */
export const actionsOf = (interruption: Interruption, principal: Principal, place: Place): InterruptionActionName[] =>
  can(principal, 'act', place) ? actionsFor(interruption, actorOf(principal, place)) : [];

/** A person of the config as a deployment at `place` knows them (scripts and tests that act as someone). */
export const actorOfUser = (config: Pick<Config, 'teams'>, user: User, place: Place): Actor => actorOf(principalOfUser(config, user), place);
