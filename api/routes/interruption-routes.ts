import { createRoute, type RouteHandler, z } from '@hono/zod-openapi';
import type { AppEnv } from '../../auth/request-env.js';
import type { DecisionType } from '../../core/names.js';
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

/** One action on an interruption: `POST /deployments/{id}/interruptions/{iid}/<path>` with its own body. */
const action = <P extends string, S extends typeof TakeResponsibilitySchema | typeof DecisionSchema>(path: P, summary: string, schema: S) =>
  createRoute({
    method: 'post',
    path: `/deployments/{id}/interruptions/{iid}/${path}` as const,
    tags: ['interruptions'],
    summary,
    security: bearerSecurity,
    request: { params: InterruptionParamsSchema, body: { required: false, content: { 'application/json': { schema } } } },
    responses: { 200: jsonResponse(InterruptionSchema, 'The interruption after the action'), ...refusals },
  });

const take = action('take-responsibility', 'Take responsibility (a member of a responsible team)', TakeResponsibilitySchema);

/** What each decision's route says it does (docs/manual-steps.md); retry, ignore and fail are what the assignee of a failed step chooses. */
const DECISION_SUMMARIES = {
  proceed: 'Proceed (the assignee); on an Approval: approve',
  abort: 'Abort the deployment (the assignee); on an Approval: decline',
  retry: 'Run the failed step again (the assignee of a GuidedFailure)',
  ignore: 'Go on as if the step had not failed; it stays Failed, ignored (the assignee of a GuidedFailure)',
  fail: 'Fail the deployment at this step (the assignee of a GuidedFailure)',
} as const satisfies Record<DecisionType, string>;

const decisionRoute = <T extends DecisionType>(type: T) => action(type, DECISION_SUMMARIES[type], DecisionSchema);
type DecisionRoute<T extends DecisionType> = ReturnType<typeof decisionRoute<T>>;

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

/**
 * Taking responsibility and every decision (one route each, their bodies checked by their schemas),
 * then the list. Each decision is the same handler, `decide(type)`, typed by its route.
 */
export function interruptionRoutes(deployments: Deployments) {
  const decide = <T extends DecisionType>(type: T): RouteHandler<DecisionRoute<T>, AppEnv> => async (c) => {
    const { id, iid } = c.req.valid('param');
    const { notes, inputs, runAt } = c.req.valid('json') ?? {};
    return c.json(await deployments.act(c.get('user'), id, iid, { type, notes, inputs, runAt }), 200);
  };
  return createRouter()
    .openapi(take, async (c) => {
      const { id, iid } = c.req.valid('param');
      const { takeOver } = c.req.valid('json') ?? {};
      return c.json(await deployments.act(c.get('user'), id, iid, { type: 'takeResponsibility', takeOver }), 200);
    })
    .openapi(decisionRoute('proceed'), decide('proceed'))
    .openapi(decisionRoute('abort'), decide('abort'))
    .openapi(decisionRoute('retry'), decide('retry'))
    .openapi(decisionRoute('ignore'), decide('ignore'))
    .openapi(decisionRoute('fail'), decide('fail'))
    .openapi(list, async (c) => {
      const { actionable, pageSize, pageToken } = c.req.valid('query');
      return c.json(await deployments.openInterruptions(c.get('user'), { actionable: actionable === 'true', pageSize, pageToken }), 200);
    });
}
