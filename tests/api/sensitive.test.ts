import { createHash } from 'node:crypto';
import { Client } from '@temporalio/client';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Deployment, json, ok } from '../support/api.js';
import { openPage, signIn } from '../support/dashboard.js';
import { testConfig, useStack, waitFor } from '../support/stack.js';

// docs/configuration.md: a sensitive value is ******** wherever a person or a log can see it, never in clear in
// Temporal history, and readable in Temporal Web only through the codec endpoint, by an admin.
const DB_PASSWORD = 'db-pa55word-Zq9!';
const TOKEN = 'tok-from-the-trigger-7c1e';
const STEP = 'Rotate';

const config = testConfig(`
- id: secretive
  name: Secretive
  environments: [production]
  variables:
    DbPassword: { value: "${DB_PASSWORD}", sensitive: true }
    Token: { prompted: true, sensitive: true }
  process:
    - name: Use
      type: script
      run: |
        echo "connecting with #{DbPassword} and #{Token}"
        printf '%s' "#{DbPassword}" | sha256sum
    - name: ${STEP}
      type: manual
      responsibleTeams: [release-managers]
      instructions: 'Rotate the password #{DbPassword} after this.'
`);

const stack = useStack(config);
let id: string;
let done: Deployment | undefined;
beforeAll(async () => {
  const body = await ok(stack.trigger({ project: 'secretive', environment: 'production', release: '1.0.0', variables: { Token: TOKEN } }), 201);
  expect(body.variables).toMatchObject({ DbPassword: '********', Token: '********' });
  id = body.id;
});

/** What the codec endpoint takes and answers: payloads with base64 metadata and data. */
const Payloads = z.object({ payloads: z.array(z.object({ metadata: z.record(z.string(), z.string()), data: z.string() })) });


/** Every string and every byte field of a history, bytes read as UTF-8: what a person reading the database would see. */
function rawText(value: unknown, out: string[] = []): string {
  if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) rawText(item, out);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) rawText(item, out);
  return out.join('\n');
}

const leaks = (text: string) =>
  [DB_PASSWORD, TOKEN].flatMap((secret) => [secret, Buffer.from(secret).toString('base64')]).filter((form) => text.includes(form));

describe('sensitive values', () => {
  it('are masked in the view, the step log, the instructions and the list of interruptions; the script still got the real value', async () => {
    const waiting = await waitFor(stack, id, (view) => view.status === 'Waiting');
    expect(waiting.variables).toMatchObject({ DbPassword: '********', Token: '********' });
    expect(waiting.steps[0]!.log).toContain('connecting with ******** and ********');
    // What the script hashed was the password itself.
    expect(waiting.steps[0]!.log).toContain(createHash('sha256').update(DB_PASSWORD).digest('hex'));
    expect(waiting.interruptions[0]!.instructions).toBe('Rotate the password ******** after this.');
    const listed = await waitFor(stack, id, () => true);
    expect(leaks(JSON.stringify(listed))).toEqual([]);
    const list = await ok(stack.api('mlee').api.interruptions.$get({ query: { actionable: 'true' } }));
    const mine = list.interruptions.find((i) => i.deployment.id === id);
    expect(mine?.instructions).toBe('Rotate the password ******** after this.');

    const at = { id, iid: waiting.interruptions[0]!.id };
    await ok(stack.act('mlee', 'take-responsibility', at));
    const proceeded = await ok(stack.act('mlee', 'proceed', at, { notes: `used ${DB_PASSWORD}` }));
    expect(proceeded.notes).toBe('used ********');
    done = await waitFor(stack, id, (view) => view.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    expect(leaks(JSON.stringify(done))).toEqual([]);
  });

  it('are masked on the dashboard\'s page of the deployment, as a signed-in person sees it', async () => {
    const page = await openPage(stack.app, `/deployments/${id}`, await signIn(stack.app, 'mlee'));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('********');
    expect(leaks(html)).toEqual([]);
  });

  it('are masked in GET /api/projects', async () => {
    const { projects } = await ok(stack.api().api.projects.$get());
    const project = projects.find((p) => p.id === 'secretive');
    expect(project?.variables).toEqual({ DbPassword: '********' });
    expect(project?.prompted).toEqual([{ name: 'Token', required: true }]);
  });

  it('are nowhere in clear in the history Temporal stores', async () => {
    expect(done?.status).toBe('Succeeded');
    // A client without the codec sees what the server has on disk.
    const raw = new Client({ connection: stack.client.connection });
    const history = await raw.workflow.getHandle(id).fetchHistory();
    const text = rawText(history);
    expect(text).toContain('binary/encrypted');
    expect(leaks(text)).toEqual([]);
    // The scan can see a value where there is one: the deployment's id and release are in clear.
    expect(text).toContain(id);
  });

  it('are readable through the codec endpoint by an admin, and by nobody else', async () => {
    const raw = new Client({ connection: stack.client.connection });
    const history = await raw.workflow.getHandle(id).fetchHistory();
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const body = {
      payloads: [{
        metadata: Object.fromEntries(Object.entries(input.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
        data: Buffer.from(input.data!).toString('base64'),
      }],
    };
    // The codec endpoint is Temporal Web's, outside the JSON API's routes: raw requests.
    const decoded = await json(stack.send('POST', '/codec/decode', { as: 'admin', body }), Payloads);
    expect(Buffer.from(decoded.payloads[0]!.data, 'base64').toString()).toContain(DB_PASSWORD);
    expect((await stack.send('POST', '/codec/decode', { as: 'jjones', body })).status).toBe(403);
    expect((await stack.send('POST', '/codec/decode', { as: null, body })).status).toBe(401);
    expect((await stack.send('POST', '/codec/decode', { as: 'admin', body: { payloads: 'nope' } })).status).toBe(400);

    const encoded = await json(stack.send('POST', '/codec/encode', { as: 'admin', body: decoded }), Payloads);
    expect(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
  });

  it('takes an admin\'s dashboard session when Temporal Web sends it, and from nowhere else', async () => {
    const decode = (cookie: string, origin: string) =>
      stack.app.request('/codec/decode', {
        method: 'POST',
        headers: { Cookie: cookie, Origin: origin, 'Content-Type': 'application/json' },
        body: JSON.stringify({ payloads: [] }),
      });
    const admin = await signIn(stack.app, 'admin');
    const fromWeb = await decode(admin, 'http://temporal-web.test');
    expect(fromWeb.status).toBe(200);
    expect(fromWeb.headers.get('access-control-allow-origin')).toBe('http://temporal-web.test');
    expect((await decode(admin, 'http://evil.test')).status).toBe(401);
    expect((await decode(await signIn(stack.app, 'mlee'), 'http://temporal-web.test')).status).toBe(403);
  });

  it('answers Temporal Web\'s preflight, and no other site\'s', async () => {
    const preflight = (origin: string) =>
      stack.app.request('/codec/decode', {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' },
      });
    const web = await preflight('http://temporal-web.test');
    expect(web.status).toBe(204);
    expect(web.headers.get('access-control-allow-origin')).toBe('http://temporal-web.test');
    expect(web.headers.get('access-control-allow-credentials')).toBe('true');
    const other = await preflight('http://evil.test');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
