import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentInput, DeploymentView } from '../../workflows/messages.js';
import { createTestWorker, deploymentInput, finalView, startTimeSkipping } from '../support/workflows.js';

const taskQueue = 'deployment-workflow-test';
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let site: Server;
let siteUrl: string;
const hits = new Map<string, number>();

beforeAll(async () => {
  // A site for the http-check step: /ok answers 200, /down 503, /flaky 500 twice and then 200.
  site = createServer((request, response) => {
    if (request.url === '/moved') return void response.writeHead(302, { Location: '/ok' }).end();
    const count = (hits.get(request.url!) ?? 0) + 1;
    hits.set(request.url!, count);
    const status = request.url === '/ok' ? 200 : request.url === '/flaky' ? (count <= 2 ? 500 : 200) : 503;
    response.writeHead(status, { 'Content-Type': 'text/plain' }).end(`${status === 200 ? 'all good' : 'maintenance'} ${'x'.repeat(1000)}`);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
  env = await startTimeSkipping();
  worker = await createTestWorker(env, taskQueue);
  running = worker.run();
});

afterAll(async () => {
  site?.close();
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await env?.teardown();
});

/** Runs a deployment to its end; the view comes from the result or, for a failed one, its failure. */
async function deploy(input: DeploymentInput): Promise<DeploymentView> {
  return finalView(await env.client.workflow.start('deployment', { args: [input], taskQueue, workflowId: input.id }));
}

/** The deployment ended `status`, its first step's log saying each of `parts`. */
function expectEnded(view: DeploymentView, status: DeploymentView['status'], ...parts: string[]) {
  expect(view.status).toBe(status);
  for (const part of parts) expect(view.steps[0]!.log).toContain(part);
}

describe('the deployment workflow', () => {
  it('runs the steps in order with variables substituted, and succeeds', async () => {
    const view = await deploy(deploymentInput(`
- { name: Deploy, type: script, run: 'echo "#{Greeting} #{Project} #{Release} to #{Environment}"' }
- { name: Second, type: script, run: 'echo "id=#{Deployment.Id}"; echo to stderr >&2' }
`));
    expect(view.status).toBe('Succeeded');
    expect(view.finishedAt).not.toBeNull();
    expect(view.steps.map((s) => s.status)).toEqual(['Succeeded', 'Succeeded']);
    expect(view.steps[0]!.log).toBe('hello hello-service 1.4.2 to production\n');
    expect(view.steps[1]!.log).toContain(`id=${view.id}`);
    expect(view.steps[1]!.log).toContain('to stderr');
  });

  it('fails the deployment when a script exits non-zero, naming the code, and skips the rest', async () => {
    const view = await deploy(deploymentInput(`
- { name: Deploy, type: script, run: 'echo starting; exit 3' }
- { name: Never, type: script, run: 'echo never' }
`));
    expectEnded(view, 'Failed', 'starting', 'exited with code 3');
    expect(view.steps.map((s) => s.status)).toEqual(['Failed', 'Skipped']);
  });

  it('skips a step limited to other environments', async () => {
    const view = await deploy(deploymentInput(`
- { name: Only in prod, type: script, run: 'echo prod', environments: [production] }
- { name: Everywhere, type: script, run: 'echo all' }
`, { environment: 'qa' }));
    expectEnded(view, 'Succeeded', 'runs only in production');
    expect(view.steps.map((s) => s.status)).toEqual(['Skipped', 'Succeeded']);
  });

  it('fails a step that names an unknown variable, with the name in its log', async () => {
    expectEnded(await deploy(deploymentInput(`- { name: Deploy, type: script, run: 'echo #{Nope}' }`)), 'Failed', '#{Nope}');
  });

  it('uses variables given at trigger time over the project variables', async () => {
    const view = await deploy(deploymentInput(`- { name: Deploy, type: script, run: 'echo #{Greeting}' }`, {
      variables: { Greeting: 'bonjour' },
    }));
    expect(view.steps[0]!.log).toBe('bonjour\n');
  });

  it('kills a script that runs past its timeout', async () => {
    expectEnded(await deploy(deploymentInput(`- { name: Slow, type: script, run: 'sleep 30', timeout: 1s }`)), 'Failed', 'Timed out after 1 s');
  });

  /** A deployment of one http-check step, with `fields` (url, retries…), against the site above. */
  const httpCheck = (fields: string) => deploy(deploymentInput(`- { name: Check, type: http-check, ${fields} }`, { variables: { Site: siteUrl } }));

  it('passes an http-check that gets the expected status, with the status, type and size in the log but never the body', async () => {
    const view = await httpCheck(`url: '#{Site}/ok'`);
    expect(view.status).toBe('Succeeded');
    // Every viewer reads step logs, and a trigger may choose the path: what answered stays out (docs/configuration.md).
    expect(view.steps[0]!.log).toMatch(new RegExp(`^GET ${siteUrl}/ok → 200 \\([\\w/.+-]+, \\d+ bytes\\) in \\d+ ms \\(attempt 1\\)\n$`));
    expect(view.steps[0]!.log).not.toContain('all good');
  });

  it('retries an http-check with backoff, and passes once the site recovers', async () => {
    expectEnded(await httpCheck(`url: '#{Site}/flaky', retries: 3`), 'Succeeded', '→ 200', '(attempt 3)');
  });

  it('fails an http-check after its retries, with the last status and body in the log', async () => {
    hits.delete('/down');
    const view = await httpCheck(`url: '#{Site}/down', retries: 2, expectStatus: 200`);
    expectEnded(view, 'Failed', '→ 503', 'expected 200', '(attempt 3)');
    expect(hits.get('/down')).toBe(3);
    expect(view.steps[0]!.log).not.toContain('maintenance');
  });

  it('does not follow a redirect unless the step says so', async () => {
    expectEnded(await httpCheck(`url: '#{Site}/moved', retries: 0`), 'Failed', '→ 302', 'a redirect, not followed');
    expectEnded(await httpCheck(`url: '#{Site}/moved', followRedirects: true`), 'Succeeded', '→ 200');
  });

  it('a prompted value cannot choose the host of an http-check, and is encoded in its path', async () => {
    const refused = await deploy(deploymentInput(`- { name: Check, type: http-check, url: 'http://#{Target}/ok', retries: 0 }`, {
      variables: { Target: 'evil.example.com/?' },
      prompted: ['Target'],
    }));
    expect(refused.status).toBe('Failed');
    expect(refused.steps[0]!.log).toBe('Cannot start: #{Target} comes from whoever triggered the deployment, so it may set a path or a query value, never the scheme, host or port.');
    hits.delete('/ok%2F..%2Fdown');
    const encoded = await deploy(deploymentInput(`- { name: Check, type: http-check, url: '#{Site}/#{Page}', retries: 0, expectStatus: 404 }`, {
      variables: { Site: siteUrl, Page: 'ok/../down' },
      prompted: ['Page'],
    }));
    expect(encoded.steps[0]!.log).toContain(`GET ${siteUrl}/ok%2F..%2Fdown →`);
  });

  it('runs failure and always steps after a failure, skips the rest, and keeps the deployment Failed', async () => {
    const view = await deploy(deploymentInput(`
- { name: Deploy, type: script, run: 'echo deploying; exit 4' }
- { name: Smoke test, type: script, run: 'echo never' }
- { name: Roll back, type: script, runCondition: failure, run: 'echo rolling back #{Release}' }
- { name: Clean up, type: script, runCondition: always, run: 'echo cleaned' }
`));
    expect(view).toMatchObject({ status: 'Failed', outcome: 'Failed' });
    expect(view.steps.map((s) => s.status)).toEqual(['Failed', 'Skipped', 'Succeeded', 'Succeeded']);
    expect(view.steps[3]!.finishedAt! <= view.finishedAt!).toBe(true);
    expect(view.steps[2]!.log).toBe('rolling back 1.4.2\n');
    expect(view.steps[3]!.log).toBe('cleaned\n');
  });

  it('skips failure steps when nothing failed, and runs always steps', async () => {
    const view = await deploy(deploymentInput(`
- { name: Deploy, type: script, run: 'echo ok' }
- { name: Roll back, type: script, runCondition: failure, run: 'echo never' }
- { name: Clean up, type: script, runCondition: always, run: 'echo cleaned' }
`));
    expect(view.status).toBe('Succeeded');
    expect(view.steps.map((s) => s.status)).toEqual(['Succeeded', 'Skipped', 'Succeeded']);
    expect(view.steps[1]!.log).toBe('Skipped: runs only after a failure or an abort, and nothing failed.');
  });

  it('a skipped manual step still sets its outputs, Result=Skipped, so later steps can read them anywhere', async () => {
    const view = await deploy(deploymentInput(`
- { name: Approve, type: manual, environments: [production] }
- { name: Report, type: script, run: 'echo "#{Action[Approve].Output.Manual.Result} #{Action[Approve].Output.Manual.Approved} [#{Action[Approve].Output.Manual.Notes}]"' }
`, { environment: 'qa' }));
    expect(view.status).toBe('Succeeded');
    expect(view.steps[1]!.log).toBe('Skipped False []\n');
  });
});
