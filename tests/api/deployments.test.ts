import { Client, Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { hc } from 'hono/client';
import { type AppType, createApp } from '../../app.js';
import { testConfig, uniqueRelease, waitFor, useStack } from '../support/stack.js';

const config = testConfig(`
- id: hello-service
  name: Hello service
  environments: [qa, production]
  variables: { Greeting: { value: hello, prompted: true }, ExitCode: { value: "0", prompted: true, pattern: "[0-9]{1,3}" } }
  process:
    - { name: Deploy, type: script, run: 'echo "#{Greeting} #{Release} #{Environment}"; exit #{ExitCode}' }
    - { name: Only in production, type: script, environments: [production], run: 'echo prod' }
- id: other-service
  name: Other service
  environments: [qa]
  process:
    - { name: Deploy, type: script, run: 'echo other' }
`);

const stack = useStack(config);

const trigger = (body: unknown, as: 'ci' | 'vic' | 'jjones' = 'ci', headers: Record<string, string> = {}) =>
  stack.call('POST', '/api/deployments', { as, body, headers });

describe('probes and documents', () => {
  it('answers /healthz and /readyz', async () => {
    expect((await stack.call('GET', '/healthz', { as: null })).status).toBe(200);
    const ready = await stack.call('GET', '/readyz', { as: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready' });
  });

  it('answers /readyz with 503 when Temporal does not', async () => {
    // A client whose connection goes nowhere: lazy, so creating it succeeds.
    const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 });
    const app = createApp({ temporal: { client: new Client({ connection }), taskQueue: 'x' }, config });
    const response = await app.request('/readyz');
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(response.headers.get('retry-after')).toBe('5');
  });

  it('serves an OpenAPI 3.1 document of every route, and a docs page whose assets it serves itself', async () => {
    const { status, body } = await stack.call('GET', '/openapi.json', { as: null });
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    expect(Object.keys(body.paths).sort()).toEqual([
      '/api/deployments',
      '/api/deployments/{id}',
      '/api/deployments/{id}/cancel',
      '/api/deployments/{id}/events',
      '/api/deployments/{id}/interruptions/{iid}/abort',
      '/api/deployments/{id}/interruptions/{iid}/fail',
      '/api/deployments/{id}/interruptions/{iid}/ignore',
      '/api/deployments/{id}/interruptions/{iid}/proceed',
      '/api/deployments/{id}/interruptions/{iid}/retry',
      '/api/deployments/{id}/interruptions/{iid}/take-responsibility',
      '/api/deployments/{id}/wait',
      '/api/interruptions',
      '/api/me',
      '/api/projects',
      '/api/releases',
      '/api/releases/{id}',
      '/api/releases/{id}/cancel',
      '/api/releases/{id}/events',
      '/api/releases/{id}/wait',
      '/api/v1/event',
    ]);
    expect(body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });

    const page = await stack.call('GET', '/docs', { as: null });
    expect(page.status).toBe(200);
    const assets = [...String(page.body).matchAll(/(?:src|href)="(\/docs\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) expect((await stack.call('GET', asset, { as: null })).status, asset).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('documents what the routes really send: a nullable assignee, the event stream and its events, every 400', async () => {
    const { body } = await stack.call('GET', '/openapi.json', { as: null });
    // A generated client must accept `assignee: null` on a waiting deployment.
    expect(body.components.schemas.Interruption.properties.assignee).toEqual({ anyOf: [{ $ref: '#/components/schemas/Person' }, { type: 'null' }] });
    const stream = body.paths['/api/deployments/{id}/events'].get.responses['200'].content['text/event-stream'];
    expect(stream.itemSchema).toEqual({ $ref: '#/components/schemas/DeploymentEvent' });
    expect(body.components.schemas.DeploymentEvent.properties.data.contentSchema).toEqual({ $ref: '#/components/schemas/Deployment' });
    for (const path of ['/api/deployments/{id}', '/api/deployments/{id}/events', '/api/deployments/{id}/wait']) {
      expect(Object.keys(body.paths[path].get.responses), path).toContain('400');
    }
  });
});

describe('methods a path does not answer', () => {
  it.each([
    ['DELETE', '/api/deployments', 'GET, HEAD, POST'],
    ['PUT', '/api/deployments/a:b:c:d/cancel', 'POST'],
    ['POST', '/api/deployments/a:b:c:d', 'GET, HEAD'],
    ['PATCH', '/api/me', 'GET, HEAD'],
  ])('%s %s is 405 with Allow: %s', async (method, path, allow) => {
    const response = await stack.app.request(path, { method, headers: { Authorization: 'Bearer admin-demo-token' } });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allow);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('unknown paths', () => {
  it('answers problem+json to programs and a page to browsers', async () => {
    const api = await stack.app.request('/api/nothing-here', { headers: { Authorization: 'Bearer vic-demo-token' } });
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toBe('application/problem+json');
    const browser = await stack.app.request('/nothing-here', { headers: { Accept: 'text/html,application/xhtml+xml' } });
    expect(browser.status).toBe(404);
    expect(browser.headers.get('content-type')).toContain('text/html');
    expect(await browser.text()).toContain('Back to deployments');
  });
});

describe('who you are', () => {
  it('refuses a missing or unknown token with 401 problem+json', async () => {
    for (const headers of [{}, { Authorization: 'Bearer not-a-real-token' }, { Authorization: 'Basic abc' }] as Record<string, string>[]) {
      const response = await stack.app.request('/api/me', { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect((await response.json()).detail).toMatch(/token/i);
    }
  });

  it('tells the caller who they are, with teams and roles', async () => {
    const { status, body } = await stack.call('GET', '/api/me', { as: 'jjones' });
    expect(status).toBe(200);
    expect(body).toEqual({
      id: 'users-237',
      username: 'jjones',
      displayName: 'Jamie Jones',
      email: 'jamie.jones@example.com',
      teams: [{ id: 'release-managers', name: 'Release managers' }],
      roles: ['deployer'],
    });
  });

  it('lists projects with environments and steps', async () => {
    const { status, body } = await stack.call('GET', '/api/projects', { as: 'vic' });
    expect(status).toBe(200);
    expect(body.projects[0]).toMatchObject({
      id: 'hello-service',
      environments: ['qa', 'production'],
      steps: [{ name: 'Deploy', type: 'script', environments: null }, { name: 'Only in production', environments: ['production'] }],
    });
  });
});

describe('triggering a deployment', () => {
  it('starts one (201, Location) that runs to Succeeded, with a readable workflow ID', async () => {
    const release = uniqueRelease();
    const { status, body, headers } = await trigger({ project: 'hello-service', environment: 'qa', release, variables: { Greeting: 'hi' } });
    expect(status).toBe(201);
    expect(body.id).toMatch(new RegExp(`^hello-service:qa:${release.replaceAll('.', '\\.')}:[0-9a-f]+$`));
    expect(headers.get('location')).toBe(`/api/deployments/${body.id}`);
    expect(body).toMatchObject({ status: 'Running', triggeredBy: { username: 'ci' }, finishedAt: null });
    expect(body.links.temporal).toBe(`http://temporal-web.test/namespaces/default/workflows/${encodeURIComponent(body.id)}`);

    const done = await waitFor(stack, body.id, (view) => view.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    expect(done.steps.map((s: { status: string }) => s.status)).toEqual(['Succeeded', 'Skipped']);
    expect(done.steps[0].log).toBe(`hi ${release} qa\n`);

    const description = await stack.client.workflow.getHandle(body.id).describe();
    expect(await description.staticSummary()).toBe(`Deploy Hello service ${release} to qa (triggered by ci)`);
  });

  it('shows a failing script as Failed with its exit code in the log', async () => {
    const { body } = await trigger({ project: 'hello-service', environment: 'production', release: uniqueRelease(), variables: { ExitCode: '3' } });
    const done = await waitFor(stack, body.id, (view) => view.finishedAt !== null);
    expect(done.status).toBe('Failed');
    expect(done.steps[0]).toMatchObject({ status: 'Failed' });
    expect(done.steps[0].log).toContain('exited with code 3');
    expect(done.steps[1].status).toBe('Skipped');
  });

  it('names every invalid field in one 400, and starts nothing', async () => {
    const { status, body, headers } = await trigger({ project: 'Hello Service!', release: '', variables: { 'a{b': 'x' }, extra: 1 });
    expect(status).toBe(400);
    expect(headers.get('content-type')).toBe('application/problem+json');
    const names = body.errors.map((e: { name: string }) => e.name).sort();
    expect(names).toEqual(expect.arrayContaining(['body.environment', 'body.project', 'body.release']));
    expect(JSON.stringify(body.errors)).toContain('extra');
    expect(JSON.stringify(body.errors)).toContain('a{b');
  });

  it('answers 400 for a body that is not JSON at all', async () => {
    const { status, body } = await trigger('{"project": ');
    expect(status).toBe(400);
    expect(body.status).toBe(400);
  });

  it('answers 400 for an environment the project lacks, naming the ones it has', async () => {
    const { status, body } = await trigger({ project: 'other-service', environment: 'production', release: '1.0.0' });
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ name: 'body.environment', reason: expect.stringContaining('(qa)') }]);
  });

  it('answers 404 for an unknown project and 403 for a viewer', async () => {
    const unknown = await trigger({ project: 'nope', environment: 'qa', release: '1.0.0' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toContain('nope');
    const viewer = await trigger({ project: 'hello-service', environment: 'qa', release: '1.0.0' }, 'vic');
    expect(viewer.status).toBe(403);
    expect(viewer.body.detail).toContain('deployer');
  });

  it('answers 404 for a deployment that does not exist', async () => {
    const { status, body } = await stack.call('GET', '/api/deployments/hello-service:qa:0.0.0:nothing');
    expect(status).toBe(404);
    expect(body.title).toBe('Not found');
  });
});

describe('Idempotency-Key', () => {
  it('returns the same deployment with 200 for a repeat, and 409 for the same key with another body', async () => {
    const release = uniqueRelease();
    const key = `build-${release}`;
    const first = await trigger({ project: 'hello-service', environment: 'qa', release }, 'ci', { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    const again = await trigger({ project: 'hello-service', environment: 'qa', release }, 'ci', { 'Idempotency-Key': key });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    await waitFor(stack, first.body.id, (view) => view.finishedAt !== null);
    const afterFinish = await trigger({ project: 'hello-service', environment: 'qa', release }, 'ci', { 'Idempotency-Key': key });
    expect(afterFinish.status).toBe(200);
    expect(afterFinish.body.status).toBe('Succeeded');

    const other = await trigger({ project: 'hello-service', environment: 'qa', release: `${release}-b` }, 'ci', { 'Idempotency-Key': key });
    expect(other.status).toBe(409);
    expect(other.body.detail).toContain(key);
  });

  it('starts exactly one deployment when 20 requests with one key race', async () => {
    const RACERS = Number(process.env.RACERS ?? 20);
    const release = uniqueRelease();
    const body = { project: 'hello-service', environment: 'qa', release };
    const responses = await Promise.all(
      Array.from({ length: RACERS }, () => trigger(body, 'ci', { 'Idempotency-Key': `race-${release}` })),
    );
    const unexpected = responses.filter((r) => r.status !== 200 && r.status !== 201).map((r) => r.body);
    expect(unexpected).toEqual([]);
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(RACERS - 1);
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    const listed = await stack.call('GET', `/api/deployments?release=${release}`);
    expect(listed.body.deployments).toHaveLength(1);
  });
});

describe('the typed client', () => {
  it('works with hc<AppType> as the README shows', async () => {
    const api = hc<AppType>('http://localhost', {
      fetch: (input: RequestInfo | URL, init?: RequestInit) => stack.app.request(input, init),
      headers: { Authorization: 'Bearer jjones-demo-token' },
    });
    const me = await api.api.me.$get();
    expect(me.status).toBe(200);
    const body = await me.json();
    expect(body.username).toBe('jjones');
    const response = await api.api.deployments.$get({ query: { status: 'Waiting' } });
    const { deployments } = await response.json();
    expect(Array.isArray(deployments)).toBe(true);
  });
});

describe('listing deployments', () => {
  it('filters by project, environment, status and release, newest first, with paging', async () => {
    const release = uniqueRelease();
    const ids: string[] = [];
    for (const environment of ['qa', 'production', 'qa']) {
      const { body } = await trigger({ project: 'hello-service', environment, release });
      ids.push(body.id);
    }
    const failed = await trigger({ project: 'hello-service', environment: 'qa', release, variables: { ExitCode: '1' } });
    ids.push(failed.body.id);
    for (const id of ids) await waitFor(stack, id, (view) => view.finishedAt !== null);
    // Visibility is eventually consistent: wait until it has caught up with the final statuses.
    const listAll = async () => (await stack.call('GET', `/api/deployments?release=${release}&pageSize=100`)).body;
    for (let i = 0; i < 50 && (await listAll()).deployments.filter((d: { finishedAt: string | null }) => d.finishedAt).length < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const all = await listAll();
    expect(all.deployments.map((d: { id: string }) => d.id)).toEqual([...ids].reverse());
    expect(all.deployments[0]).toMatchObject({ project: 'hello-service', environment: 'qa', release, status: 'Failed', triggeredBy: 'ci' });

    const qa = await stack.call('GET', `/api/deployments?release=${release}&environment=qa&status=Succeeded`);
    expect(qa.body.deployments.map((d: { id: string }) => d.id).sort()).toEqual([ids[0], ids[2]].sort());
    const none = await stack.call('GET', `/api/deployments?release=${release}&project=other-service`);
    expect(none.body.deployments).toEqual([]);

    const seen: string[] = [];
    let token: string | null = null;
    do {
      const page: { status: number; body: any } = await stack.call('GET', `/api/deployments?release=${release}&pageSize=3${token ? `&pageToken=${token}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.deployments.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.deployments.map((d: { id: string }) => d.id));
      token = page.body.nextPageToken;
    } while (token);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it('answers 400 naming each bad filter', async () => {
    const { status, body } = await stack.call('GET', "/api/deployments?status=Sleeping&pageSize=1000&project=x'%20OR%201=1");
    expect(status).toBe(400);
    expect(body.errors.map((e: { name: string }) => e.name).sort()).toEqual(['query.pageSize', 'query.project', 'query.status']);
    const forged = await stack.call('GET', '/api/deployments?pageToken=eyJTdGFydFRpbWUiOiJ4In0.abc');
    expect(forged.status).toBe(400);
    expect(forged.body.errors[0].name).toBe('query.pageToken');
  });
});
