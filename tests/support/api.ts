import { type ClientResponse, hc } from 'hono/client';
import { expect } from 'vitest';
import type { z } from 'zod';
import { ProblemSchema } from '../../api/schemas.js';
import type { AppType } from '../../app.js';
import { until } from './poll.js';

/** The example config's demo users and their tokens (the README lists them). */
export const tokens = {
  jjones: 'jjones-demo-token',
  mlee: 'mlee-demo-token',
  ci: 'ci-demo-token',
  'je-bot': 'je-bot-demo-token',
  vic: 'vic-demo-token',
  admin: 'admin-demo-token',
  dana: 'dana-demo-token',
  pat: 'pat-demo-token',
} as const;
export type Who = keyof typeof tokens;

/** The bearer header of `who`'s token; none for nobody. */
export const bearer = (who: Who | null): Record<string, string> => (who ? { Authorization: `Bearer ${tokens[who]}` } : {});

/** The typed client of the JSON API (`hc<AppType>`): a route or a field renamed in the app fails to compile here. */
export type Api = ReturnType<typeof hc<AppType>>;

type Fetch = (input: RequestInfo | URL, init?: RequestInit) => Response | Promise<Response>;

/**
 * The typed client as `who` (their bearer token on every request, with `headers`): against a real
 * server at `url`, or through `fetch` (an app's `app.request`, in-process).
 */
export function apiClient(url: string, who: Who | null, { fetch, headers = {} }: { fetch?: Fetch; headers?: Record<string, string> } = {}): Api {
  return hc<AppType>(url, { ...(fetch ? { fetch } : {}), headers: { ...bearer(who), ...headers } });
}

/** The typed client of an Interlock served over real HTTP at `url`, as a stack offers it (jjones unless `who` is given). */
export const overHttp = (url: string) => ({ api: (who: Who | null = 'jjones', headers: Record<string, string> = {}) => apiClient(url, who, { headers }) });

/** Whatever offers the typed client as someone: a stack, or `overHttp(url)`. */
export interface Reader {
  api(who?: Who | null): Api;
}

/** The body a typed response carries. */
type BodyOf<R> = R extends ClientResponse<infer T, number, 'json'> ? T : never;
type Answered<F> = F extends (...args: never[]) => Promise<infer R> ? BodyOf<R> : never;

/** What the API's routes answer, as the typed client sees them. */
export type Deployment = Answered<Api['api']['deployments'][':id']['$get']>;
export type OpenInterruption = Answered<Api['api']['interruptions']['$get']>['interruptions'][number];
export type Release = Answered<Api['api']['releases'][':id']['$get']>;
/** An RFC 9457 problem: every refusal of the API, as its OpenAPI document describes it. */
export type Problem = z.infer<typeof ProblemSchema>;

/**
 * The deployment a wait answered with. The wait and event routes serve deployments and releases
 * alike, so the typed client knows only that it is one of the two.
 */
export function deploymentIn(view: Deployment | Release): Deployment {
  if (!('steps' in view)) throw new Error(`not a deployment: ${JSON.stringify(view).slice(0, 300)}`);
  return view;
}

/** Any answer, from the typed client or a raw request. */
export interface Answer {
  status: number;
  headers: Headers;
  text(): Promise<string>;
}

/** The body of a success: fails the test (showing what came instead) unless the status is `status` (200 when not given). */
export async function ok<R extends ClientResponse<unknown, number, 'json'>>(
  response: R | Promise<R>,
  status?: R['status'] | R['status'][],
): Promise<BodyOf<R>> {
  const answer = await response;
  const text = await answer.text();
  expect([status ?? 200].flat(), `${answer.status} ${text.slice(0, 500)}`).toContain(answer.status);
  return JSON.parse(text) as BodyOf<R>;
}

/**
 * The problem a refusal carries: fails the test unless the status is `status` and the body is
 * application/problem+json with the Problem's shape and the same status.
 */
export async function problem(response: Answer | Promise<Answer>, status: number): Promise<Problem> {
  const answer = await response;
  const text = await answer.text();
  expect(answer.status, text.slice(0, 500)).toBe(status);
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  const body = ProblemSchema.parse(JSON.parse(text));
  expect(body.status).toBe(status);
  return body;
}

/** The JSON body of an answer no route types (the OpenAPI document, the codec endpoint), checked against `schema`. */
export async function json<T>(response: Answer | Promise<Answer>, schema: z.ZodType<T>, status = 200): Promise<T> {
  const answer = await response;
  const text = await answer.text();
  expect(answer.status, text.slice(0, 500)).toBe(status);
  return schema.parse(JSON.parse(text));
}

/** The value at `path` in parsed JSON, or undefined where there is none. */
export const at = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), value);

/** Reads the deployment until `done` holds (a worker runs it meanwhile); fails with the last answer when the time passes. */
export function waitFor(on: Reader, id: string, done: (view: Deployment) => boolean, timeoutMs = 30_000): Promise<Deployment> {
  return untilAnswered(() => on.api().api.deployments[':id'].$get({ param: { id } }), done, `deployment ${id} to get there`, timeoutMs);
}

/** Reads the release (by id or keptnContext) until `done` holds; fails with the last answer when the time passes. */
export function waitForRelease(on: Reader, id: string, done: (view: Release) => boolean, timeoutMs = 30_000): Promise<Release> {
  return untilAnswered(() => on.api().api.releases[':id'].$get({ param: { id } }), done, `release ${id} to get there`, timeoutMs);
}

/** Reads a view until it is answered (200) and `done` holds of it; a refusal meanwhile (503 while no worker answers, 404 before visibility knows it) is read again. */
export async function untilAnswered<V>(get: () => Promise<ClientResponse<V, number, 'json'>>, done: (view: V) => boolean, what: string, timeoutMs = 30_000): Promise<V> {
  const read = async (): Promise<{ view: V } | { status: number; problem: string }> => {
    const response = await get();
    return response.status === 200 ? { view: (await response.json()) as V } : { status: response.status, problem: await response.text() };
  };
  const answered = await until(read, (last): last is { view: V } => 'view' in last && done(last.view), what, { timeoutMs });
  return answered.view;
}
