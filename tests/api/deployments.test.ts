import { Client, Connection } from '@temporalio/client';
import { hc } from 'hono/client';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AppType, createApp } from '../../app.js';
import { at, json, ok, problem, type Who } from '../support/api.js';
import { until } from '../support/poll.js';
import { helloService, project } from '../support/fixtures.js';
import { type Trigger, testConfig, uniqueRelease, useStack, waitFor } from '../support/stack.js';

const config = testConfig(`${helloService(`
- { name: Deploy, type: script, run: 'echo "#{Greeting} #{Release} #{Environment}"; exit #{ExitCode}' }
- { name: Only in production, type: script, environments: [production], run: 'echo prod' }
`, { variables: '{ Greeting: { value: hello, prompted: true }, ExitCode: { value: "0", prompted: true, pattern: "[0-9]{1,3}" } }' })}
${project('other-service', 'Other service', "- { name: Deploy, type: script, run: 'echo other' }", { environments: '[qa]' })}`);

const stack = useStack(config);

const trigger = (json: Trigger, as: Who = 'ci', idempotencyKey?: string) => stack.trigger(json, { as, ...(idempotencyKey ? { idempotencyKey } : {}) });
const list = (query: Parameters<ReturnType<typeof stack.api>['api']['deployments']['$get']>[0]['query']) => ok(stack.api().api.deployments.$get({ query }));

/** The parts of the OpenAPI document these tests read. */
const OpenApiDocument = z.object({
  openapi: z.string(),
  paths: z.record(z.string(), z.record(z.string(), z.object({ responses: z.record(z.string(), z.unknown()) }))),
  components: z.object({ securitySchemes: z.record(z.string(), z.unknown()), schemas: z.record(z.string(), z.unknown()) }),
});
const openApiDocument = () => json(stack.send('GET', '/openapi.json', { as: null }), OpenApiDocument);

describe('probes and documents', () => {
  it('answers /healthz and /readyz', async () => {
    expect(await json(stack.send('GET', '/healthz', { as: null }), z.object({ status: z.string() }))).toEqual({ status: 'ok' });
    const ready = await json(stack.send('GET', '/readyz', { as: null }), z.object({ status: z.string() }).loose());
    expect(ready).toMatchObject({ status: 'ready' });
  });

  it('answers /readyz with 503 when Temporal does not', async () => {
    // A client whose connection goes nowhere: lazy, so creating it succeeds.
    const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 });
    const app = createApp({ temporal: { client: new Client({ connection }), taskQueue: 'x' }, config });
    const response = await app.request('/readyz');
    await problem(response, 503);
    expect(response.headers.get('retry-after')).toBe('5');
  });

  it('serves an OpenAPI 3.1 document of every route, and a docs page whose assets it serves itself', async () => {
    const document = await openApiDocument();
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual([
      '/api/admin/config',
      '/api/deployments',
      '/api/deployments/{id}',
      '/api/deployments/{id}/cancel',
      '/api/deployments/{id}/events',
      '/api/deployments/{id}/interruptions/{iid}/abort',
      '/api/deployments/{id}/interruptions/{iid}/fail',
      '/api/deployments/{id}/interruptions/{iid}/ignore',
      '/api/deployments/{id}/interruptions/{iid}/override',
      '/api/deployments/{id}/interruptions/{iid}/proceed',
      '/api/deployments/{id}/interruptions/{iid}/retry',
      '/api/deployments/{id}/interruptions/{iid}/take-responsibility',
      '/api/deployments/{id}/wait',
      '/api/interruptions',
      '/api/me',
      '/api/overrides',
      '/api/overrides/{overrideId}/review',
      '/api/projects',
      '/api/releases',
      '/api/releases/{id}',
      '/api/releases/{id}/cancel',
      '/api/releases/{id}/events',
      '/api/releases/{id}/wait',
      '/api/v1/event',
    ]);
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });

    const page = await stack.send('GET', '/docs', { as: null });
    expect(page.status).toBe(200);
    const assets = [...(await page.text()).matchAll(/(?:src|href)="(\/docs\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) expect((await stack.send('GET', asset, { as: null })).status, asset).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('documents what the routes really send: a nullable assignee, the event stream and its events, every 400', async () => {
    const { paths, components } = await openApiDocument();
    // A generated client must accept `assignee: null` on a waiting deployment.
    expect(at(components.schemas, 'Interruption', 'properties', 'assignee')).toEqual({ anyOf: [{ $ref: '#/components/schemas/Person' }, { type: 'null' }] });
    const stream = at(paths, '/api/deployments/{id}/events', 'get', 'responses', '200', 'content', 'text/event-stream');
    expect(at(stream, 'itemSchema')).toEqual({ $ref: '#/components/schemas/DeploymentEvent' });
    expect(at(components.schemas, 'DeploymentEvent', 'properties', 'data', 'contentSchema')).toEqual({ $ref: '#/components/schemas/Deployment' });
    for (const path of ['/api/deployments/{id}', '/api/deployments/{id}/events', '/api/deployments/{id}/wait']) {
      expect(Object.keys(paths[path]?.get?.responses ?? {}), path).toContain('400');
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
    const response = await stack.send(method, path, { as: 'admin' });
    await problem(response, 405);
    expect(response.headers.get('allow')).toBe(allow);
  });
});

describe('unknown paths', () => {
  it('answers problem+json to programs and a page to browsers', async () => {
    await problem(stack.send('GET', '/api/nothing-here', { as: 'vic' }), 404);
    const browser = await stack.send('GET', '/nothing-here', { as: null, headers: { Accept: 'text/html,application/xhtml+xml' } });
    expect(browser.status).toBe(404);
    expect(browser.headers.get('content-type')).toContain('text/html');
    expect(await browser.text()).toContain('Back to deployments');
  });
});

describe('who you are', () => {
  it('refuses a missing or unknown token with 401 problem+json', async () => {
    const attempts: Record<string, string>[] = [{}, { Authorization: 'Bearer not-a-real-token' }, { Authorization: 'Basic abc' }];
    for (const headers of attempts) {
      const response = await stack.api(null, headers).api.me.$get();
      expect((await problem(response, 401)).detail).toMatch(/token/i);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('tells the caller who they are, with teams, roles and grants', async () => {
    expect(await ok(stack.api('jjones').api.me.$get())).toEqual({
      id: 'users-237',
      username: 'jjones',
      displayName: 'Jamie Jones',
      email: 'jamie.jones@example.com',
      teams: [{ id: 'release-managers', name: 'Release managers' }],
      roles: ['deployer'],
      grants: [{ role: 'deployer' }],
      via: 'token',
    });
  });

  it('lists projects with environments and steps', async () => {
    const { projects } = await ok(stack.api('vic').api.projects.$get());
    expect(projects[0]).toMatchObject({
      id: 'hello-service',
      environments: ['qa', 'production'],
      steps: [{ name: 'Deploy', type: 'script', environments: null }, { name: 'Only in production', environments: ['production'] }],
    });
  });
});

describe('triggering a deployment', () => {
  it('starts one (201, Location) that runs to Succeeded, with a readable workflow ID', async () => {
    const release = uniqueRelease();
    const response = await trigger({ project: 'hello-service', environment: 'qa', release, variables: { Greeting: 'hi' } });
    const body = await ok(response, 201);
    expect(body.id).toMatch(new RegExp(`^hello-service:qa:${release.replaceAll('.', '\\.')}:[0-9a-f]+$`));
    expect(response.headers.get('location')).toBe(`/api/deployments/${body.id}`);
    expect(body).toMatchObject({ status: 'Running', triggeredBy: { username: 'ci' }, finishedAt: null });
    expect(body.links.temporal).toBe(`http://temporal-web.test/namespaces/default/workflows/${encodeURIComponent(body.id)}`);

    const done = await waitFor(stack, body.id, (view) => view.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    expect(done.steps.map((s) => s.status)).toEqual(['Succeeded', 'Skipped']);
    expect(done.steps[0]!.log).toBe(`hi ${release} qa\n`);

    const description = await stack.client.workflow.getHandle(body.id).describe();
    expect(await description.staticSummary()).toBe(`Deploy Hello service ${release} to qa (triggered by ci)`);
  });

  it('shows a failing script as Failed with its exit code in the log', async () => {
    const { id } = await ok(trigger({ project: 'hello-service', environment: 'production', release: uniqueRelease(), variables: { ExitCode: '3' } }), 201);
    const done = await waitFor(stack, id, (view) => view.finishedAt !== null);
    expect(done.status).toBe('Failed');
    expect(done.steps[0]).toMatchObject({ status: 'Failed' });
    expect(done.steps[0]!.log).toContain('exited with code 3');
    expect(done.steps[1]!.status).toBe('Skipped');
  });

  it('names every invalid field in one 400, and starts nothing', async () => {
    // No client would send it: a raw request.
    const body = await problem(stack.send('POST', '/api/deployments', { as: 'ci', body: { project: 'Hello Service!', release: '', variables: { 'a{b': 'x' }, extra: 1 } }), 400);
    const names = (body.errors ?? []).map((e) => e.name).sort();
    expect(names).toEqual(expect.arrayContaining(['body.environment', 'body.project', 'body.release']));
    expect(JSON.stringify(body.errors)).toContain('extra');
    expect(JSON.stringify(body.errors)).toContain('a{b');
  });

  it('answers 400 for a body that is not JSON at all', async () => {
    await problem(stack.send('POST', '/api/deployments', { as: 'ci', body: '{"project": ' }), 400);
  });

  it('answers 400 for an environment the project lacks, naming the ones it has', async () => {
    const body = await problem(trigger({ project: 'other-service', environment: 'production', release: '1.0.0' }), 400);
    expect(body.errors).toEqual([{ name: 'body.environment', reason: expect.stringContaining('(qa)') }]);
  });

  it('answers 404 for an unknown project and 403 for a viewer', async () => {
    const unknown = await problem(trigger({ project: 'nope', environment: 'qa', release: '1.0.0' }), 404);
    expect(unknown.detail).toContain('nope');
    const viewer = await problem(trigger({ project: 'hello-service', environment: 'qa', release: '1.0.0' }, 'vic'), 403);
    expect(viewer.detail).toContain('deployer');
  });

  it('answers 404 for a deployment that does not exist', async () => {
    const body = await problem(stack.api().api.deployments[':id'].$get({ param: { id: 'hello-service:qa:0.0.0:nothing' } }), 404);
    expect(body.title).toBe('Not found');
  });
});

describe('Idempotency-Key', () => {
  it('returns the same deployment with 200 for a repeat, and 409 for the same key with another body', async () => {
    const release = uniqueRelease();
    const key = `build-${release}`;
    const first = await ok(trigger({ project: 'hello-service', environment: 'qa', release }, 'ci', key), 201);
    const again = await ok(trigger({ project: 'hello-service', environment: 'qa', release }, 'ci', key), 200);
    expect(again.id).toBe(first.id);
    await waitFor(stack, first.id, (view) => view.finishedAt !== null);
    const afterFinish = await ok(trigger({ project: 'hello-service', environment: 'qa', release }, 'ci', key), 200);
    expect(afterFinish.status).toBe('Succeeded');

    const other = await problem(trigger({ project: 'hello-service', environment: 'qa', release: `${release}-b` }, 'ci', key), 409);
    expect(other.detail).toContain(key);
  });

  it('starts exactly one deployment when 20 requests with one key race', async () => {
    const RACERS = Number(process.env.RACERS ?? 20);
    const release = uniqueRelease();
    const body = { project: 'hello-service', environment: 'qa', release };
    const responses = await Promise.all(Array.from({ length: RACERS }, () => trigger(body, 'ci', `race-${release}`)));
    const unexpected = await Promise.all(responses.filter((r) => ![200, 201].includes(r.status)).map((r) => r.text()));
    expect(unexpected).toEqual([]);
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(RACERS - 1);
    const views = await Promise.all(responses.map((r) => ok(r, [200, 201])));
    expect(new Set(views.map((view) => view.id)).size).toBe(1);
    expect((await list({ release })).deployments).toHaveLength(1);
  });
});

describe('the typed client', () => {
  it('works with hc<AppType> as the README shows', async () => {
    // The tests' own client is this one (tests/support/api.ts); here it is made as the README makes it.
    const api = hc<AppType>('http://localhost', {
      fetch: (input: RequestInfo | URL, init?: RequestInit) => stack.app.request(input, init),
      headers: { Authorization: 'Bearer jjones-demo-token' },
    });
    const me = await api.api.me.$get();
    expect(me.status).toBe(200);
    const body = await me.json();
    expect(body.username).toBe('jjones');
    const release = uniqueRelease();
    const started = await ok(trigger({ project: 'hello-service', environment: 'qa', release }), 201);
    await waitFor(stack, started.id, (view) => view.finishedAt !== null);
    const listed = () => api.api.deployments.$get({ query: { release } }).then((response) => response.json());
    const { deployments } = await until(listed, (page) => page.deployments.length > 0, 'visibility to list the deployment');
    expect(deployments.map((deployment) => deployment.id)).toEqual([started.id]);
  });
});

describe('listing deployments', () => {
  it('filters by project, environment, status and release, newest first, with paging', async () => {
    const release = uniqueRelease();
    const ids: string[] = [];
    for (const environment of ['qa', 'production', 'qa']) {
      ids.push((await ok(trigger({ project: 'hello-service', environment, release }), 201)).id);
    }
    ids.push((await ok(trigger({ project: 'hello-service', environment: 'qa', release, variables: { ExitCode: '1' } }), 201)).id);
    for (const id of ids) await waitFor(stack, id, (view) => view.finishedAt !== null);
    // Visibility is eventually consistent: wait until it has caught up with the final statuses.
    const all = await until(() => list({ release, pageSize: 100 }), (page) => page.deployments.filter((d) => d.finishedAt).length >= 4, 'visibility to show the final statuses', { timeoutMs: 10_000, everyMs: 200 });
    expect(all.deployments.map((d) => d.id)).toEqual([...ids].reverse());
    expect(all.deployments[0]).toMatchObject({ project: 'hello-service', environment: 'qa', release, status: 'Failed', triggeredBy: 'ci' });

    const qa = await list({ release, environment: 'qa', status: 'Succeeded' });
    expect(qa.deployments.map((d) => d.id).sort()).toEqual([ids[0], ids[2]].sort());
    const none = await list({ release, project: 'other-service' });
    expect(none.deployments).toEqual([]);

    const seen: string[] = [];
    let token: string | null = null;
    do {
      const page = await list({ release, pageSize: 3, ...(token ? { pageToken: token } : {}) });
      expect(page.deployments.length).toBeLessThanOrEqual(3);
      seen.push(...page.deployments.map((d) => d.id));
      token = page.nextPageToken;
    } while (token);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it('answers 400 naming each bad filter', async () => {
    // A status no client would send: a raw request.
    const body = await problem(stack.send('GET', "/api/deployments?status=Sleeping&pageSize=1000&project=x'%20OR%201=1"), 400);
    expect((body.errors ?? []).map((e) => e.name).sort()).toEqual(['query.pageSize', 'query.project', 'query.status']);
    const forged = await problem(stack.api().api.deployments.$get({ query: { pageToken: 'eyJTdGFydFRpbWUiOiJ4In0.abc' } }), 400);
    expect(forged.errors?.[0]?.name).toBe('query.pageToken');
  });
});
