import type { User } from '../config/schema.js';
import { actionsFor } from '../core/interruptions.js';
import type { Actor, Interruption, Person } from '../workflows/messages.js';
import { type InterruptionActionName, type Role, ROLES } from '../core/names.js';
import { forbidden } from './errors.js';

const rank = (role: Role) => ROLES.indexOf(role);

/** Roles are cumulative: an admin is a deployer, and everyone signed in is a viewer. */
export function hasRole(user: Pick<User, 'roles'>, role: Role): boolean {
  return role === 'viewer' || user.roles.some((held) => rank(held) >= rank(role));
}

export function requireRole(user: User, role: Role, doing: string): void {
  if (!hasRole(user, role)) throw forbidden(`${user.displayName} (${user.username}) may not ${doing}: that needs the ${role} role.`);
}

/** The roles a user holds, spelled out: an admin is listed as a deployer too. */
export const rolesOf = (user: Pick<User, 'roles'>): Role[] =>
  hasRole(user, 'admin') ? ['admin', 'deployer'] : hasRole(user, 'deployer') ? ['deployer'] : ['viewer'];

/** The user as the workflow sees them when they act. */
export function actorOf(user: User): Actor {
  const { id, username, displayName, email } = user;
  return { id, username, displayName, ...(email ? { email } : {}), teams: user.teams, roles: rolesOf(user) };
}

/** Who triggered or cancelled, as views and the timeline name them. */
export const personOf = ({ id, username, displayName }: User): Person => ({ id, username, displayName });

/** What `user` may do with an interruption now: the rule behind the API's `actions` and the dashboard's buttons. */
export const actionsOf = (interruption: Interruption, user: User): InterruptionActionName[] => actionsFor(interruption, actorOf(user));
