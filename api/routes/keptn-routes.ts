import { createRoute, z } from '@hono/zod-openapi';
import type { KeptnEvents } from '../../service/keptn-events.js';
import type { Releases } from '../../service/releases.js';
import { jsonResponse, KeptnEventListSchema, KeptnEventSchema, problemResponses } from '../schemas.js';
import { createRouter } from './router.js';

/** Keptn's API takes its token as `x-token`; Interlock takes that or a bearer token. */
const keptnSecurity: Record<string, string[]>[] = [{ bearer: [] }, { xToken: [] }];

const post = createRoute({
  method: 'post',
  path: '/event',
  tags: ['keptn'],
  summary: 'Send a Keptn CloudEvent: trigger a sequence, approve or decline, or finish an external task',
  description:
    '`sh.keptn.event.<stage>.<sequence>.triggered` starts a release at that stage (as `keptn trigger delivery`); ' +
    '`sh.keptn.event.approval.finished` with `shkeptncontext`, `triggeredid` and `data.result` pass|fail approves or declines ' +
    '(the same rules as take-responsibility + proceed/abort by the token\'s user); `sh.keptn.event.<task>.started|finished` ' +
    'reports on an external task.',
  security: keptnSecurity,
  request: { body: { required: true, content: { 'application/json': { schema: KeptnEventSchema }, 'application/cloudevents+json': { schema: KeptnEventSchema } } } },
  responses: {
    202: jsonResponse(z.object({ keptnContext: z.string() }).openapi('EventContext'), 'Accepted: the release it belongs to (for a trigger naming a context already used by the same project and release: that release, and nothing else starts)'),
    ...problemResponses(400, 401, 403, 404, 409, 413, 429, 503),
    ...described({
      403: 'Not allowed: `NOT_IN_TEAM`, `SELF_APPROVAL` (approval.finished), `NOT_EXECUTOR` (a task\'s .started/.finished from someone who is none of its executors), `NOT_PERMITTED` (a trigger without the deployer role on the project at that stage, or a read-only token)',
      404: 'No such project, release (`NOT_FOUND`; also one you may not see) or task (`TASK_NOT_FOUND`: no task of the release was triggered by `triggeredid`)',
      409: '`CONTEXT_IN_USE`: a trigger naming a `shkeptncontext` that belongs to another release; `ALREADY_DECIDED`, `NOT_WAITING`, `TASK_FINISHED`: already over',
    }),
  },
});

/** The problems above, each with what it means on this route. */
function described(descriptions: Record<403 | 404 | 409, string>) {
  const base = problemResponses(403, 404, 409);
  return Object.fromEntries(Object.entries(descriptions).map(([status, description]) => [status, { ...base[status], description }]));
}

const list = createRoute({
  method: 'get',
  path: '/event',
  tags: ['keptn'],
  summary: 'A release\'s Keptn events, newest first',
  security: keptnSecurity,
  request: {
    query: z.strictObject({
      keptnContext: z.string().regex(/^[A-Za-z0-9_.:-]{1,300}$/, 'a keptnContext (or a release id)'),
      type: z.string().regex(/^sh\.keptn\.event\.[a-z0-9.-]+$/, 'a Keptn event type').optional(),
      pageSize: z.coerce.number().int().min(1).max(100).default(20),
      pageToken: z.string().regex(/^[A-Za-z0-9_.-]{1,2000}$/, 'the nextPageToken of an earlier page').optional(),
    }),
  },
  responses: { 200: jsonResponse(KeptnEventListSchema, 'A page of events'), ...problemResponses(400, 401, 404, 503) },
});

export function keptnRoutes(events: KeptnEvents, releases: Releases) {
  return createRouter()
    .openapi(post, async (c) => {
      const { keptnContext } = await events.receive(c.get('user'), c.req.valid('json'));
      return c.json({ keptnContext }, 202);
    })
    .openapi(list, async (c) => {
      const { keptnContext, ...page } = c.req.valid('query');
      return c.json(await releases.events(c.get('user'), keptnContext, page), 200);
    });
}
