import { stagesOf } from '../../config/sequences.js';
import { createRoute, z } from '@hono/zod-openapi';
import type { Config } from '../../config/schema.js';
import { can, rolesAt } from '../../service/permissions.js';
import { defaultValues, definitionOf } from '../../config/project-variables.js';
import {
  bearerSecurity,
  jsonResponse,
  problemResponses,
  ProjectSchema,
} from '../schemas.js';
import { createRouter } from './router.js';


const projects = createRoute({
  method: 'get',
  path: '/projects',
  tags: ['projects'],
  summary: 'The projects you may see, with their environments, steps and your roles in each environment',
  security: bearerSecurity,
  responses: {
    200: jsonResponse(z.object({ projects: z.array(ProjectSchema) }), 'Every project you have a role on'),
    ...problemResponses(401),
  },
});

export function projectRoutes(config: Config) {
  return createRouter()
    .openapi(projects, (c) => {
      const principal = c.get('user');
      return c.json(
        {
          projects: config.projects.filter((project) => can(principal, 'see', { project: project.id })).map((project) => ({
            id: project.id,
            name: project.name,
            environments: project.environments,
            variables: defaultValues(project.variables, { masked: true }),
            prompted: Object.entries(project.variables)
              .map(([name, variable]) => [name, definitionOf(variable)] as const)
              .filter(([, definition]) => definition.prompted)
              .map(([name, { value, pattern, description, sensitive }]) => ({
                name,
                required: value === undefined,
                ...(value === undefined ? {} : { default: sensitive ? '********' : value }),
                ...(pattern ? { pattern } : {}),
                ...(description ? { description } : {}),
              })),
            steps: (project.process ?? []).map((step) => ({
              name: step.name,
              type: step.type,
              environments: step.environments ?? null,
              ...('responsibleTeams' in step ? { responsibleTeams: step.responsibleTeams } : {}),
            })),
            ...(project.shipyard ? { stages: stagesOf(project) } : {}),
            access: project.environments
              .map((environment) => ({ environment, roles: rolesAt(principal, { project: project.id, environment }) }))
              .filter(({ roles }) => roles.length > 0),
          })),
        },
        200,
      );
    });
}
