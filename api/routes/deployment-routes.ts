import { createRoute, z } from '@hono/zod-openapi';
import type { Counter } from 'prom-client';
import type { Deployments } from '../../service/deployments.js';
import {
  bearerSecurity,
  CreateDeploymentSchema,
  DeploymentIdParamsSchema,
  DeploymentSchema,
  DeploymentPageSchema,
  jsonResponse,
  ListDeploymentsQuerySchema,
  problemResponses,
} from '../schemas.js';
import { createRouter } from './router.js';
import { runRoutes } from './run-routes.js';

const create = createRoute({
  method: 'post',
  path: '/',
  tags: ['deployments'],
  summary: 'Trigger a deployment (deployer)',
  security: bearerSecurity,
  request: {
    headers: z.object({
      'idempotency-key': z.string().min(1).max(200).optional().openapi({
        description: 'A repeat with the same key returns the same deployment with 200 and starts nothing',
      }),
    }),
    body: { required: true, content: { 'application/json': { schema: CreateDeploymentSchema } } },
  },
  responses: {
    201: jsonResponse(DeploymentSchema, 'Started'),
    200: jsonResponse(DeploymentSchema, 'The deployment an earlier request with this Idempotency-Key started'),
    ...problemResponses(400, 401, 403, 404, 409, 413, 429, 503),
  },
});

const schemas = { params: DeploymentIdParamsSchema, view: DeploymentSchema, page: DeploymentPageSchema, query: ListDeploymentsQuerySchema };
const { list, get, cancel } = runRoutes('deployment', schemas, { about: 'One deployment: steps, interruptions, variables, timeline', stops: 'a running script is stopped' });

export function deploymentRoutes(deployments: Deployments, started: Counter<'project' | 'environment'>) {
  return createRouter()
    .openapi(create, async (c) => {
      const body = c.req.valid('json');
      const { view, created } = await deployments.trigger(c.get('user'), body, c.req.valid('header')['idempotency-key']);
      if (created) started.inc({ project: body.project, environment: body.environment });
      c.header('Location', view.links.self);
      return created ? c.json(view, 201) : c.json(view, 200);
    })
    .openapi(list, async (c) => c.json(await deployments.list(c.get('user'), c.req.valid('query')), 200))
    .openapi(get, async (c) => c.json(await deployments.get(c.get('user'), c.req.valid('param').id), 200))
    .openapi(cancel, async (c) => {
      const { view, finished } = await deployments.cancel(c.get('user'), c.req.valid('param').id);
      return finished ? c.json(view, 200) : c.json(view, 202);
    });
}
