import { createRoute, z } from '@hono/zod-openapi';
import type { User } from '../../config/schema.js';
import { isActionableBy, isOpen, mayTakeResponsibility } from '../../workflows/interruption.js';
import {
  abortUpdate,
  type DecisionRequest,
  type Interruption,
  proceedUpdate,
  takeResponsibilityUpdate,
  type TakeResponsibilityRequest,
} from '../../workflows/messages.js';
import { actorOf, hasRole } from '../auth.js';
import type { Deployments } from '../deployments.js';
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

const refusals = problemResponses(400, 401, 403, 404, 409, 503);

const action = (path: string, summary: string, schema: typeof TakeResponsibilitySchema | typeof DecisionSchema) =>
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
const proceed = action('proceed', 'Proceed (the assignee)', DecisionSchema);
const abort = action('abort', 'Abort the deployment (the assignee)', DecisionSchema);

const list = createRoute({
  method: 'get',
  path: '/interruptions',
  tags: ['interruptions'],
  summary: 'Interruptions not yet decided; actionable=true: only those the caller may take or submit',
  security: bearerSecurity,
  request: { query: z.strictObject({ actionable: z.enum(['true', 'false']).optional() }) },
  responses: {
    200: jsonResponse(z.object({ interruptions: z.array(InterruptionListItemSchema) }), 'Open interruptions'),
    ...problemResponses(400, 401, 503),
  },
});

export function interruptionRoutes(deployments: Deployments) {
  const base = (user: User, iid: string) => ({
    user: actorOf(user),
    interruptionId: iid,
    expiresAt: new Date(Date.now() + deployments.actionTimeoutMs).toISOString(),
  });

  return createRouter()
    .openapi(take, async (c) => {
      const { id, iid } = c.req.valid('param');
      const body = (c.req.valid('json') ?? {}) as z.infer<typeof TakeResponsibilitySchema>;
      const request: TakeResponsibilityRequest = { ...base(c.get('user'), iid), ...(body.takeOver ? { takeOver: true } : {}) };
      return c.json(await deployments.act(takeResponsibilityUpdate, id, request), 200);
    })
    .openapi(proceed, async (c) => {
      const { id, iid } = c.req.valid('param');
      const body = (c.req.valid('json') ?? {}) as z.infer<typeof DecisionSchema>;
      const request: DecisionRequest = { ...base(c.get('user'), iid), ...(body.notes === undefined ? {} : { notes: body.notes }) };
      return c.json(await deployments.act(proceedUpdate, id, request), 200);
    })
    .openapi(abort, async (c) => {
      const { id, iid } = c.req.valid('param');
      const body = (c.req.valid('json') ?? {}) as z.infer<typeof DecisionSchema>;
      const request: DecisionRequest = { ...base(c.get('user'), iid), ...(body.notes === undefined ? {} : { notes: body.notes }) };
      return c.json(await deployments.act(abortUpdate, id, request), 200);
    })
    .openapi(list, async (c) => {
      const user = c.get('user');
      const actor = actorOf(user);
      const actionable = c.req.valid('query').actionable === 'true';
      // Visibility narrows the candidates by the InterlockWaitingFor search attribute; each is then read.
      const scope = !actionable || hasRole(user, 'admin')
        ? 'all'
        : [...user.teams, ...(hasRole(user, 'deployer') ? ['deployers'] : [])];
      const waiting = await deployments.listWaiting(scope);
      const views = await Promise.all(waiting.map((summary) => deployments.get(summary.id).catch(() => undefined)));
      const interruptions = views.flatMap((view) =>
        (view?.interruptions ?? [])
          .filter((interruption) => isOpen(interruption) && (!actionable || isActionableBy(interruption, actor)))
          .map((interruption) => ({
            ...interruption,
            deployment: { id: view!.id, project: view!.project, environment: view!.environment, release: view!.release },
            actions: actionsFor(interruption, actor),
          })),
      );
      return c.json({ interruptions }, 200);
    });
}

function actionsFor(interruption: Interruption, actor: ReturnType<typeof actorOf>) {
  if (!isOpen(interruption) || !mayTakeResponsibility(interruption, actor)) return [];
  if (!interruption.assignee) return ['takeResponsibility' as const];
  if (interruption.assignee.id === actor.id) return ['proceed' as const, 'abort' as const];
  return ['takeOver' as const];
}
