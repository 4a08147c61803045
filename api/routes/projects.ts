import { createRoute, z } from '@hono/zod-openapi';
import type { Config } from '../../config/schema.js';
import {
  bearerSecurity,
  jsonResponse,
  MeSchema,
  problemResponses,
  ProjectSchema,
} from '../schemas.js';
import { createRouter } from './router.js';


const me = createRoute({
  method: 'get',
  path: '/me',
  tags: ['people'],
  summary: 'The caller, with teams and roles',
  security: bearerSecurity,
  responses: { 200: jsonResponse(MeSchema, 'You'), ...problemResponses(401) },
});

const projects = createRoute({
  method: 'get',
  path: '/projects',
  tags: ['projects'],
  summary: 'Projects with their environments and steps',
  security: bearerSecurity,
  responses: {
    200: jsonResponse(z.object({ projects: z.array(ProjectSchema) }), 'Every project'),
    ...problemResponses(401),
  },
});

export function projectRoutes(config: Config) {
  const teamName = new Map(config.teams.map((team) => [team.id, team.name]));
  return createRouter()
    .openapi(me, (c) => {
      const { id, username, displayName, email, teams, roles } = c.get('user');
      return c.json(
        {
          id,
          username,
          displayName,
          ...(email ? { email } : {}),
          teams: teams.map((team) => ({ id: team, name: teamName.get(team) ?? team })),
          roles: roles.length > 0 ? roles : ['viewer' as const],
        },
        200,
      );
    })
    .openapi(projects, (c) =>
      c.json(
        {
          projects: config.projects.map((project) => ({
            id: project.id,
            name: project.name,
            environments: project.environments,
            variables: project.variables,
            steps: project.process.map((step) => ({
              name: step.name,
              type: step.type,
              environments: step.environments ?? null,
              ...(step.type === 'manual' ? { responsibleTeams: step.responsibleTeams } : {}),
            })),
          })),
        },
        200,
      ),
    );
}
