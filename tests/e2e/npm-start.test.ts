import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type Deployment, ok, overHttp, type Who, waitFor } from '../support/api.js';
import { keptPort, npmStart, npmStartFails, portIsFree, type Running } from '../support/npm-start.js';
import { until as poll } from '../support/poll.js';

const STEP = 'Ensure traders are aware of the deployment';
const NOTES = 'Checked with Rick, got the all-clear; Michelle is out at a meeting.';
const dataDir = mkdtempSync(join(tmpdir(), 'interlock-e2e-'));
const started: Running[] = [];

afterAll(() => {
  for (const running of started) running.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The typed client of a running npm start, as `who`. */
const api = (running: Running, who: Who) => overHttp(running.url).api(who).api;

const until = (running: Running, id: string, done: (view: Deployment) => boolean) => waitFor(overHttp(running.url), id, done, 60_000);

describe('npm start after kill -9', () => {
  it('leaves no dev server behind, and starts again cleanly with the waiting deployment still there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'interlock-e2e-kill-'));
    try {
      let running = await npmStart({ INTERLOCK_DATA_DIR: dir });
      started.push(running);
      const { id } = await ok(api(running, 'ci').deployments.$post({ json: { project: 'hello-service', environment: 'production', release: '9.9.9' }, header: {} }), 201);
      await until(running, id, (view) => view.status === 'Waiting');

      const node = running.processes().find((p) => p.args.includes('start.ts'));
      expect(node, JSON.stringify(running.processes())).toBeDefined();
      expect(running.processes().some((p) => p.args.includes('start-dev'))).toBe(true);
      process.kill(node!.pid, 'SIGKILL');
      const devServers = () => running.processes().filter((p) => p.args.includes('start-dev'));
      expect(await poll(devServers, (left) => left.length === 0, 'the dev server to stop with npm start', { timeoutMs: 10_000 }).catch(() => devServers())).toEqual([]);

      // The same ports and data: nothing holds them.
      for (const [name, port] of Object.entries(running.env)) expect(await portIsFree(Number(port)), `${name} ${port}`).toBe(true);
      running = await npmStart({ INTERLOCK_DATA_DIR: dir, ...running.env });
      started.push(running);
      const after = await until(running, id, (view) => view.status === 'Waiting');
      expect(after.interruptions[0]?.state).toBe('Pending');
      expect(await running.stop()).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});

describe('npm start, as a user meets it', () => {
  it('runs the example project end to end, survives a restart with a deployment waiting, and stops completely', async () => {
    let running = await npmStart({ INTERLOCK_DATA_DIR: dataDir });
    started.push(running);
    expect(running.output()).toContain(`API and dashboard  ${running.url}`);
    expect(running.output()).toContain(`Temporal Web       ${running.uiUrl}`);
    // Behind the dashboard's sign-in: nobody signed in is told it is there.
    expect((await fetch(`${running.uiUrl}/`)).status).toBe(404);
    // The worker's own Temporal metrics, on a port of their own.
    const workerMetrics = await (await fetch(`http://localhost:${running.env.INTERLOCK_WORKER_METRICS_PORT}/metrics`)).text();
    expect(workerMetrics).toContain('temporal_');

    // A second npm start on the same data, with ports of its own, leaves this one's Temporal alone.
    const ports = { PORT: String(await keptPort()), TEMPORAL_DEV_PORT: String(await keptPort()), TEMPORAL_UI_PORT: String(await keptPort()), INTERLOCK_WORKER_METRICS_PORT: String(await keptPort()) };
    const second = await npmStartFails({ ...ports, INTERLOCK_DATA_DIR: dataDir });
    expect(second.code).not.toBe(0);
    expect(second.output).toMatch(/Another run \(pid \d+\) is using \S+ for a Temporal dev server: stop it first, or give this one a directory of its own \(INTERLOCK_DATA_DIR\)\./);
    expect(second.output).not.toContain('left behind');
    expect((await fetch(`${running.url}/readyz`)).status).toBe(200);

    // CI triggers the example project to production; it waits for a release manager.
    const release = `2.${Date.now() % 1000}.0`;
    const { id } = await ok(api(running, 'ci').deployments.$post({ json: { project: 'hello-service', environment: 'production', release }, header: {} }), 201);
    const waiting = await until(running, id, (view) => view.status === 'Waiting');
    const at = { param: { id, iid: waiting.interruptions[0]!.id } };
    expect(waiting.links.temporal).toBe(`${running.uiUrl}/namespaces/default/workflows/${encodeURIComponent(id)}`);
    await ok(api(running, 'jjones').deployments[':id'].interruptions[':iid']['take-responsibility'].$post({ ...at, json: {} }));

    // The whole stack stops on SIGTERM, leaving nothing behind, and comes back with the deployment still waiting.
    expect(await running.stop()).toBe(0);
    expect(running.alive()).toBe(false);
    running = await npmStart({ INTERLOCK_DATA_DIR: dataDir, ...running.env });
    started.push(running);
    const after = await until(running, id, (view) => view.status === 'Waiting');
    expect(after.interruptions[0]).toMatchObject({ state: 'Assigned', assignee: { username: 'jjones' } });

    await ok(api(running, 'jjones').deployments[':id'].interruptions[':iid'].proceed.$post({ ...at, json: { notes: NOTES } }));
    const done = await until(running, id, (view) => view.finishedAt !== null);
    expect(done.status, JSON.stringify(done.steps, null, 2)).toBe('Succeeded');
    expect(done.steps.map((s) => s.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded']);
    expect(done.steps[2]!.log).toContain('200');
    expect(done.steps[3]!.log).toBe(`Signed off by Jamie Jones: ${NOTES}\n`);
    expect(done.variables[`Action[${STEP}].Output.Manual.Result`]).toBe('Proceed');

    // A failing script fails its deployment with the code in the log.
    const failing = await ok(api(running, 'ci').deployments.$post({
      json: { project: 'hello-service', environment: 'qa', release, variables: { ExitCode: '3', DeploySeconds: '0' } }, header: {},
    }), 201);
    const failed = await until(running, failing.id, (view) => view.finishedAt !== null);
    expect(failed.status).toBe('Failed');
    expect(failed.steps[0]!.log).toContain('exited with code 3');

    expect(await running.stop()).toBe(0);
    expect(running.alive()).toBe(false);
  });

  // A second npm start on one machine meets ports the first one holds: each is one line naming the
  // port and the variable to set, whichever it is, and nothing is left running.
  it.each([
    ['PORT', 'the API and dashboard', ''],
    ['INTERLOCK_WORKER_METRICS_PORT', "the worker's metrics", ' (0 turns them off)'],
    ['TEMPORAL_DEV_PORT', 'the Temporal dev server', ''],
    ['TEMPORAL_UI_PORT', 'Temporal Web', ''],
  ] as const)('says which port is taken and what to set when %s is', async (variable, what, otherwise) => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      // The others below the kernel's ephemeral range, so none is taken by the time it is wanted.
      const ports = {
        PORT: String(await keptPort()),
        TEMPORAL_DEV_PORT: String(await keptPort()),
        TEMPORAL_UI_PORT: String(await keptPort()),
        INTERLOCK_WORKER_METRICS_PORT: String(await keptPort()),
        [variable]: String(port),
      };
      const { code, output } = await npmStartFails({ ...ports, INTERLOCK_DATA_DIR: join(dataDir, `port-taken-${variable}`) });
      expect(code).not.toBe(0);
      expect(output).toContain(`\nPort ${port} is taken (on 127.0.0.1), so ${what} cannot listen there: set ${variable} to a free port${otherwise}, or stop what holds it.\n`);
      expect(output).not.toMatch(/Address already in use|EADDRINUSE|address already in use/);
      expect(output).not.toContain('Interlock is running.');
      // The API's and the worker's ports are looked at before anything starts.
      if (variable === 'PORT' || variable === 'INTERLOCK_WORKER_METRICS_PORT') expect(output).not.toContain('Starting the Temporal dev server');
    } finally {
      taken.close();
    }
  });

  it('does not run on another Temporal that answers on its dev server port: it says the port is taken', async () => {
    // The test run's own dev server, as another npm start's would be.
    const port = Number(inject('temporalAddress').split(':').at(-1));
    const ports = { PORT: String(await keptPort()), TEMPORAL_UI_PORT: String(await keptPort()), INTERLOCK_WORKER_METRICS_PORT: String(await keptPort()) };
    const { code, output } = await npmStartFails({ ...ports, TEMPORAL_DEV_PORT: String(port), INTERLOCK_DATA_DIR: join(dataDir, 'another-temporal') });
    expect(code).not.toBe(0);
    expect(output).toContain(`Port ${port} is taken (on 127.0.0.1), so the Temporal dev server cannot listen there: set TEMPORAL_DEV_PORT to a free port, or stop what holds it.`);
    expect(output).not.toContain('Interlock is running.');
  });

  it('refuses an invalid config, naming each problem by its path, and starts nothing', async () => {
    const file = join(dataDir, 'bad.yaml');
    writeFileSync(file, `
teams: [{ id: release-managers, name: Release managers }]
projects:
  - id: hello-service
    name: Hello
    environments: [qa]
    process:
      - { name: Deploy, type: script, run: echo }
      - { name: Approve, type: manual, responsibleTeams: [dba] }
`);
    const { code, output } = await npmStartFails({ INTERLOCK_CONFIG: file, INTERLOCK_DATA_DIR: join(dataDir, 'never') });
    expect(code).not.toBe(0);
    expect(output).toContain('projects[0].process[1].responsibleTeams[0]: unknown team "dba"');
    expect(output).not.toContain('Starting the Temporal dev server');
  });
});
