import { createHash, timingSafeEqual } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { Config, Role, User } from '../config/schema.js';
import type { Actor } from '../workflows/messages.js';
import type { AppEnv } from './context.js';
import { forbidden, Problem } from './problems.js';
import { userFromSession } from './session.js';

export const sha256Hex = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Finds the user whose `tokenSha256` matches the token. Every user's hash is compared, each in
 * constant time, so the answer's timing says nothing about which hash came close.
 */
export function userForToken(config: Config, token: string): User | undefined {
  const presented = createHash('sha256').update(token).digest();
  let found: User | undefined;
  for (const user of config.users) {
    if (timingSafeEqual(presented, Buffer.from(user.tokenSha256, 'hex')) && !found) found = user;
  }
  return found;
}

/** `Authorization: Bearer <token>` (or, for GET, the dashboard's session) → the user, or 401. */
export const bearerAuth = (config: Config) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('Authorization');
    // The dashboard's pages read the API (and its event streams) with their session cookie; only
    // safe methods, so a cross-site form can never act through it.
    if (!header && (c.req.method === 'GET' || c.req.method === 'HEAD')) {
      const user = userFromSession(c, config);
      if (user) {
        c.set('user', user);
        return next();
      }
    }
    const token = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    if (!token) throw new Problem(401, 'Unauthorized', 'Send your token as "Authorization: Bearer <token>".');
    const user = userForToken(config, token);
    if (!user) throw new Problem(401, 'Unauthorized', 'That token belongs to nobody; check it, or ask an admin for a new one.');
    c.set('user', user);
    await next();
  });

const RANK: Record<Role, number> = { viewer: 0, deployer: 1, admin: 2 };

/** Roles are cumulative: an admin is a deployer, and everyone signed in is a viewer. */
export function hasRole(user: User, role: Role): boolean {
  return user.roles.some((held) => RANK[held] >= RANK[role]) || role === 'viewer';
}

export function requireRole(user: User, role: Role, doing: string): void {
  if (!hasRole(user, role)) throw forbidden(`${user.displayName} (${user.username}) may not ${doing}: that needs the ${role} role.`);
}

/** The user as the workflow sees them when they act. */
export function actorOf(user: User): Actor {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    ...(user.email ? { email: user.email } : {}),
    teams: user.teams,
    roles: hasRole(user, 'admin') ? ['admin', 'deployer'] : hasRole(user, 'deployer') ? ['deployer'] : ['viewer'],
  };
}
