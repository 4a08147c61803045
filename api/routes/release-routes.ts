import { createRoute } from '@hono/zod-openapi';
import type { Limits } from '../../service/rate-limit.js';
import type { Releases } from '../../service/releases.js';
import {
  bearerSecurity,
  CreateReleaseSchema,
  jsonResponse,
  ListReleasesQuerySchema,
  problemResponses,
  ReleaseIdParamsSchema,
  ReleaseSchema,
  ReleasePageSchema,
} from '../schemas.js';
import { createRouter } from './router.js';
import { runRoutes } from './run-routes.js';

const create = createRoute({
  method: 'post',
  path: '/',
  tags: ['releases'],
  summary: 'Start a release of a lifecycle project at a stage (deployer)',
  security: bearerSecurity,
  request: { body: { required: true, content: { 'application/json': { schema: CreateReleaseSchema } } } },
  responses: { 201: jsonResponse(ReleaseSchema, 'Started'), ...problemResponses(400, 401, 403, 404, 409, 413, 429, 503) },
});

const schemas = { params: ReleaseIdParamsSchema, view: ReleaseSchema, page: ReleasePageSchema, query: ListReleasesQuerySchema };
const { list, get, cancel } = runRoutes('release', schemas, {
  about: 'One release, by id or keptnContext: its stages and each sequence\'s status and result',
  stops: 'its running sequence is cancelled',
});

/** The release routes; starting one counts against the person's trigger rate (`limits`); the service counts a cancel as an action. */
export function releaseRoutes(releases: Releases, limits: Limits) {
  return createRouter()
    .openapi(create, async (c) => {
      limits.trigger(c.get('user').id);
      const { view } = await releases.trigger(c.get('user'), c.req.valid('json'));
      c.header('Location', view.links.self);
      return c.json(view, 201);
    })
    .openapi(list, async (c) => c.json(await releases.list(c.get('user'), c.req.valid('query')), 200))
    .openapi(get, async (c) => c.json(await releases.get(c.get('user'), c.req.valid('param').id), 200))
    .openapi(cancel, async (c) => {
      const { view, finished } = await releases.cancel(c.get('user'), c.req.valid('param').id);
      return finished ? c.json(view, 200) : c.json(view, 202);
    });
}
