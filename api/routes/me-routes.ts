import { createRoute } from '@hono/zod-openapi';
import type { Config } from '../../config/schema.js';
import { grantedRoles } from '../../service/permissions.js';
import { bearerSecurity, jsonResponse, MeSchema, problemResponses } from '../schemas.js';
import { createRouter } from './router.js';

const me = createRoute({
  method: 'get',
  path: '/me',
  tags: ['people'],
  summary: 'The caller, with teams, roles and grants',
  security: bearerSecurity,
  responses: { 200: jsonResponse(MeSchema, 'You'), ...problemResponses(401) },
});

/** `GET /api/me`: the principal the request comes from, however it signed in (docs/security.md). */
export function meRoutes(config: Config) {
  return createRouter().openapi(me, (c) => {
    // The config as it is now: a reload may have renamed a team.
    const teamName = new Map(config.teams.map((team) => [team.id, team.name]));
    const principal = c.get('user');
    const { id, username, displayName, email, teams, grants, via, readOnly } = principal;
    return c.json(
      {
        id,
        username,
        displayName,
        ...(email ? { email } : {}),
        teams: teams.map((team) => ({ id: team, name: teamName.get(team) ?? team })),
        roles: grantedRoles(principal),
        grants: grants.map(({ role, projects, environments }) => ({ role, ...(projects ? { projects } : {}), ...(environments ? { environments } : {}) })),
        via,
        ...(readOnly ? { readOnly: true } : {}),
      },
      200,
    );
  });
}
