import { createRoute, z } from '@hono/zod-openapi';
import type { PolicyOverrides } from '../../service/policy-overrides.js';
import {
  bearerSecurity,
  InterruptionParamsSchema,
  InterruptionSchema,
  jsonResponse,
  OverrideBodySchema,
  OverrideRecordSchema,
  OverridesPageSchema,
  problemResponses,
  ReviewSchema,
} from '../schemas.js';
import { createRouter } from './router.js';

/** Break-glass on a policy gate (docs/change-control.md). */
const override = createRoute({
  method: 'post',
  path: '/deployments/{id}/interruptions/{iid}/override',
  tags: ['interruptions'],
  summary: 'Override a policy gate\'s window, freeze or approvals with a reason (a member of the policy\'s override teams): break-glass',
  description:
    'The interruption (kind Window, or a policy gate\'s Approval) ends Overridden and the deployment goes on. Recorded in the timeline (Overridden) ' +
    'and the audit log, sent as dev.interlock.policy.overridden, and listed for review in GET /api/overrides until an admin reviews it.',
  security: bearerSecurity,
  request: { params: InterruptionParamsSchema, body: { required: true, content: { 'application/json': { schema: OverrideBodySchema } } } },
  responses: {
    200: jsonResponse(InterruptionSchema, 'The interruption, Overridden'),
    ...problemResponses(400, 401, 403, 404, 409, 413, 429, 503),
  },
});

const list = createRoute({
  method: 'get',
  path: '/overrides',
  tags: ['overrides'],
  summary: 'Break-glass overrides, newest first (admin); reviewed=false: those still to review',
  security: bearerSecurity,
  request: {
    query: z.strictObject({
      reviewed: z.enum(['true', 'false']).optional(),
      pageSize: z.coerce.number().int().min(1).max(100).default(50),
      pageToken: z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'the nextPageToken of an earlier page').optional(),
    }),
  },
  responses: { 200: jsonResponse(OverridesPageSchema, 'A page of overrides: follow nextPageToken until it is null'), ...problemResponses(400, 401, 403, 503) },
});

const review = createRoute({
  method: 'post',
  path: '/overrides/{overrideId}/review',
  tags: ['overrides'],
  summary: 'Mark an override reviewed (admin), once',
  security: bearerSecurity,
  request: {
    params: z.object({ overrideId: z.string().min(1).max(200).openapi({ param: { name: 'overrideId', in: 'path' } }) }),
    body: { required: false, content: { 'application/json': { schema: ReviewSchema } } },
  },
  responses: {
    200: jsonResponse(OverrideRecordSchema, 'The override, reviewed'),
    ...problemResponses(400, 401, 403, 404, 409, 413, 429, 503),
  },
});

/** Override, and the review of overrides; each attempt is one audit record in the request's log. */
export function overrideRoutes(overrides: PolicyOverrides) {
  return createRouter()
    .openapi(override, async (c) => {
      const { id, iid } = c.req.valid('param');
      const { reason } = c.req.valid('json');
      return c.json(await overrides.override(c.get('user'), id, iid, reason, c.get('logger')), 200);
    })
    .openapi(list, async (c) => {
      const { reviewed, pageSize, pageToken } = c.req.valid('query');
      return c.json(await overrides.list(c.get('user'), { reviewed: reviewed === undefined ? undefined : reviewed === 'true', pageSize, pageToken }), 200);
    })
    .openapi(review, async (c) => {
      const { overrideId } = c.req.valid('param');
      const { notes } = c.req.valid('json') ?? {};
      return c.json(await overrides.review(c.get('user'), overrideId, notes, c.get('logger')), 200);
    });
}
