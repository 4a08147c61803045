import { describe, expect, it } from 'vitest';
import { type Stack, testConfig, tokens, uniqueRelease, useStack, waitFor, type Who } from '../support/stack.js';

// Per-person limits, tried as a script that loops would: every refusal is a 429 with Retry-After and
// the code RATE_LIMITED, it comes before any work is done, and it changes nothing.

const config = testConfig(`
- id: hello-service
  name: Hello service
  environments: [qa, production]
  process:
    - { name: Approve, type: manual, responsibleTeams: [release-managers] }
`);

// Small limits, so a flood is quick to send; the defaults are in service/rate-limit.ts.
const stack = useStack(config, { actionRatePerMinute: 3, limits: { triggersPerMinute: 10, linksPerMinute: 4 } });

async function signIn(who: Who): Promise<{ cookie: string; csrf: string }> {
  const response = await stack.app.request('/sign-in', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://localhost', Host: 'localhost' },
    body: `token=${tokens[who]}&next=%2F`,
  });
  const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
  const projects = await (await stack.app.request('/projects', { headers: { Cookie: cookie, Accept: 'text/html' } })).text();
  return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(projects)![1]! };
}

const form = (session: { cookie: string; csrf: string }, path: string, fields: Record<string, string>) =>
  stack.app.request(path, {
    method: 'POST',
    headers: { Cookie: session.cookie, 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://localhost', Host: 'localhost', Accept: 'text/html' },
    body: new URLSearchParams({ _csrf: session.csrf, ...fields }).toString(),
  });

function expectLimited(answer: { status: number; body: any; headers: Headers }) {
  expect(answer.status).toBe(429);
  expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(answer.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
}

/** How many deployments of this release visibility lists, once it shows at least `expected` and a moment has passed for any more to show. */
async function listed(s: Stack, release: string, expected: number): Promise<number> {
  const count = async () => (await s.call('GET', `/api/deployments?project=hello-service&release=${release}&pageSize=100`, { as: 'vic' })).body.deployments.length as number;
  for (let i = 0; i < 100 && (await count()) < expected; i++) await new Promise((resolve) => setTimeout(resolve, 200));
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  return count();
}

describe('starting work', () => {
  it('30 triggers at once with a limit of 10: 10 start, 20 get 429 and start nothing; releases, Keptn events and the dashboard share the budget', async () => {
    const release = uniqueRelease();
    const flood = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      stack.call('POST', '/api/deployments', { as: 'ci', body: { project: 'hello-service', environment: i % 2 ? 'qa' : 'production', release } })));
    expect(flood.filter((answer) => answer.status === 201)).toHaveLength(10);
    const refused = flood.filter((answer) => answer.status !== 201);
    expect(refused).toHaveLength(20);
    for (const answer of refused) expectLimited(answer);
    expect(refused[0]!.body.detail).toContain('nothing was started');
    expect(await listed(stack, release, 10)).toBe(10);

    // Whatever else starts work, for the same person, waits too, before it is even read.
    expectLimited(await stack.call('POST', '/api/releases', { as: 'ci', body: { project: 'podtatohead', release: '0.1.1' } }));
    expectLimited(await stack.call('POST', '/api/v1/event', { as: 'ci', body: { type: 'sh.keptn.event.dev.delivery.triggered', data: { project: 'x' } } }));
    const ci = await signIn('ci');
    const page = await form(ci, '/projects/hello-service/deployments', { release, environment: 'qa', variables: '' });
    expect(page.status).toBe(429);
    expect(Number(page.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await page.text()).toContain('deployments, releases and events in a minute; nothing was started');
    expect(await listed(stack, release, 10)).toBe(10);

    // Someone else is not slowed by it.
    expect((await stack.call('POST', '/api/deployments', { as: 'jjones', body: { project: 'hello-service', environment: 'qa', release: uniqueRelease() } })).status).toBe(201);
  });

  it('cancel counts as an action: with a limit of 3, the fourth in a minute is 429 and that deployment goes on waiting', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { body } = await stack.call('POST', '/api/deployments', { as: 'mlee', body: { project: 'hello-service', environment: 'qa', release: uniqueRelease() } });
      ids.push(body.id as string);
    }
    await Promise.all(ids.map((id) => waitFor(stack, id, (view) => view.status === 'Waiting')));
    for (const id of ids.slice(0, 3)) expect((await stack.call('POST', `/api/deployments/${id}/cancel`, { as: 'mlee' })).status).toBe(200);
    expectLimited(await stack.call('POST', `/api/deployments/${ids[3]}/cancel`, { as: 'mlee' }));
    // The dashboard's buttons share the budget: its cancel form and its take form are refused as well.
    const mlee = await signIn('mlee');
    for (const [path, fields] of [[`/deployments/${ids[3]}/cancel`, {}], [`/deployments/${ids[3]}/interruptions/x/take-responsibility`, {}]] as const) {
      const page = await form(mlee, path, fields);
      expect(page.status).toBe(429);
      expect(Number(page.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await page.text()).toContain('actions in a minute; nothing was done');
    }
    const after = await stack.call('GET', `/api/deployments/${ids[3]}`, { as: 'mlee' });
    expect(after.body.status).toBe('Waiting');
    expect(after.body.timeline.map((entry: { action: string }) => entry.action)).not.toContain('cancel');
  });
});

describe('one-click links', () => {
  it('are counted per client address before sign-in and per person after it', async () => {
    const link = '/i/made-up.token';
    for (let i = 0; i < 4; i++) expect((await stack.app.request(link, { headers: { Accept: 'text/html' } })).status).toBe(303);
    const limited = await stack.app.request(link, { headers: { Accept: 'text/html' } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.text()).toContain('decision links opened in a minute');

    // A signed-in person has a budget of their own, whatever their address has spent.
    const { cookie } = await signIn('vic');
    for (let i = 0; i < 4; i++) expect((await stack.app.request(link, { headers: { Cookie: cookie, Accept: 'text/html' } })).status).toBe(404);
    expect((await stack.app.request(link, { headers: { Cookie: cookie, Accept: 'text/html' } })).status).toBe(429);
  });
});
