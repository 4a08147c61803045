import { createRoute, type z } from '@hono/zod-openapi';
import { bearerSecurity, jsonResponse, problemResponses } from '../schemas.js';

/** The schemas of one kind of run: its id in the path, its view, a page of its list and the list's query. */
export interface RunSchemas<Params extends z.ZodObject, View extends z.ZodType, Page extends z.ZodType, Query extends z.ZodObject> {
  params: Params;
  view: View;
  /** `{<deployments|releases>: [summaries], nextPageToken}`. */
  page: Page;
  query: Query;
}

/**
 * The list, read and cancel routes every kind of run has, deployments and releases alike: the same
 * shape, statuses and refusals, in each kind's words (`about`: what `GET /{id}` shows; `stops`: what
 * cancelling stops). Each kind's file adds how one starts.
 */
export function runRoutes<Params extends z.ZodObject, View extends z.ZodType, Page extends z.ZodType, Query extends z.ZodObject>(
  noun: 'deployment' | 'release',
  schemas: RunSchemas<Params, View, Page, Query>,
  words: { about: string; stops: string },
) {
  const kind = { tag: `${noun}s` as const, noun, ...schemas, ...words };
  const list = createRoute({
    method: 'get',
    path: '/',
    tags: [kind.tag],
    summary: `List ${kind.tag}, newest first, from Temporal visibility`,
    security: bearerSecurity,
    request: { query: kind.query },
    responses: { 200: jsonResponse(kind.page, 'A page'), ...problemResponses(400, 401, 503) },
  });
  const get = createRoute({
    method: 'get',
    path: '/{id}',
    tags: [kind.tag],
    summary: kind.about,
    security: bearerSecurity,
    request: { params: kind.params },
    responses: { 200: jsonResponse(kind.view, `The ${kind.noun} view`), ...problemResponses(400, 401, 404, 503) },
  });
  const cancel = createRoute({
    method: 'post',
    path: '/{id}/cancel',
    tags: [kind.tag],
    summary: `Cancel a ${kind.noun} that has not finished (deployer): ${kind.stops}`,
    security: bearerSecurity,
    request: { params: kind.params },
    responses: {
      200: jsonResponse(kind.view, 'Cancelled'),
      202: jsonResponse(kind.view, 'Cancellation requested; still stopping'),
      ...problemResponses(400, 401, 403, 404, 409, 413, 429, 503),
    },
  });
  return { list, get, cancel };
}
