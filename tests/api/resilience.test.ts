import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { ok, problem, type Who } from '../support/api.js';
import { helloService } from '../support/fixtures.js';
import { eventually, until } from '../support/poll.js';
import { killAll, startProcess, type TestProcess } from '../support/processes.js';
import { type Action, type Stack, startStack, testConfig, uniqueRelease, waitFor } from '../support/stack.js';

const config = testConfig(`${helloService(`
- { name: Deploy, type: script, run: 'echo deploying #{Release}' }
- name: Ensure traders are aware of the deployment
  type: manual
  responsibleTeams: [release-managers]
  instructions: 'Tell the desk about #{Release}'
- { name: Record sign-off, type: script, run: 'echo "#{Action[Ensure traders are aware of the deployment].Output.Manual.Notes}"' }
`)}
- id: long-script
  name: Long script
  environments: [production]
  variables: { PidFile: { prompted: true } }
  process:
    # The script and a child of its own: both must die with the worker.
    - { name: Migrate, type: script, run: 'sleep 600 & echo "$$ $!" > "#{PidFile}"; wait' }
- id: long-script-guided
  name: Long script, guided
  environments: [production]
  guidedFailure: true
  variables: { PidFile: { prompted: true } }
  process:
    # Counts its runs; the second one (after a person chose retry) finishes at once.
    - { name: Migrate, type: script, run: 'echo run >> "#{PidFile}.runs"; test "$(wc -l < "#{PidFile}.runs")" -ge 2 && exit 0; sleep 600 & echo "$$ $!" > "#{PidFile}"; wait' }
`);

const STEP = 'Ensure traders are aware of the deployment';

const stacks: Stack[] = [];

afterEach(async () => {
  // Children first: a stray worker would keep serving the queue of the next test's stack.
  await killAll();
  await Promise.all(stacks.splice(0).map((stack) => stack.stop()));
});

async function stackWith(options: { actionTimeoutMs?: number } = {}): Promise<Stack> {
  const stack = await startStack(config, options);
  stacks.push(stack);
  return stack;
}

/** Triggers a deployment as ci and waits until it stops at the manual step; returns its id and the interruption's. */
async function untilWaiting(stack: Stack, timeoutMs = 30_000): Promise<{ id: string; iid: string; release: string }> {
  const release = uniqueRelease();
  const { id } = await ok(stack.trigger({ project: 'hello-service', environment: 'production', release }), 201);
  const view = await waitFor(stack, id, (v) => v.status === 'Waiting', timeoutMs);
  const interruption = view.interruptions[0]!;
  expect(interruption).toMatchObject({ step: STEP, state: 'Pending', assignee: null, instructions: `Tell the desk about ${release}` });
  return { id, iid: interruption.id, release };
}

const act = (stack: Stack, as: Who, id: string, iid: string, action: Extract<Action, 'take-responsibility' | 'proceed' | 'abort'>, json?: { notes?: string }) =>
  stack.act(as, action, { id, iid }, json);
const view = (stack: Stack, id: string) => stack.api().api.deployments[':id'].$get({ param: { id } });

async function timed<T>(call: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await call();
  return { result, ms: performance.now() - started };
}

describe('two release managers take responsibility at the same moment', () => {
  it('makes exactly one the holder: all their calls get 200, all the other\'s 409 HELD_BY_OTHER naming them', async () => {
    const stack = await stackWith();
    const { id, iid } = await untilWaiting(stack);

    const callers: Who[] = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'jjones' : 'mlee'));
    const responses = await Promise.all(callers.map(async (as) => ({ as, response: await act(stack, as, id, iid, 'take-responsibility') })));

    const taken = await ok(view(stack, id));
    const assignee = taken.interruptions[0]!.assignee!;
    const holder = (['jjones', 'mlee'] as const).find((who) => who === assignee.username);
    expect(holder, assignee.username).toBeDefined();
    expect(taken.interruptions[0]!.state).toBe('Assigned');

    for (const { as, response } of responses) {
      if (as === holder) {
        expect(await ok(response)).toMatchObject({ id: iid, state: 'Assigned', assignee: { username: holder } });
      } else {
        const refusal = await problem(response, 409);
        expect(refusal.code).toBe('HELD_BY_OTHER');
        expect(refusal.detail).toContain(`${assignee.displayName} (${holder})`);
      }
    }

    // The audit trail holds every attempt: one take that changed something, nine repeats, ten refusals,
    // the refusals of one person for one reason kept as one entry with their count (docs/manual-steps.md).
    const takes = taken.timeline.filter((entry) => entry.action === 'takeResponsibility');
    expect(takes.reduce((sum, entry) => sum + (entry.count ?? 1), 0)).toBe(20);
    const accepted = takes.filter((entry) => entry.result === 'accepted');
    expect(accepted).toHaveLength(10);
    expect(accepted.every((entry) => entry.user === holder)).toBe(true);
    expect(accepted.filter((entry) => entry.reason === undefined)).toHaveLength(1);
    const refused = takes.filter((entry) => entry.result === 'refused');
    expect(refused).toEqual([expect.objectContaining({ count: 10 })]);
    expect(refused.every((entry) => entry.user !== holder && entry.reason?.startsWith('HELD_BY_OTHER'))).toBe(true);

    // Only the holder decides, and the deployment runs on.
    await ok(act(stack, holder!, id, iid, 'proceed', { notes: 'desk told' }));
    const done = await waitFor(stack, id, (v) => v.status === 'Succeeded');
    expect(done.steps[2]!.log).toContain('desk told');
  });
});

describe('no worker', () => {
  it('answers 503 with Retry-After within the action timeout, applies nothing later, and lets the holder go on', async () => {
    const stack = await stackWith({ actionTimeoutMs: 2_000 });
    const { id, iid } = await untilWaiting(stack);
    await stack.stopWorker();

    // Reading a running deployment needs a worker to answer the query: 503, not 500, not a hang.
    const read = await timed(() => view(stack, id));
    await problem(read.result, 503);
    expect(read.result.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(read.ms).toBeLessThan(10_000);

    const take = await timed(() => act(stack, 'jjones', id, iid, 'take-responsibility'));
    const unavailable = await problem(take.result, 503);
    expect(take.result.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(unavailable).toMatchObject({ status: 503, title: 'Service unavailable' });
    expect(unavailable.detail).toMatch(/nothing was done/);
    expect(take.ms).toBeGreaterThanOrEqual(1_900);
    expect(take.ms).toBeLessThan(10_000);

    await stack.startWorker();
    // The update Temporal kept for the workflow reaches it now, after its caller gave up: refused as
    // EXPIRED in the timeline, and nothing else changes.
    const after = await waitFor(stack, id, (v) => v.timeline.some((entry) => entry.action === 'takeResponsibility'), 30_000);
    expect(after.status).toBe('Waiting');
    expect(after.interruptions[0]).toMatchObject({ id: iid, state: 'Pending', assignee: null });
    expect(after.timeline.filter((entry) => entry.action === 'takeResponsibility')).toEqual([
      expect.objectContaining({ user: 'jjones', result: 'refused', reason: expect.stringMatching(/^EXPIRED: /), interruption: iid }),
    ]);

    const retaken = await ok(act(stack, 'jjones', id, iid, 'take-responsibility'));
    expect(retaken).toMatchObject({ state: 'Assigned', assignee: { username: 'jjones' } });
    await ok(act(stack, 'jjones', id, iid, 'proceed', { notes: 'told the desk after the outage' }));
    const done = await waitFor(stack, id, (v) => v.status === 'Succeeded');
    expect(done.steps.map((s) => s.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    expect(done.steps[2]!.log).toContain('told the desk after the outage');
  });
});

describe('a worker that crashes while a deployment waits', () => {
  it('loses nothing: a new worker carries on from the take, the proceed and its notes', async () => {
    const stack = await stackWith({ actionTimeoutMs: 5_000 });
    await stack.stopWorker(); // only the child workers serve this queue

    const first = startWorkerProcess(stack);
    // The child bundles the workflow code before it polls; the deployment waits for it in Temporal.
    const { id, iid } = await whileAlive(first, untilWaiting(stack, 90_000));

    const take = await ok(act(stack, 'jjones', id, iid, 'take-responsibility'));
    expect(take).toMatchObject({ state: 'Assigned', assignee: { username: 'jjones' } });

    await crash(first);
    expect(first.child.signalCode).toBe('SIGKILL');
    // Nobody serves the queue now: the crash is real.
    await problem(view(stack, id), 503);

    const second = startWorkerProcess(stack);
    const resumed = await whileAlive(second, waitFor(stack, id, (v) => v.status === 'Waiting', 90_000));
    expect(resumed.interruptions[0]).toMatchObject({ state: 'Assigned', assignee: { username: 'jjones' } });

    const notes = 'Desk informed by phone; go ahead.';
    const proceeded = await ok(act(stack, 'jjones', id, iid, 'proceed', { notes }));
    expect(proceeded).toMatchObject({ state: 'Proceeded', notes });

    const done = await whileAlive(second, waitFor(stack, id, (v) => v.status === 'Succeeded', 60_000));
    expect(done.steps.map((s) => s.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    expect(done.steps[2]!.log).toContain(notes);
    expect(done.variables[`Action[${STEP}].Output.Manual.ResponsibleUser.Username`]).toBe('jjones');
    expect(done.timeline).toEqual([
      expect.objectContaining({ user: 'jjones', action: 'takeResponsibility', result: 'accepted', interruption: iid }),
      expect.objectContaining({ user: 'jjones', action: 'proceed', result: 'accepted', interruption: iid }),
    ]);
  }, 240_000);
});

describe('a worker killed with SIGKILL while a script runs', () => {
  /** Starts the project's script on a worker of its own process, kills that worker, and checks that the script died with it. */
  async function killMidScript(project: 'long-script' | 'long-script-guided') {
    const stack = await stackWith();
    await stack.stopWorker(); // only the child workers serve this queue
    const pidFile = join(mkdtempSync(join(tmpdir(), 'interlock-lost-')), 'pids');
    const first = startWorkerProcess(stack);
    const created = await ok(stack.trigger({ project, environment: 'production', release: uniqueRelease(), variables: { PidFile: pidFile } }), 201);
    const written = () => (existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim().split(' ') : []);
    const pids = await whileAlive(first, eventually(() => (written().length === 2 ? written().map(Number) : undefined), 'the script to start', { timeoutMs: 90_000 }));

    await crash(first);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2]!.startsWith('Z');
      } catch {
        return false;
      }
    };
    const outlived = await until(() => pids.filter(alive), (left) => left.length === 0, 'the script to die with its worker', { timeoutMs: 8_000 }).catch(() => pids.filter(alive));
    expect(outlived, 'processes of the script that outlived its worker').toEqual([]);
    return { stack, id: created.id, runs: () => (existsSync(`${pidFile}.runs`) ? readFileSync(`${pidFile}.runs`, 'utf8').trim().split('\n').length : 0) };
  }

  it('takes the script and its children with it, and the step says in words that the worker was lost', async () => {
    const { stack, id } = await killMidScript('long-script');
    // Another worker learns of the loss when the heartbeat times out, and nothing runs twice.
    const second = startWorkerProcess(stack);
    const done = await whileAlive(second, waitFor(stack, id, (v) => v.finishedAt !== null, 90_000));
    expect(done.status).toBe('Failed');
    expect(done.steps[0]!.log).toContain('The worker running this step was lost mid-step');
    expect(done.steps[0]!.log).not.toContain('Heartbeat timeout');
  }, 150_000);

  it('with guided failure, asks a person instead of failing; the script runs again only once they choose retry', async () => {
    const { stack, id, runs } = await killMidScript('long-script-guided');
    const second = startWorkerProcess(stack);
    const waiting = await whileAlive(second, waitFor(stack, id, (v) => v.interruptions.some((i) => i.kind === 'GuidedFailure'), 90_000));
    expect(waiting.status).toBe('Waiting');
    const failure = waiting.interruptions[0]!;
    expect(failure.instructions).toContain('The worker running this step was lost mid-step');
    expect(runs()).toBe(1);
    await ok(stack.act('ci', 'take-responsibility', { id, iid: failure.id }));
    await ok(stack.act('ci', 'retry', { id, iid: failure.id }, { notes: 'the worker is back' }));
    const done = await whileAlive(second, waitFor(stack, id, (v) => v.finishedAt !== null, 60_000));
    expect(done.status).toBe('Succeeded');
    expect(runs()).toBe(2);
    expect(done.steps[0]!.attempts?.[0]?.log).toContain('The worker running this step was lost mid-step');
  }, 150_000);
});

/** `npm run worker` as an operator runs it: its own process, bundling the workflow code on start. */
function startWorkerProcess({ taskQueue, codecKey }: Pick<Stack, 'taskQueue' | 'codecKey'>): TestProcess {
  return startProcess(process.execPath, ['--import', 'tsx', 'worker.ts'], {
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    // The same payload codec as the API's client: the worker must read what it encrypted.
    INTERLOCK_CODEC_KEY: codecKey,
    INTERLOCK_WORKER_METRICS_PORT: '0',
    TEMPORAL_NAMESPACE: 'default',
  });
}

/** SIGKILL to the worker alone, as a crash would; resolves once it is gone. */
async function crash(worker: TestProcess): Promise<void> {
  worker.signal('SIGKILL');
  await worker.exited;
}

/** `promise`, failing at once if the worker dies first; either way a failure carries the worker's output. */
async function whileAlive<T>(worker: TestProcess, promise: Promise<T>): Promise<T> {
  let settled = false;
  const died = worker.exited.then((): never | undefined => {
    if (settled) return undefined;
    throw new Error(`the worker process exited (${worker.child.exitCode ?? worker.child.signalCode})`);
  });
  try {
    return (await Promise.race([promise, died])) as T;
  } catch (error) {
    throw new Error(`${(error as Error).message}\nworker output:\n${worker.output()}`, { cause: error });
  } finally {
    settled = true;
  }
}

