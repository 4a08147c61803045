import { createRoute } from '@hono/zod-openapi';
import type { Config } from '../../config/schema.js';
import { rolesOf } from '../../service/permissions.js';
import { bearerSecurity, jsonResponse, MeSchema, problemResponses } from '../schemas.js';
import { createRouter } from './router.js';

const me = createRoute({
  method: 'get',
  path: '/me',
  tags: ['people'],
  summary: 'The caller, with teams and roles',
  security: bearerSecurity,
  responses: { 200: jsonResponse(MeSchema, 'You'), ...problemResponses(401) },
});

export function meRoutes(config: Config) {
  const teamName = new Map(config.teams.map((team) => [team.id, team.name]));
  return createRouter().openapi(me, (c) => {
    const user = c.get('user');
    const { id, username, displayName, email, teams } = user;
    return c.json(
      {
        id,
        username,
        displayName,
        ...(email ? { email } : {}),
        teams: teams.map((team) => ({ id: team, name: teamName.get(team) ?? team })),
        roles: user.roles.length > 0 ? user.roles : rolesOf(user),
      },
      200,
    );
  });
}
