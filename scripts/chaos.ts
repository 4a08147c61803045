/**
 * `npm run chaos -- [N] [--kills K]` (default 30 deployments, 3 kills): deployments with scripts, a
 * manual step and guided failure run while the worker (`npm run worker`, a process of its own) is
 * killed with SIGKILL at random moments and started again. A stand-in for the people on call
 * answers every interruption through the API: it proceeds manual steps and retries failed ones.
 * In the end it checks what docs/manual-steps.md promises:
 *
 * - every deployment ended, in a state a person chose or the process defined; none was lost;
 * - none `Failed` for a lost worker without a `GuidedFailure` interruption having been offered;
 * - no script ran twice without a retry decision (each script counts its runs in a file);
 * - no process of any script outlived its worker.
 *
 * `tests/api/chaos.test.ts` runs it at a small size in `npm test`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../app.js';
import { loadConfig } from '../config/load.js';
import { codecKey, dataConverterWith } from '../temporal/payload-codec.js';
import { startDevServer } from '../temporal/dev-server.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface ChaosOptions {
  /** A Temporal frontend; a dev server of its own when absent. */
  address?: string;
  deployments: number;
  kills: number;
  /** Stop waiting for the deployments to end after this long. */
  timeoutMs: number;
  /** The longest pause between kills (a random moment up to it); default 5 s. */
  pauseMs?: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  deployments: number;
  kills: number;
  /** Kills made while the worker ran a script (the others found no script left to run). */
  killsMidScript: number;
  statuses: Record<string, number>;
  /** Interruptions of kind GuidedFailure that were offered (and retried). */
  guidedFailures: number;
  lostWorkerReports: number;
  /** Runs of scripts beyond the first with no retry decision for them. */
  unexplainedReruns: string[];
  /** Deployments that did not end within the time allowed. */
  lost: string[];
  /** Deployments that failed without anyone having been offered a choice. */
  failedWithoutChoice: string[];
  /** Processes of scripts still alive after everything ended. */
  orphans: string[];
  seconds: number;
}

const PEOPLE = { ci: 'ci-demo-token', mlee: 'mlee-demo-token' } as const;

/** The scenario's config: the example's teams and people (without their grants, which name the example's projects) and one project whose every script counts its runs. */
function chaosConfig(runs: string): string {
  const example = loadConfig(join(ROOT, 'examples/interlock.yaml'));
  const users = example.users.map(({ grants: _scoped, ...user }) => user);
  const count = (step: string) => `echo run >> "${runs}/#{Release}.${step}"`;
  const teams = example.teams.map(({ grants: _scoped, ...team }) => team);
  return `teams: ${JSON.stringify(teams)}
users: ${JSON.stringify(users)}
projects:
  - id: chaos
    name: Chaos
    environments: [production]
    guidedFailure: true
    variables: { Seconds: { value: "2", prompted: true, pattern: "[0-9]" } }
    process:
      - { name: Prepare, type: script, run: '${count('prepare')}; sleep 1' }
      - { name: Deploy, type: script, run: '${count('deploy')}; sleep "#{Seconds}" & wait' }
      - { name: Approve, type: manual, responsibleTeams: [release-managers], instructions: 'Approve #{Release}' }
      - { name: Verify, type: script, run: '${count('verify')}; sleep 1' }
`;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? ((line: string) => console.error(line));
  const started = Date.now();
  const scratch = mkdtempSync(join(tmpdir(), 'interlock-chaos-'));
  const runs = join(scratch, 'runs');
  const configPath = join(scratch, 'interlock.yaml');
  writeFileSync(configPath, chaosConfig(runs));
  mkdirSync(runs);
  const config = loadConfig(configPath);
  const server = options.address ? undefined : await startDevServer({ headless: true });
  const address = options.address ?? server!.address;
  const key = randomBytes(32).toString('base64');
  const taskQueue = `chaos-${randomBytes(4).toString('hex')}`;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, dataConverter: dataConverterWith([codecKey(key)]) });
  const app = createApp({ temporal: { client, taskQueue }, config, limits: { actionsPerMinute: 1_000_000, triggersPerMinute: 1_000_000 }, systemVariables: { 'Interlock.Url': 'http://chaos.test' } });
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const response = await app.request(path, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json().catch(() => undefined)) as any };
  };

  let worker: ChildProcess | undefined;
  const startWorker = () => {
    worker = spawn(process.execPath, ['--import', 'tsx', 'worker.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        INTERLOCK_CODEC_KEY: key,
        INTERLOCK_CONFIG: configPath,
        INTERLOCK_WORKER_METRICS_PORT: '0',
        INTERLOCK_DATA_DIR: scratch,
        // Scripts inherit the worker's TMPDIR: how every process of theirs is found afterwards.
        TMPDIR: scratch,
      },
      stdio: 'ignore',
    });
  };
  const killWorker = async () => {
    const dying = worker;
    if (!dying || dying.exitCode !== null || dying.signalCode !== null) return;
    const gone = new Promise((resolve) => dying.once('exit', resolve));
    dying.kill('SIGKILL');
    await gone;
  };

  const ids: string[] = [];
  const retries = new Map<string, number>();
  let guidedFailures = 0;
  let lostWorkerReports = 0;
  let killsMidScript = 0;
  const unfinished = async () => (await client.workflow.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`)).count;
  let people: Promise<void> | undefined;
  let stopped = false;
  try {
    startWorker();
    for (let i = 0; i < options.deployments; i++) {
      const release = `0.${i}.${Date.now() % 100_000}`;
      const created = await call('POST', '/api/deployments', PEOPLE.ci, { project: 'chaos', environment: 'production', release, variables: { Seconds: String(2 + (i % 5)) } });
      if (created.status !== 201) throw new Error(`could not trigger: ${JSON.stringify(created.body)}`);
      ids.push(created.body.id);
    }
    log(`Triggered ${ids.length} deployments on task queue ${taskQueue}.`);

    // The people on call: every interruption is taken and answered, retrying failures.
    people = (async () => {
      const handled = new Set<string>();
      while (!stopped) {
        const { body } = await call('GET', '/api/interruptions?pageSize=100', PEOPLE.mlee);
        for (const interruption of body?.interruptions ?? []) {
          if (handled.has(interruption.id)) continue;
          const path = `/api/deployments/${interruption.deployment.id}/interruptions/${interruption.id}`;
          if (interruption.state === 'Pending' && (await call('POST', `${path}/take-responsibility`, PEOPLE.mlee)).status !== 200) continue;
          const decision = interruption.kind === 'GuidedFailure' ? 'retry' : 'proceed';
          const answered = await call('POST', `${path}/${decision}`, PEOPLE.mlee, { notes: 'chaos on call' });
          if (answered.status !== 200) continue;
          handled.add(interruption.id);
          if (decision === 'retry') {
            guidedFailures++;
            if (interruption.instructions.includes('The worker running this step was lost')) lostWorkerReports++;
            const step = `${interruption.deployment.release}.${interruption.step.toLowerCase()}`;
            retries.set(step, (retries.get(step) ?? 0) + 1);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();

    for (let k = 0; k < options.kills; k++) {
      await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * ((options.pauseMs ?? 5_000) - 500)));
      // At a random moment while some script runs. A worker that starts slowly (a busy machine) may
      // take many seconds to run its first one, so wait for it as long as any deployment is unfinished.
      const giveUp = Date.now() + options.timeoutMs;
      while (!scriptRunsUnder(worker!) && Date.now() < giveUp && (await unfinished()) > 0) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const midScript = scriptRunsUnder(worker!);
      await killWorker();
      if (midScript) killsMidScript++;
      log(`Killed the worker (${k + 1} of ${options.kills})${midScript ? ' while a script ran' : ', with no script left to run'}.`);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(3_000, options.pauseMs ?? 5_000)));
      startWorker();
    }

    const deadline = Date.now() + options.timeoutMs;
    const views = new Map<string, any>();
    while (Date.now() < deadline && views.size < ids.length) {
      for (const id of ids) {
        if (views.has(id)) continue;
        const { status, body } = await call('GET', `/api/deployments/${id}`, PEOPLE.mlee);
        if (status === 200 && body.finishedAt) views.set(id, body);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    stopped = true;
    await people;

    const statuses: Record<string, number> = {};
    for (const view of views.values()) statuses[view.status] = (statuses[view.status] ?? 0) + 1;
    const failedWithoutChoice = [...views.values()]
      .filter((view) => view.status === 'Failed' && !view.interruptions.some((i: any) => i.kind === 'GuidedFailure'))
      .map((view) => view.id as string);
    const unexplainedReruns = readdirSync(runs).flatMap((file) => {
      const count = readFileSync(join(runs, file), 'utf8').trim().split('\n').length;
      const allowed = 1 + (retries.get(file) ?? 0);
      return count > allowed ? [`${file}: ran ${count} times with ${allowed - 1} retry decisions`] : [];
    });
    const orphans = scriptProcesses(scratch);
    return {
      deployments: ids.length,
      kills: options.kills,
      killsMidScript,
      statuses,
      guidedFailures,
      lostWorkerReports,
      unexplainedReruns,
      lost: ids.filter((id) => !views.has(id)),
      failedWithoutChoice,
      orphans,
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    stopped = true;
    await people?.catch(() => undefined);
    await killWorker();
    for await (const execution of client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` })) {
      await client.workflow.getHandle(execution.workflowId).terminate('chaos finished').catch(() => undefined);
    }
    await connection.close();
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Processes of this run's scripts (their TMPDIR is its folder) still alive: none may outlive its worker. */
/**
 * Whether the worker runs a step's script now: a supervisor (activities/script.ts) that is its child.
 * What an earlier, killed worker ran is not counted: its supervisors are no one's child by then.
 */
function scriptRunsUnder(worker: ChildProcess): boolean {
  return readdirSync('/proc').some((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return state !== 'Z' && Number(parent) === worker.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('interlock-step');
    } catch {
      return false;
    }
  });
}

function scriptProcesses(folder: string): string[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).flatMap((pid) => {
    try {
      const environment = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2];
      const script = environment.includes(`TMPDIR=${folder}`) && !cmdline.includes('worker.ts');
      return script && state !== 'Z' ? [`${pid}: ${cmdline}`] : [];
    } catch {
      return [];
    }
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const deployments = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 30);
  const kills = Number(args[args.indexOf('--kills') + 1] ?? 3) || 3;
  const report = await runChaos({ deployments, kills, timeoutMs: 10 * 60_000 });
  console.log(JSON.stringify(report, null, 2));
  const ok = report.lost.length === 0 && report.failedWithoutChoice.length === 0 && report.unexplainedReruns.length === 0 && report.orphans.length === 0;
  console.log(ok ? 'Every promise held.' : 'A promise was broken: see above.');
  process.exit(ok ? 0 : 1);
}

