import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { DeploymentWithLinks } from '../../service/deployments.js';
import type { Principal } from '../../service/permissions.js';
import type { Limits } from '../../service/rate-limit.js';
import type { ReleaseWithLinks } from '../../service/releases.js';
import { snapshotOf, type Watched, type Watcher } from '../../service/watch.js';
import {
  bearerSecurity,
  DeploymentIdParamsSchema,
  DeploymentSchema,
  jsonResponse,
  problemResponses,
  ReleaseIdParamsSchema,
  ReleaseSchema,
} from '../schemas.js';
import { createRouter } from './router.js';

const KEEP_ALIVE_MS = 15_000;

/** What can be waited for and watched: deployments and releases alike; `get` refuses (404) what the principal may not see. */
export interface Watchable<V extends Watched = DeploymentWithLinks | ReleaseWithLinks> {
  get(user: Principal, id: string): Promise<V>;
  readonly watcher: Watcher<V>;
}

/** The wait and events routes of one kind of thing; `event` names its SSE events and its event schema. */
function routesFor(kind: { tag: 'deployments' | 'releases'; noun: 'deployment' | 'release'; schema: typeof DeploymentSchema | typeof ReleaseSchema; params: typeof DeploymentIdParamsSchema; eventSchema: string }) {
  const view = (description: string) => jsonResponse(kind.schema, description);
  const wait = createRoute({
    method: 'get',
    path: '/{id}/wait',
    tags: [kind.tag],
    summary: `Hold until the ${kind.noun} finishes (200) or \`timeout\` seconds pass (202)`,
    security: bearerSecurity,
    request: {
      params: kind.params,
      query: z.strictObject({ timeout: z.coerce.number().int().min(0).max(300).default(30).openapi({ description: 'seconds, at most 300' }) }),
    },
    responses: { 200: view('Finished'), 202: view('Still going; the current view'), ...problemResponses(400, 401, 404, 429, 503) },
  });
  const events = createRoute({
    method: 'get',
    path: '/{id}/events',
    tags: [kind.tag],
    summary: `Server-sent events: a \`${kind.noun}\` event with the view each time it changes`,
    description: 'Event ids are versions of the view: reconnect with Last-Event-ID and the current view comes at once if it changed since. The stream ends after a terminal status; `:` comments keep it alive.',
    security: bearerSecurity,
    request: { params: kind.params },
    responses: {
      200: {
        description: `The event stream: \`event: ${kind.noun}\`, \`id: <version>\`, \`data: <the view as JSON>\`, one per change`,
        content: {
          'text/event-stream': {
            // OpenAPI 3.2's way of typing each event of a stream.
            itemSchema: { $ref: `#/components/schemas/${kind.eventSchema}` },
          },
        },
      },
      ...problemResponses(400, 401, 404, 429, 503),
    },
  });
  return { wait, events };
}

/**
 * The wait and events routes of deployments or releases. A person's waits and streams are counted
 * across both kinds (`limits`): a slot is taken before anything is awaited and given back when the
 * answer ends or the caller goes away, so a burst cannot slip past the cap.
 */
export function progressRoutes(runs: Watchable, kind: 'deployments' | 'releases', limits: Limits) {
  const { wait, events } = kind === 'deployments'
    ? routesFor({ tag: 'deployments', noun: 'deployment', schema: DeploymentSchema, params: DeploymentIdParamsSchema, eventSchema: 'DeploymentEvent' })
    : routesFor({ tag: 'releases', noun: 'release', schema: ReleaseSchema, params: ReleaseIdParamsSchema, eventSchema: 'ReleaseEvent' });
  const eventName = kind === 'deployments' ? 'deployment' : 'release';
  return createRouter()
    .openapi(wait, async (c) => {
      const { id } = c.req.valid('param');
      const release = limits.wait(c.get('user').id);
      try {
        const snapshot = snapshotOf(await runs.get(c.get('user'), id));
        if (snapshot.finished) return c.json(snapshot.view, 200);
        const latest = await runs.watcher.waitForEnd(id, c.req.valid('query').timeout * 1000, snapshot, c.req.raw.signal);
        return latest.finished ? c.json(latest.view, 200) : c.json(latest.view, 202);
      } finally {
        release();
      }
    })
    .openapi(events, async (c) => {
      const { id } = c.req.valid('param');
      const release = limits.stream(c.get('user').id);
      let first;
      try {
        // Unknown ids get their 404 before the stream starts.
        first = snapshotOf(await runs.get(c.get('user'), id));
      } catch (error) {
        release();
        throw error;
      }
      const lastSeen = c.req.header('Last-Event-ID');
      return streamSSE(c, async (stream) => {
        let sent = lastSeen;
        const queue: (() => Promise<void>)[] = [];
        let wake: (() => void) | undefined;
        let done = false;
        const push = (job: () => Promise<void>) => {
          queue.push(job);
          wake?.();
        };
        const unsubscribe = runs.watcher.subscribe(id, {
          onView: (snapshot) =>
            push(async () => {
              if (snapshot.version !== sent) {
                sent = snapshot.version;
                await stream.writeSSE({ event: eventName, id: snapshot.version, data: JSON.stringify(snapshot.view) });
              }
              if (snapshot.finished) done = true;
            }),
          onError: () => push(async () => void (done = true)),
        });
        if (first.finished) push(async () => void 0);
        const keepAlive = setInterval(() => push(() => stream.write(': keep-alive\n\n').then(() => undefined)), KEEP_ALIVE_MS);
        stream.onAbort(() => {
          done = true;
          wake?.();
        });
        try {
          while (!done || queue.length > 0) {
            const job = queue.shift();
            if (job) await job();
            else if (!done) await new Promise<void>((resolve) => (wake = resolve));
            if (stream.aborted) break;
          }
        } finally {
          clearInterval(keepAlive);
          unsubscribe();
          release();
        }
      });
    });
}
