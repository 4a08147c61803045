import { createRoute, z } from '@hono/zod-openapi';
import type { Deployments } from '../../service/deployments.js';
import {
  bearerSecurity,
  DecisionSchema,
  InterruptionListItemSchema,
  InterruptionParamsSchema,
  InterruptionSchema,
  jsonResponse,
  problemResponses,
  TakeResponsibilitySchema,
} from '../schemas.js';
import { createRouter } from './router.js';

const refusals = problemResponses(400, 401, 403, 404, 409, 413, 429, 503);

const action = <Path extends string>(path: Path, summary: string, schema: typeof TakeResponsibilitySchema | typeof DecisionSchema) =>
  createRoute({
    method: 'post',
    path: `/deployments/{id}/interruptions/{iid}/${path}`,
    tags: ['interruptions'],
    summary,
    security: bearerSecurity,
    request: { params: InterruptionParamsSchema, body: { required: false, content: { 'application/json': { schema } } } },
    responses: { 200: jsonResponse(InterruptionSchema, 'The interruption after the action'), ...refusals },
  });

const take = action('take-responsibility', 'Take responsibility (a member of a responsible team)', TakeResponsibilitySchema);
const proceed = action('proceed', 'Proceed (the assignee); on an Approval: approve', DecisionSchema);
const abort = action('abort', 'Abort the deployment (the assignee); on an Approval: decline', DecisionSchema);
// Guided failure (docs/manual-steps.md): what the assignee of a failed step chooses.
const retry = action('retry', 'Run the failed step again (the assignee of a GuidedFailure)', DecisionSchema);
const ignore = action('ignore', 'Go on as if the step had not failed; it stays Failed, ignored (the assignee of a GuidedFailure)', DecisionSchema);
const fail = action('fail', 'Fail the deployment at this step (the assignee of a GuidedFailure)', DecisionSchema);

const list = createRoute({
  method: 'get',
  path: '/interruptions',
  tags: ['interruptions'],
  summary: 'Interruptions not yet decided; actionable=true: only those the caller may take or submit',
  security: bearerSecurity,
  request: {
    query: z.strictObject({
      actionable: z.enum(['true', 'false']).optional(),
      pageSize: z.coerce.number().int().min(1).max(100).default(100),
      pageToken: z.string().regex(/^[A-Za-z0-9_.-]{1,2000}$/, 'the nextPageToken of an earlier page').optional(),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ interruptions: z.array(InterruptionListItemSchema), nextPageToken: z.string().nullable() }),
      'Open interruptions, a page at a time: follow nextPageToken until it is null',
    ),
    ...problemResponses(400, 401, 503),
  },
});

export function interruptionRoutes(deployments: Deployments) {
  return createRouter()
    .openapi(take, async (c) => {
      const { id, iid } = c.req.valid('param');
      const { takeOver } = (c.req.valid('json') ?? {}) as z.infer<typeof TakeResponsibilitySchema>;
      return c.json(await deployments.act(c.get('user'), id, iid, { type: 'takeResponsibility', takeOver }), 200);
    })
    .openapi(proceed, async (c) => {
      const { id, iid } = c.req.valid('param');
      const { notes } = (c.req.valid('json') ?? {}) as z.infer<typeof DecisionSchema>;
      return c.json(await deployments.act(c.get('user'), id, iid, { type: 'proceed', notes }), 200);
    })
    .openapi(abort, async (c) => {
      const { id, iid } = c.req.valid('param');
      const { notes } = (c.req.valid('json') ?? {}) as z.infer<typeof DecisionSchema>;
      return c.json(await deployments.act(c.get('user'), id, iid, { type: 'abort', notes }), 200);
    })
    .openapi(retry, async (c) => {
      const { id, iid } = c.req.valid('param');
      const { notes } = (c.req.valid('json') ?? {}) as z.infer<typeof DecisionSchema>;
      return c.json(await deployments.act(c.get('user'), id, iid, { type: 'retry', notes }), 200);
    })
    .openapi(ignore, async (c) => {
      const { id, iid } = c.req.valid('param');
      const { notes } = (c.req.valid('json') ?? {}) as z.infer<typeof DecisionSchema>;
      return c.json(await deployments.act(c.get('user'), id, iid, { type: 'ignore', notes }), 200);
    })
    .openapi(fail, async (c) => {
      const { id, iid } = c.req.valid('param');
      const { notes } = (c.req.valid('json') ?? {}) as z.infer<typeof DecisionSchema>;
      return c.json(await deployments.act(c.get('user'), id, iid, { type: 'fail', notes }), 200);
    })
    .openapi(list, async (c) => {
      const { actionable, pageSize, pageToken } = c.req.valid('query');
      return c.json(await deployments.openInterruptions(c.get('user'), { actionable: actionable === 'true', pageSize, pageToken }), 200);
    });
}
