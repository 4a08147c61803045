import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ProblemSchema } from '../../api/schemas.js';
import { bearer, ok, type tokens } from '../support/api.js';
import { type Session, signInForForms } from '../support/dashboard.js';
import { helloService } from '../support/fixtures.js';
import { testConfig, uniqueRelease, useStack, waitFor } from '../support/stack.js';

// Random and hostile input to every route, sent raw (no client would send it): never a 5xx, and
// every refusal explained.
const config = testConfig(helloService(`
- { name: Deploy, type: script, run: 'echo ok' }
- { name: Approve, type: manual, responsibleTeams: [release-managers] }
`));

const stack = useStack(config, { actionTimeoutMs: 3_000 });

const ROUTES: [method: string, path: (id: string, iid: string) => string][] = [
  ['GET', () => '/api/me'],
  ['GET', () => '/api/projects'],
  ['GET', () => '/api/deployments'],
  ['POST', () => '/api/deployments'],
  ['GET', (id) => `/api/deployments/${id}`],
  ['GET', (id) => `/api/deployments/${id}/wait`],
  ['GET', (id) => `/api/deployments/${id}/events`],
  ['POST', (id) => `/api/deployments/${id}/cancel`],
  ['GET', () => '/api/interruptions'],
  ['POST', (id, iid) => `/api/deployments/${id}/interruptions/${iid}/take-responsibility`],
  ['POST', (id, iid) => `/api/deployments/${id}/interruptions/${iid}/proceed`],
  ['POST', (id, iid) => `/api/deployments/${id}/interruptions/${iid}/abort`],
  ['POST', (id, iid) => `/api/deployments/${id}/interruptions/${iid}/retry`],
  ['POST', (id, iid) => `/api/deployments/${id}/interruptions/${iid}/ignore`],
  ['POST', (id, iid) => `/api/deployments/${id}/interruptions/${iid}/fail`],
  ['POST', (id, iid) => `/api/deployments/${id}/interruptions/${iid}/override`],
  ['GET', () => '/api/overrides'],
  ['POST', (id) => `/api/overrides/${id}/review`],
  ['GET', (id) => `/api/releases/${id}`],
  ['POST', (id) => `/api/releases/${id}/cancel`],
];

const segment = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.constantFrom('hello-service:qa:1.0.0:abc', '..', '%', '%00', 'x'.repeat(400), 'a:b:c:d'),
).map((text) => encodeURIComponent(text));

const query = fc.dictionary(
  fc.constantFrom('project', 'environment', 'status', 'release', 'pageSize', 'pageToken', 'timeout', 'actionable', 'reviewed', 'other'),
  fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('qa', 'Waiting', '0', '-1', '301', '1e9', 'true', 'hello-service')),
);

const body = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 200 }),
  fc.record(
    {
      project: fc.oneof(fc.constant('hello-service'), fc.string()),
      environment: fc.oneof(fc.constant('qa'), fc.anything()),
      release: fc.oneof(fc.constant('1.0.0'), fc.string()),
      variables: fc.anything(),
      notes: fc.oneof(fc.string(), fc.integer()),
      reason: fc.oneof(fc.string(), fc.integer(), fc.constant('A reason long enough to pass')),
      takeOver: fc.anything(),
    },
    { requiredKeys: [] },
  ).map((value) => JSON.stringify(value)),
);

/** Nothing may hang: every request is answered, body and all, within `ms`. */
async function answerWithin<T>(ms: number, what: string, work: Promise<T> | T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

it('never answers 5xx and always explains a 4xx as problem+json, whatever is sent to any route', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...ROUTES),
      segment,
      segment,
      query,
      fc.option(body, { nil: undefined }),
      fc.constantFrom<keyof typeof tokens | null>('jjones', 'vic', 'ci', null),
      async ([method, path], id, iid, params, generated, as) => {
        const payload = method === 'POST' ? generated : undefined;
        const search = new URLSearchParams(params).toString();
        const described = `${method} ${path(id, iid)}?${search} as ${as} with ${payload}`;
        const response = await answerWithin(10_000, described, stack.send(method, `${path(id, iid)}${search ? `?${search.replace(/timeout=[^&]*/, 'timeout=0')}` : ''}`, { as, body: payload }));
        const text = await answerWithin(10_000, described, response.text());
        expect(response.status, `${method} ${path(id, iid)} → ${text.slice(0, 300)}`).toBeLessThan(500);
        if (response.status >= 400) {
          expect(response.headers.get('content-type')).toBe('application/problem+json');
          const problem = ProblemSchema.parse(JSON.parse(text));
          expect(problem.status).toBe(response.status);
          expect(problem.detail.length).toBeGreaterThan(0);
        }
      },
    ),
    { numRuns: 1000 },
  );
});

// Every route that takes an id or a name, fed the names every JavaScript object has (a lookup that
// is not own-property only finds them) and random strings: a refusal, never a 500.

/** Names every object inherits, and a few that mean something to promises and functions. */
const INHERITED = [
  'constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable',
  'toLocaleString', '__defineGetter__', '__lookupGetter__', 'prototype', 'length', 'then', 'call', 'apply', 'bind',
];

type Target = 'api' | 'dashboard' | 'public';
interface IdRoute {
  method: 'GET' | 'POST';
  path: (id: string, iid: string) => string;
  target: Target;
  /** The dashboard's forms: their fields besides the CSRF token. */
  form?: Record<string, string>;
}

const ID_ROUTES: IdRoute[] = [
  ...(['', '/wait?timeout=0', '/events'] as const).flatMap((tail): IdRoute[] => [
    { method: 'GET', path: (id) => `/api/deployments/${id}${tail}`, target: 'api' },
    { method: 'GET', path: (id) => `/api/releases/${id}${tail}`, target: 'api' },
  ]),
  { method: 'POST', path: (id) => `/api/deployments/${id}/cancel`, target: 'api' },
  { method: 'POST', path: (id) => `/api/releases/${id}/cancel`, target: 'api' },
  ...['take-responsibility', 'proceed', 'abort', 'retry', 'ignore', 'fail'].map((action): IdRoute => ({
    method: 'POST', path: (id, iid) => `/api/deployments/${id}/interruptions/${iid}/${action}`, target: 'api',
  })),
  { method: 'GET', path: (id) => `/deployments/${id}`, target: 'dashboard' },
  { method: 'GET', path: (id) => `/deployments/${id}/cancel`, target: 'dashboard' },
  { method: 'POST', path: (id) => `/deployments/${id}/cancel`, target: 'dashboard', form: {} },
  { method: 'GET', path: (id, iid) => `/deployments/${id}/interruptions/${iid}/take-over`, target: 'dashboard' },
  ...['take-responsibility', 'proceed', 'abort'].map((action): IdRoute => ({
    method: 'POST', path: (id, iid) => `/deployments/${id}/interruptions/${iid}/${action}`, target: 'dashboard', form: { notes: 'fuzz' },
  })),
  { method: 'GET', path: (id) => `/releases/${id}`, target: 'dashboard' },
  { method: 'GET', path: (id) => `/releases/${id}/cancel`, target: 'dashboard' },
  { method: 'POST', path: (id) => `/releases/${id}/cancel`, target: 'dashboard', form: {} },
  { method: 'POST', path: (id) => `/projects/${id}/deployments`, target: 'dashboard', form: { release: '1.0.0', environment: 'qa', variables: '' } },
  { method: 'POST', path: (id) => `/projects/${id}/releases`, target: 'dashboard', form: { release: '1.0.0', environment: '', variables: '' } },
  { method: 'POST', path: () => '/projects/hello-service/deployments', target: 'dashboard', form: { release: '1.0.0', environment: 'qa', variables: 'constructor=x\n__proto__=y\ntoString=z' } },
  { method: 'GET', path: (id) => `/i/${id}`, target: 'dashboard' },
  { method: 'GET', path: (id) => `/docs/assets/${id}`, target: 'public' },
  { method: 'GET', path: (id) => `/assets/${id}`, target: 'public' },
];

describe('ids and names', () => {
  let session: Session;
  let waiting: { id: string; iid: string };
  beforeAll(async () => {
    session = await signInForForms(stack.app, 'admin');
    // A real deployment waiting at its manual step: names are fed as its interruption's id too.
    const { id } = await ok(stack.trigger({ project: 'hello-service', environment: 'qa', release: uniqueRelease() }), 201);
    const view = await waitFor(stack, id, (v) => v.status === 'Waiting');
    waiting = { id: view.id, iid: view.interruptions[0]!.id };
  });

  /** One request as a person would send it (the dashboard's with the admin's session and form token); its status, after its answer is read. */
  async function send(route: IdRoute, id: string, iid: string) {
    const path = route.path(id, iid);
    const headers: Record<string, string> = route.target === 'api' ? bearer('admin') : { Accept: 'text/html' };
    if (route.target === 'dashboard') Object.assign(headers, { Cookie: session.cookie, Origin: 'http://localhost', Host: 'localhost' });
    const form = route.form && new URLSearchParams({ _csrf: session.csrf, ...route.form }).toString();
    if (form) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const response = await answerWithin(15_000, `${route.method} ${path}`, stack.app.request(path, { method: route.method, headers, ...(form ? { body: form } : {}) }));
    // An event stream that opened is not read to its end.
    const text = response.headers.get('content-type')?.startsWith('text/event-stream') ? (await response.body?.cancel(), '') : await answerWithin(15_000, path, response.text());
    return { path, status: response.status, type: response.headers.get('content-type') ?? '', text };
  }

  /** A refusal, explained: problem+json from the API, a page from the dashboard; never a 5xx. */
  function expectRefused({ path, status, type, text }: Awaited<ReturnType<typeof send>>, target: Target) {
    expect(status, `${path} → ${status} ${text.slice(0, 300)}`).toBeLessThan(500);
    expect([400, 403, 404, 409, 410], `${path} → ${status} ${text.slice(0, 300)}`).toContain(status);
    if (target === 'api') expect(type).toBe('application/problem+json');
    // A page, unless the path left the dashboard (`/deployments/../cancel` is `/cancel`): then the app's own 404.
    if (target === 'dashboard') expect(type).toMatch(/^text\/html|^application\/problem\+json$/);
  }

  it('every route answers an inherited name where an id, a name or a file goes with a refusal', { timeout: 180_000 }, async () => {
    const cases = ID_ROUTES.flatMap((route) => INHERITED.flatMap((name) => [
      { route, id: name, iid: name },
      // A real deployment, and an inherited name for its interruption.
      ...(route.path('ID', 'IID').includes('IID') ? [{ route, id: waiting.id, iid: name }] : []),
    ]));
    // Several at a time, as a script would send them; each is still checked on its own.
    const pending = [...cases];
    await Promise.all(Array.from({ length: 6 }, async () => {
      for (let next = pending.shift(); next; next = pending.shift()) {
        expectRefused(await send(next.route, encodeURIComponent(next.id), encodeURIComponent(next.iid)), next.route.target);
      }
    }));
    // Nothing was decided or cancelled by any of it.
    const after = await ok(stack.api('vic').api.deployments[':id'].$get({ param: { id: waiting.id } }));
    expect(after.status).toBe('Waiting');
    expect(after.interruptions[0]).toMatchObject({ id: waiting.iid, state: 'Pending', assignee: null });
  });

  it('every route answers random strings where an id, a name or a file goes with a refusal', { timeout: 180_000 }, async () => {
    const name = fc.oneof(
      fc.constantFrom(...INHERITED),
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }),
      fc.constantFrom('%2e%2e', '%00', '%', 'x'.repeat(400), 'a:b:c:d', 'hello-service:qa:1.0.0:abc', '__proto__.x', 'constructor.prototype'),
    // `.` and `..` are no ids: every URL parser, the browser's included, makes them a move to another path.
    ).filter((text) => !/^\.{1,2}$/.test(text));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ID_ROUTES), name, name, async (route, id, iid) => {
        expectRefused(await send(route, encodeURIComponent(id), encodeURIComponent(iid)), route.target);
      }),
      { numRuns: 200 },
    );
  });
});
