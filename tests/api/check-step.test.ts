import { createServer } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { ok } from '../support/api.js';
import { startAlertmanager } from '../support/alertmanager.js';
import { helloService } from '../support/fixtures.js';
import { testConfig, useStack, waitFor } from '../support/stack.js';

// The check step as a release manager meets it (docs/manual-steps.md#external-checks): a deployment
// waits on its source until it passes, and fails closed when the source fails, errs or never decides.
let health: { status: number; body: unknown } = { status: 200, body: { status: 'starting' } };
const server = createServer((_request, response) => response.writeHead(health.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(health.body)));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
const alertmanager = await startAlertmanager();
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await alertmanager.stop();
});

const projects = `
${helloService(`
- name: Healthy
  type: check
  http: { url: "${base}/health?release=#{Release}", pass: "@.status == 'ok'", fail: "@.status == 'down'" }
  every: 1s
  timeout: 4s
- name: Deploy
  type: script
  run: echo deployed
`)}
- id: alerting
  name: Alerting service
  environments: [production]
  guidedFailure: true
  process:
    - name: No critical alerts
      type: check
      alertmanager: { url: "${alertmanager.url}", matchers: { service: "#{Project}", severity: critical } }
      every: 1s
      timeout: 3s
    - { name: Deploy, type: script, run: echo deployed }
`;
// The example's people, these projects, and a policy for hello-service in production.
const { policies } = parseConfig(`teams: [{ id: release-managers, name: Release managers }]\nprojects:\n${projects.replace(/^/gm, '  ')}\npolicies:
  - name: Production is healthy
    environments: [production]
    projects: [hello-service]
    checks:
      - { name: Status page, http: { url: "${base}/health?policy=1", pass: "@.status == 'ok'", fail: "@.status == 'down'" }, every: 1s, timeout: 4s }
`);
const stack = useStack({ ...testConfig(projects), policies });

let minor = 0;
const trigger = async (project: string, environment: string) =>
  (await ok(stack.trigger({ project, environment, release: `1.${minor++}.0` }), 201)).id;

describe('a policy\'s checks', () => {
  it('run before the first step of every deployment to the environment: it goes on once they pass, and fails there when one fails', async () => {
    health = { status: 200, body: { status: 'starting' } };
    const id = await trigger('hello-service', 'production');
    const asking = await waitFor(stack, id, (view) => view.steps[0]!.log.includes('pass does not hold yet'));
    expect(asking.steps[0]).toMatchObject({ name: 'Policy: Production is healthy', type: 'policy', status: 'Running', policy: { checks: { state: 'Pending' } } });
    health = { status: 200, body: { status: 'ok' } };
    const passed = await waitFor(stack, id, (view) => view.status === 'Succeeded');
    expect(passed.steps.map((step) => [step.name, step.status])).toEqual([
      ['Policy: Production is healthy', 'Succeeded'],
      ['Healthy', 'Succeeded'],
      ['Deploy', 'Succeeded'],
    ]);
    expect(passed.steps[0]!.policy!.checks.state).toBe('Passed');
    expect(passed.steps[0]!.log).toMatch(/^Check Status page passed:\n[\s\S]*pass holds/);

    health = { status: 200, body: { status: 'down' } };
    const failed = await waitFor(stack, await trigger('hello-service', 'production'), (view) => view.status === 'Failed');
    expect(failed.steps.map((step) => step.status)).toEqual(['Failed', 'Skipped', 'Skipped']);
    expect(failed.steps[0]!.policy!.checks.state).toBe('Failed');
    expect(failed.steps[0]!.log).toContain('The check Status page did not pass: the deployment fails here.');
  });
});

describe('a check step', () => {
  it('waits while its source says nothing decisive, then goes on once it passes', async () => {
    health = { status: 200, body: { status: 'starting' } };
    const id = await trigger('hello-service', 'qa');
    await waitFor(stack, id, (view) => view.steps[0]!.log.includes('pass does not hold yet'));
    expect((await ok(stack.api('ci').api.deployments[':id'].$get({ param: { id } }))).steps[0]!.status).toBe('Running');
    health = { status: 200, body: { status: 'ok' } };
    const done = await waitFor(stack, id, (view) => view.status === 'Succeeded');
    expect(done.steps.map((step) => [step.name, step.status])).toEqual([['Healthy', 'Succeeded'], ['Deploy', 'Succeeded']]);
    expect(done.steps[0]!.log).toMatch(new RegExp(`GET ${base}/health\\?release=1\\.\\d+\\.0 → 200: pass holds \\(@\\.status == 'ok'\\)\\n$`));
  });

  it('fails the deployment when its fail condition holds, and at its timeout when the source errs', async () => {
    health = { status: 200, body: { status: 'down' } };
    const down = await waitFor(stack, await trigger('hello-service', 'qa'), (view) => view.status === 'Failed');
    expect(down.steps[0]!.log).toContain("fail holds (@.status == 'down')");
    expect(down.steps[1]!.status).toBe('Skipped');

    health = { status: 500, body: { status: 'ok' } };
    const erring = await waitFor(stack, await trigger('hello-service', 'qa'), (view) => view.status === 'Failed');
    expect(erring.steps[0]!.log).toContain('answered 500: inconclusive');
    expect(erring.steps[0]!.log).toMatch(/Timed out after 4 s without a passing answer: a check that cannot tell never passes\.\n$/);
  });

  it('with a critical alert firing for the project, it blocks and asks a person (guided failure); once it clears, a retry goes on', async () => {
    await alertmanager.alert({ alertname: 'HighErrorRate', service: 'alerting', severity: 'critical' });
    const id = await trigger('alerting', 'production');
    const blocked = await waitFor(stack, id, (view) => view.status === 'Waiting');
    expect(blocked.steps[0]!.log).toContain(`Alertmanager ${alertmanager.url} {service="alerting", severity="critical"}: 1 firing (HighErrorRate)`);
    const [interruption] = blocked.interruptions;
    expect(interruption!.kind).toBe('GuidedFailure');

    await alertmanager.alert({ alertname: 'HighErrorRate', service: 'alerting', severity: 'critical' }, { resolved: true });
    await ok(stack.act('admin', 'take-responsibility', { id, iid: interruption!.id }));
    await ok(stack.act('admin', 'retry', { id, iid: interruption!.id }));
    const done = await waitFor(stack, id, (view) => view.status === 'Succeeded');
    expect(done.steps[0]!.log).toContain('no alert firing');
  });
});
