import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Stack, startStack, testConfig, tokens } from '../support/stack.js';

const config = testConfig(`
- id: hello-service
  name: Hello service
  environments: [qa, production]
  process:
    - { name: Deploy, type: script, run: 'echo ok' }
    - { name: Approve, type: manual, responsibleTeams: [release-managers] }
`);

let stack: Stack;
beforeAll(async () => {
  stack = await startStack(config, { actionTimeoutMs: 3_000 });
});
afterAll(async () => {
  await stack?.stop();
});

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
];

const segment = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.constantFrom('hello-service:qa:1.0.0:abc', '..', '%', '%00', 'x'.repeat(400), 'a:b:c:d'),
).map((text) => encodeURIComponent(text));

const query = fc.dictionary(
  fc.constantFrom('project', 'environment', 'status', 'release', 'pageSize', 'pageToken', 'timeout', 'actionable', 'other'),
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
        const response = await answerWithin(10_000, described, stack.app.request(`${path(id, iid)}${search ? `?${search.replace(/timeout=[^&]*/, 'timeout=0')}` : ''}`, {
          method,
          headers: {
            ...(as ? { Authorization: `Bearer ${tokens[as]}` } : {}),
            ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
          ...(payload === undefined ? {} : { body: payload }),
        }));
        const text = await answerWithin(10_000, described, response.text());
        expect(response.status, `${method} ${path(id, iid)} → ${text.slice(0, 300)}`).toBeLessThan(500);
        if (response.status >= 400) {
          expect(response.headers.get('content-type')).toBe('application/problem+json');
          const problem = JSON.parse(text);
          expect(problem.status).toBe(response.status);
          expect(problem.detail.length).toBeGreaterThan(0);
        }
      },
    ),
    { numRuns: 1000 },
  );
});
