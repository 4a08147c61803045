import { type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import { type ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { PolicySchema } from '../../config/policy-schema.js';
import type { PolicyStep } from '../../config/schema.js';
import { localParts, zonedInstant } from '../../core/deployment-windows.js';
import { gateWorkflowId, overridesWorkflowId } from '../../core/ids.js';
import {
  abortUpdate,
  type Actor,
  type DeploymentInput,
  type DeploymentView,
  overridesQuery,
  overrideUpdate,
  proceedUpdate,
  releaseStateQuery,
  searchAttributes,
  supersedeSignal,
  takeResponsibilitySignal,
  takeResponsibilityUpdate,
} from '../../workflows/messages.js';
import { lifecycleConfig, releaseInput, seedShipyard, untilView } from '../support/fixtures.js';
import { until } from '../support/poll.js';
import { deploymentInput, finalView, people, refusal, useTimeSkippingWorker } from '../support/workflows.js';

// docs/change-control.md, in the workflow on a time-skipping server: a policy gate before the first
// step waits outside its window or inside a freeze and goes on by itself when it opens (across a
// daylight-saving change too), fails with onClosed: fail, passes by break-glass, and asks its approval
// rules; a proceed may go on later (runAt), a trigger's notAfter expires it, a newer release supersedes
// it, and holdQueueWhileWaiting holds the queue.

const taskQueue = 'policy-gate-test';
const environment = useTimeSkippingWorker(taskQueue);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const GATE = 'Policy: production';
const sre: Actor = { id: 'users-500', username: 'sam', displayName: 'Sam SRE', teams: ['sre-leads'], roles: ['deployer'] };
const { jjones, outsider: otto } = people;

/** A deployment to production of one script step, behind the gate of `policy` (as the config writes it). */
function gated(policy: Record<string, unknown>, overrides: Partial<DeploymentInput> = {}): DeploymentInput {
  const base = deploymentInput('- { name: Deploy, type: script, run: echo deployed }\n', overrides);
  const gate: PolicyStep = { name: GATE, type: 'policy', policy: PolicySchema.parse({ environments: ['production'], ...policy }) };
  return { ...base, process: [gate, ...base.process] };
}

async function start(input: DeploymentInput, ready: (view: DeploymentView) => boolean = (view) => view.status === 'Waiting'): Promise<WorkflowHandle> {
  const handle = await environment().client.workflow.start('deployment', { args: [input], taskQueue, workflowId: input.id });
  await untilView(handle, ready, 'the deployment to wait at its policy gate');
  return handle;
}

/** Skips the test server's clock to `at` (which must be ahead of it). */
async function skipTo(at: number): Promise<void> {
  const now = await environment().currentTimeMs();
  if (at > now) await environment().sleep(at - now);
}

/** The first instant after `after` at which the wall clock of `timezone` shows `day` at `minutes` past midnight. */
function next(after: number, timezone: string, day: string, minutes: number): number {
  const today = localParts(after, timezone);
  for (let offset = 0; offset < 400; offset++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + offset));
    const local = { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
    const at = zonedInstant(local, minutes, timezone);
    if (at > after && localParts(at, timezone).weekday === day) return at;
  }
  throw new Error(`no ${day} within 400 days`);
}

/** The Friday before the next Sunday on which the clocks of `timezone` change, at 18:00 local. */
function fridayBeforeClockChange(after: number, timezone: string): number {
  for (let friday = next(after, timezone, 'Fri', 18 * 60); ; friday = next(friday, timezone, 'Fri', 18 * 60)) {
    const offset = (at: number) => {
      const local = localParts(at, timezone);
      return Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute) - Math.floor(at / 60_000) * 60_000;
    };
    if (offset(friday) !== offset(friday + 4 * DAY)) return friday;
  }
}

const LONDON_WINDOW = { days: ['Mon', 'Tue', 'Wed', 'Thu'], from: '09:00', to: '16:00', timezone: 'Europe/London' };

/** The named failure an update was refused with. */
async function refusedWith(attempt: Promise<unknown>): Promise<string | undefined> {
  const error = await attempt.then(
    (result) => { throw new Error(`expected a refusal, got ${JSON.stringify(result)}`); },
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  return ((error as WorkflowUpdateFailedError).cause as ApplicationFailure).type ?? undefined;
}

describe('a policy gate with a window', () => {
  it('triggered on a Friday evening, waits (Window, opens Monday 09:00 Europe/London) and goes on by itself then', async () => {
    const friday = next(await environment().currentTimeMs(), 'Europe/London', 'Fri', 18 * 60);
    await skipTo(friday);
    const handle = await start(gated({ window: LONDON_WINDOW, override: { teams: ['sre-leads'] } }));

    const view = await handle.query<DeploymentView>('state');
    const monday = next(friday, 'Europe/London', 'Mon', 9 * 60);
    const opensAt = new Date(monday).toISOString();
    expect(view.status).toBe('Waiting');
    expect(view.steps.map((step) => [step.name, step.type, step.status])).toEqual([
      [GATE, 'policy', 'Waiting'],
      ['Deploy', 'script', 'Pending'],
    ]);
    expect(view.steps[0]!.policy).toEqual({
      checks: { state: 'NotRequired' },
      window: { state: 'Waiting', window: 'Mon–Thu 09:00–16:00 Europe/London', opensAt, reason: 'Outside the deployment window (Mon–Thu 09:00–16:00 Europe/London)', interruption: view.interruptions[0]!.id },
      approvals: { state: 'NotRequired' },
      overrideTeams: ['sre-leads'],
    });
    expect(view.interruptions).toHaveLength(1);
    expect(view.interruptions[0]).toMatchObject({ kind: 'Window', state: 'Pending', step: GATE, opensAt, timezone: 'Europe/London', overrideTeams: ['sre-leads'] });
    // Nobody decides a window: a proceed is refused.
    expect(await refusedWith(handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones }] }))).toBe('NOT_AN_OPTION');

    const done = await finalView(handle);
    expect(done.status).toBe('Succeeded');
    expect(done.interruptions[0]!.state).toBe('WindowOpened');
    expect(Date.parse(done.interruptions[0]!.decidedAt!) - monday).toBeLessThan(60_000);
    expect(done.steps[0]!.policy!.window.state).toBe('Passed');
    expect(Date.parse(done.steps[1]!.startedAt!)).toBeGreaterThanOrEqual(monday);
    expect(Date.parse(done.steps[1]!.startedAt!)).toBeLessThan(monday + HOUR);
    expect(done.steps[1]!.log).toBe('deployed\n');
  });

  // The clock of the test server only moves on: London's next change is in spring (clocks forward),
  // New York's after it in autumn (clocks back).
  it.each(['Europe/London', 'America/New_York'])('across a daylight-saving change in %s, opens at 09:00 on the wall clock', async (timezone) => {
    const friday = fridayBeforeClockChange(await environment().currentTimeMs(), timezone);
    await skipTo(friday);
    const handle = await start(gated({ window: { ...LONDON_WINDOW, timezone } }));
    const monday = next(friday, timezone, 'Mon', 9 * 60);
    // The Monday's offset differs from the Friday's: 09:00 local is not the Friday's 09:00 UTC-wise.
    expect(localParts(monday, timezone)).toMatchObject({ hour: 9, minute: 0, weekday: 'Mon' });
    const fridayOpening = zonedInstant(localParts(friday, timezone), 9 * 60, timezone);
    expect((monday - fridayOpening) % DAY).not.toBe(0);
    expect((await handle.query<DeploymentView>('state')).interruptions[0]!.opensAt).toBe(new Date(monday).toISOString());
    const done = await finalView(handle);
    expect(done.status).toBe('Succeeded');
    expect(localParts(Date.parse(done.interruptions[0]!.decidedAt!), timezone)).toMatchObject({ weekday: 'Mon', hour: 9, minute: 0 });
  });

  it('with onClosed: fail, fails at the gate instead of waiting, saying when it would open', async () => {
    const now = await environment().currentTimeMs();
    const today = localParts(now, 'UTC').weekday;
    const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].filter((day) => day !== today);
    const handle = await start(gated({ window: { days, from: '00:00', to: '24:00', timezone: 'UTC' }, onClosed: 'fail' }), (view) => view.status === 'Failed');
    const done = await finalView(handle);
    expect(done.status).toBe('Failed');
    expect(done.interruptions).toEqual([]);
    expect(done.steps.map((step) => step.status)).toEqual(['Failed', 'Skipped']);
    expect(done.steps[0]!.log).toContain('onClosed: fail');
    expect(done.steps[0]!.policy!.window).toMatchObject({ state: 'Failed', reason: expect.stringContaining('Outside the deployment window') });
  });
});

describe('while a policy gate waits for its window', () => {
  it('continues as new when its history grows, waiting on at the same Window, and still opens by itself', async () => {
    const now = await environment().currentTimeMs();
    const freeze = { from: new Date(now - HOUR).toISOString(), to: new Date(now + 3 * DAY).toISOString(), reason: 'Database migration' };
    const handle = await start(gated({ freezes: [freeze] }, { historyLimit: 40 }));
    const windowId = (await handle.query<DeploymentView>('state')).interruptions[0]!.id;
    const firstRun = (await handle.describe()).runId;
    // Refused signals (nobody takes a window), a batch an hour, grow the history past its limit.
    for (let hour = 0; hour < 4; hour++) {
      await Promise.all(Array.from({ length: 6 }, () => handle.signal(takeResponsibilitySignal, { user: jjones })));
      await environment().sleep(HOUR);
    }
    const refused = await untilView(handle, (view) => view.timeline.some((entry) => (entry.count ?? 1) >= 24), 'all 24 refusals');
    expect(refused.timeline).toEqual([expect.objectContaining({ user: 'jjones', result: 'refused', count: 24, reason: expect.stringContaining('NOT_AN_OPTION') })]);
    const described = await handle.describe();
    expect(described.runId).not.toBe(firstRun);
    const done = await finalView(handle);
    expect(done.status).toBe('Succeeded');
    expect(done.interruptions.map((interruption) => [interruption.id, interruption.state])).toEqual([[windowId, 'WindowOpened']]);
    expect(Date.parse(done.steps[1]!.startedAt!)).toBeGreaterThanOrEqual(now + 3 * DAY);
  }, 120_000);

  it('can be cancelled', async () => {
    const now = await environment().currentTimeMs();
    const handle = await start(gated({ freezes: [{ from: new Date(now - HOUR).toISOString(), to: new Date(now + DAY).toISOString(), reason: 'Freeze' }] }));
    await handle.cancel();
    const done = await finalView(handle);
    expect(done.status).toBe('Cancelled');
    expect(done.steps.map((step) => step.status)).toEqual(['Cancelled', 'Skipped']);
  });
});

describe('a policy gate and the blockConcurrentDeployments queue', () => {
  it('a deployment that fails at its gate (onClosed: fail) joins no queue: it fails at once, even while another holds it', async () => {
    const gate = gateWorkflowId(`queue-${Math.random().toString(36).slice(2, 8)}`, 'production');
    const blocking = '- { name: Sign off, type: manual, responsibleTeams: [release-managers], blockConcurrentDeployments: true }\n';
    const holder = await start({ ...deploymentInput(blocking), gate });
    const now = await environment().currentTimeMs();
    const freeze = { from: new Date(now - HOUR).toISOString(), to: new Date(now + DAY).toISOString(), reason: 'Freeze' };
    const base = deploymentInput(blocking);
    const gatePolicy: PolicyStep = { name: GATE, type: 'policy', policy: PolicySchema.parse({ environments: ['production'], freezes: [freeze], onClosed: 'fail' }) };
    const failing = await environment().client.workflow.start('deployment', { args: [{ ...base, gate, process: [gatePolicy, ...base.process] }], taskQueue, workflowId: base.id });
    const done = await finalView(failing);
    expect(done.status).toBe('Failed');
    expect(done.queuedBehind ?? null).toBeNull();
    expect(done.timeline.filter((entry) => entry.action === 'queue')).toEqual([]);
    expect(done.steps.map((step) => step.status)).toEqual(['Failed', 'Skipped']);
    await holder.cancel();
  });
});

describe('a policy gate with freezes', () => {
  it('inside a freeze, waits until it ends, giving its reason', async () => {
    const now = await environment().currentTimeMs();
    const freeze = { from: new Date(now - HOUR).toISOString(), to: new Date(now + 2 * DAY).toISOString(), reason: 'Database migration' };
    const handle = await start(gated({ freezes: [freeze] }));
    const view = await handle.query<DeploymentView>('state');
    expect(view.interruptions[0]).toMatchObject({ kind: 'Window', reason: 'Database migration', opensAt: new Date(now + 2 * DAY).toISOString() });
    const done = await finalView(handle);
    expect(done.status).toBe('Succeeded');
    expect(Date.parse(done.steps[1]!.startedAt!)).toBeGreaterThanOrEqual(now + 2 * DAY);
  });

  it('a yearly freeze that began last year holds again this year', async () => {
    const now = await environment().currentTimeMs();
    const lastYear = (ms: number) => {
      const date = new Date(ms);
      date.setUTCFullYear(date.getUTCFullYear() - 1);
      return date.toISOString();
    };
    const freeze = { from: lastYear(now - HOUR), to: lastYear(now + DAY), reason: 'Year-end freeze', every: 'year' };
    const handle = await start(gated({ freezes: [freeze] }));
    expect((await handle.query<DeploymentView>('state')).interruptions[0]).toMatchObject({ kind: 'Window', reason: 'Year-end freeze', opensAt: new Date(now + DAY).toISOString() });
    expect((await finalView(handle)).status).toBe('Succeeded');
  });
});

describe('break-glass and approvals', () => {
  it('a member of the override teams passes the window with a reason; it is listed for review', async () => {
    const now = await environment().currentTimeMs();
    const freeze = { from: new Date(now - HOUR).toISOString(), to: new Date(now + 30 * DAY).toISOString(), reason: 'Year-end freeze' };
    const handle = await start(gated({ freezes: [freeze], override: { teams: ['sre-leads'] } }));
    const interruptionId = (await handle.query<DeploymentView>('state')).interruptions[0]!.id;
    const override = (user: Actor, reason: string) => handle.executeUpdate(overrideUpdate, { args: [{ user, interruptionId, reason }] });

    expect(await refusedWith(override(jjones, 'Payments are down, this is the fix'))).toBe('NOT_OVERRIDER');
    expect(await refusedWith(override(sre, 'urgent'))).toBe('BAD_REQUEST');
    const overridden = await override(sre, 'Payments are down; this release is the fix (INC-4711).');
    expect(overridden).toMatchObject({ state: 'Overridden', override: { user: { username: 'sam' }, reason: 'Payments are down; this release is the fix (INC-4711).' } });

    const done = await finalView(handle);
    expect(done.status).toBe('Succeeded');
    expect(done.steps[0]!.policy!.window.state).toBe('Overridden');
    expect(done.timeline.filter((entry) => entry.action === 'Overridden').map((entry) => [entry.user, entry.result])).toEqual([
      ['jjones', 'refused'],
      ['sam', 'refused'],
      ['sam', 'accepted'],
    ]);
    const list = await environment().client.workflow.getHandle(overridesWorkflowId(taskQueue)).query(overridesQuery, { pageSize: 10 });
    expect(list.overrides[0]).toMatchObject({ deploymentId: handle.workflowId, interruptionId, part: 'window', user: { username: 'sam' }, reviewed: null, step: GATE });
  });

  it('the approvals part waits for each of its rules', async () => {
    const handle = await start(gated({ approvals: { rules: [{ teams: ['release-managers'], count: 1 }, { teams: ['dba'], count: 1 }] } }));
    let view = await handle.query<DeploymentView>('state');
    expect(view.steps[0]!.policy).toMatchObject({ window: { state: 'NotRequired' }, approvals: { state: 'Waiting', interruption: view.interruptions[0]!.id } });
    expect(view.interruptions[0]).toMatchObject({ kind: 'Approval', rules: [{ met: false }, { met: false }] });
    for (const user of [jjones, otto]) {
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user }] });
      await handle.executeUpdate(proceedUpdate, { args: [{ user }] });
    }
    view = await finalView(handle);
    expect(view.status).toBe('Succeeded');
    expect(view.steps[0]!.policy!.approvals.state).toBe('Passed');
    expect(view.interruptions[0]!.rules!.map((rule) => rule.approvals.map((approval) => approval.user.username))).toEqual([['jjones'], ['otto']]);
  });
});

describe('a lifecycle release', () => {
  it('a stage deployment waits at its environment\'s policy gate before its first task, and the release goes on when it opens', async () => {
    const now = await environment().currentTimeMs();
    const config = lifecycleConfig(
      `
shipyard:
${seedShipyard()}
tasks:
  je-deployment: { type: script, run: 'echo "deploying #{Release} to #{Stage}"' }
  je-test: { type: script, run: 'echo "testing #{Release} in #{Stage}"' }
`,
      `policies:\n  - { environments: [qa], freezes: [{ from: ${new Date(now - HOUR).toISOString()}, to: ${new Date(now + DAY).toISOString()}, reason: QA environment rebuild }] }\n`,
    );
    const input = releaseInput(config);
    const release = await environment().client.workflow.start('release', { args: [input], taskQueue, workflowId: input.id });
    try {
      const qaId = await until(() => release.query(releaseStateQuery).then((view) => view.stages[0]!.sequences[0]!.deploymentId).catch(() => null), Boolean, 'qa to start', { everyMs: 50 });
      const qa = environment().client.workflow.getHandle(qaId!);
      const waiting = await untilView(qa, (view) => view.status === 'Waiting', 'qa to wait at its gate');
      expect(waiting.steps.map((step) => [step.name, step.type, step.status])).toEqual([
        ['Policy: qa', 'policy', 'Waiting'],
        ['je-deployment', 'script', 'Pending'],
        ['je-test', 'script', 'Pending'],
      ]);
      expect(waiting.interruptions[0]).toMatchObject({ kind: 'Window', reason: 'QA environment rebuild' });
      const done = await finalView(qa);
      expect(done.status).toBe('Succeeded');
      expect(done.result).toBe('pass');
      const view = await until(() => release.query(releaseStateQuery), (v) => v.stages[0]!.sequences[0]!.status === 'Succeeded', 'the release to see qa succeed', { everyMs: 50 });
      expect(view.stages[0]!.sequences[0]).toMatchObject({ status: 'Succeeded', result: 'pass' });
    } finally {
      await release.cancel();
    }
  });
});


describe('approve now, deploy later (runAt)', () => {
  const manual = '- { name: Sign off, type: manual, responsibleTeams: [release-managers] }\n- { name: Deploy, type: script, run: echo deployed }\n';

  async function proceededLater(runAt: number): Promise<WorkflowHandle> {
    const handle = await start(deploymentInput(manual));
    await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones }] });
    const proceeded = await handle.executeUpdate(proceedUpdate, { args: [{ user: jjones, notes: 'after the campaign', runAt: new Date(runAt).toISOString() }] });
    expect(proceeded).toMatchObject({ state: 'Proceeded', runAt: new Date(runAt).toISOString() });
    return handle;
  }

  it('waits on a durable timer, showing scheduledFor, and goes on at that time', async () => {
    const runAt = (await environment().currentTimeMs()) + 2 * DAY;
    const handle = await proceededLater(runAt);
    const scheduled = await untilView(handle, (view) => view.scheduledFor !== undefined, 'the deployment to be scheduled');
    expect(scheduled).toMatchObject({ status: 'Waiting', scheduledFor: new Date(runAt).toISOString() });
    expect(scheduled.steps.map((step) => step.status)).toEqual(['Waiting', 'Pending']);
    expect(scheduled.timeline.at(-1)).toMatchObject({ action: 'proceed', result: 'accepted', reason: `to go on at ${new Date(runAt).toISOString()}` });
    const done = await finalView(handle);
    expect(done.status).toBe('Succeeded');
    expect(done.scheduledFor).toBeUndefined();
    expect(Date.parse(done.steps[1]!.startedAt!)).toBeGreaterThanOrEqual(runAt);
    expect(Date.parse(done.steps[1]!.startedAt!)).toBeLessThan(runAt + HOUR);
  });

  it('continues as new while it waits for its time when its history grows, and still goes on then', async () => {
    const handle = await start(deploymentInput(manual, { historyLimit: 60 }));
    await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones }] });
    const runAt = (await environment().currentTimeMs()) + 2 * DAY;
    await handle.executeUpdate(proceedUpdate, { args: [{ user: jjones, runAt: new Date(runAt).toISOString() }] });
    await untilView(handle, (view) => view.scheduledFor !== undefined, 'the deployment to be scheduled');
    const firstRun = (await handle.describe()).runId;
    // Refused signals (nothing is open to take), a batch an hour, grow the history past its limit.
    for (let hour = 0; hour < 3; hour++) {
      await Promise.all(Array.from({ length: 8 }, () => handle.signal(takeResponsibilitySignal, { user: jjones })));
      await environment().sleep(HOUR);
    }
    const waiting = await untilView(handle, (view) => view.timeline.some((entry) => (entry.count ?? 1) >= 24), 'all 24 refusals');
    expect(waiting).toMatchObject({ status: 'Waiting', scheduledFor: new Date(runAt).toISOString() });
    expect((await handle.describe()).runId).not.toBe(firstRun);
    const done = await finalView(handle);
    expect(done.status).toBe('Succeeded');
    expect(done.interruptions.map((interruption) => interruption.state)).toEqual(['Proceeded']);
    expect(Date.parse(done.steps[1]!.startedAt!)).toBeGreaterThanOrEqual(runAt);
  }, 120_000);

  it('can be cancelled while it waits for its time', async () => {
    const handle = await proceededLater((await environment().currentTimeMs()) + DAY);
    await untilView(handle, (view) => view.scheduledFor !== undefined, 'the deployment to be scheduled');
    await handle.cancel();
    const done = await finalView(handle);
    expect(done.status).toBe('Cancelled');
    expect(done.scheduledFor).toBeUndefined();
    expect(done.steps.map((step) => step.status)).toEqual(['Cancelled', 'Skipped']);
  });

  it('refuses runAt with another decision than proceed, and more than 30 days ahead, changing nothing', async () => {
    const handle = await start(deploymentInput(manual));
    await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones }] });
    const now = await environment().currentTimeMs();
    await refusal(handle.executeUpdate(abortUpdate, { args: [{ user: jjones, runAt: new Date(now + DAY).toISOString() }] }), 'INVALID_RUN_AT', 'proceed only');
    await refusal(handle.executeUpdate(proceedUpdate, { args: [{ user: jjones, runAt: new Date(now + 31 * DAY).toISOString() }] }), 'INVALID_RUN_AT', 'at most 30 days');
    const view = await handle.query<DeploymentView>('state');
    expect(view.interruptions[0]!.state).toBe('Assigned');
    expect(view.timeline.map((entry) => entry.action)).toEqual(['takeResponsibility']);
    await handle.cancel();
  });
});

describe('start-by (notAfter)', () => {
  it('a deployment whose policy approvals are not given by notAfter ends Expired, and nothing after the gate runs', async () => {
    const now = await environment().currentTimeMs();
    const notAfter = new Date(now + 6 * HOUR).toISOString();
    const handle = await start(gated({ approvals: { rules: [{ teams: ['release-managers'], count: 1 }] } }, { notAfter, createdAt: new Date(now).toISOString() }));
    expect((await handle.query<DeploymentView>('state')).notAfter).toBe(notAfter);
    const done = await finalView(handle);
    expect(done.status).toBe('Expired');
    expect(done.steps.map((step) => step.status)).toEqual(['Cancelled', 'Skipped']);
    expect(done.interruptions.map((interruption) => interruption.state)).toEqual(['Expired']);
    expect(done.timeline.at(-1)).toMatchObject({ user: 'system', action: 'expire', result: 'accepted', reason: expect.stringContaining(notAfter) });
    expect(Date.parse(done.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(notAfter));
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'DeploymentExpired' } });
  });

  it('once a step past its gates has run, notAfter no longer ends it', async () => {
    const now = await environment().currentTimeMs();
    const process = '- { name: Deploy, type: script, run: echo deployed }\n- { name: Smoke test sign-off, type: manual, responsibleTeams: [release-managers] }\n';
    const handle = await start(deploymentInput(process, { notAfter: new Date(now + HOUR).toISOString() }));
    await environment().sleep(2 * HOUR);
    const view = await handle.query<DeploymentView>('state');
    expect(view.status).toBe('Waiting');
    await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones }] });
    await handle.executeUpdate(proceedUpdate, { args: [{ user: jjones }] });
    expect((await finalView(handle)).status).toBe('Succeeded');
  });
});

/**
 * A release of hello-service to production behind `policy`, started as the API starts one (with its
 * search attributes, which a supersede signal's check reads), once it waits.
 */
async function startAsTheApiDoes(policy: Record<string, unknown>, release: string): Promise<{ handle: WorkflowHandle; view: DeploymentView }> {
  const input = gated(policy, { release, id: `hello-service:production:${release}:${Math.random().toString(36).slice(2, 10)}` });
  const handle = await environment().client.workflow.start('deployment', {
    args: [input],
    taskQueue,
    workflowId: input.id,
    typedSearchAttributes: [
      { key: searchAttributes.project, value: 'hello-service' },
      { key: searchAttributes.environment, value: 'production' },
    ],
  });
  return { handle, view: await untilView(handle, (view) => view.status === 'Waiting', `${release} to wait at its gate`) };
}

describe('supersede', () => {
  const SUPERSEDING = { approvals: { rules: [{ teams: ['release-managers'], count: 1 }] }, supersede: true };

  const startGated = async (release: string) => (await startAsTheApiDoes(SUPERSEDING, release)).handle;

  it('a newer deployment ends the older one waiting for approval as Superseded, linking it; a forged or older one does not', async () => {
    const older = await startGated('1.4.2');
    await environment().sleep(1_000);
    const newer = await startGated('1.4.3');

    // Nobody is believed for saying so: a deployment that does not exist, or one that is not newer.
    await older.signal(supersedeSignal, { deploymentId: 'hello-service:production:9.9.9:forged' });
    await newer.signal(supersedeSignal, { deploymentId: older.workflowId });
    for (const handle of [older, newer]) {
      const view = await untilView(handle, (v) => v.timeline.some((entry) => entry.action === 'supersede'), 'the refusal');
      expect(view.status).toBe('Waiting');
      expect(view.timeline).toEqual([expect.objectContaining({ action: 'supersede', result: 'refused', reason: expect.stringContaining('NOT_SUPERSEDED') })]);
    }

    await older.signal(supersedeSignal, { deploymentId: newer.workflowId });
    const done = await finalView(older);
    expect(done).toMatchObject({ status: 'Superseded', supersededBy: newer.workflowId });
    expect(done.steps.map((step) => step.status)).toEqual(['Cancelled', 'Skipped']);
    expect(done.interruptions.map((interruption) => interruption.state)).toEqual(['Superseded']);
    expect(done.timeline.at(-1)).toMatchObject({ action: 'supersede', result: 'accepted', reason: expect.stringContaining(newer.workflowId) });
    expect((await newer.query<DeploymentView>('state')).status).toBe('Waiting');
    await newer.cancel();
  });

  it('a deployment past its approvals is not superseded', async () => {
    const older = await startGated('1.5.0');
    await older.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones }] });
    await older.executeUpdate(proceedUpdate, { args: [{ user: jjones, runAt: new Date((await environment().currentTimeMs()) + DAY).toISOString() }] });
    await untilView(older, (view) => view.scheduledFor !== undefined, 'the older one to be scheduled');
    const newer = await startGated('1.5.1');
    await older.signal(supersedeSignal, { deploymentId: newer.workflowId });
    const refused = await untilView(older, (view) => view.timeline.some((entry) => entry.action === 'supersede'), 'the refusal');
    expect(refused.timeline.at(-1)).toMatchObject({ action: 'supersede', result: 'refused', reason: expect.stringContaining('NOT_WAITING') });
    expect((await finalView(older)).status).toBe('Succeeded');
    await newer.cancel();
  });
});

describe('holdQueueWhileWaiting', () => {
  it('without it a deployment waiting at its policy approvals holds no queue; with it, it holds its place and later ones queue behind', async () => {
    const blocking = '- { name: Sign off, type: manual, responsibleTeams: [release-managers], blockConcurrentDeployments: true }\n';
    const approvals = { approvals: { rules: [{ teams: ['dba'], count: 1 }] } };
    for (const hold of [false, true]) {
      const gate = gateWorkflowId(`hold-${Math.random().toString(36).slice(2, 8)}`, 'production');
      const base = deploymentInput(blocking);
      const policy: PolicyStep = { name: GATE, type: 'policy', policy: PolicySchema.parse({ environments: ['production'], ...approvals, holdQueueWhileWaiting: hold }) };
      const first = await start({ ...base, gate, process: [policy, ...base.process] });
      const second = await start({ ...deploymentInput(blocking), gate }, (view) => view.status === 'Waiting' || view.status === 'Queued');
      const view = await second.query<DeploymentView>('state');
      if (hold) expect(view).toMatchObject({ status: 'Queued', queuedBehind: first.workflowId });
      else expect(view.status).toBe('Waiting');
      await Promise.all([first.cancel(), second.cancel()]);
    }
  });
});

describe('the production policy of issue 22, end to end on the test server\'s clock', () => {
  const security: Actor = { id: 'users-600', username: 'sue', displayName: 'Sue Security', teams: ['security'], roles: ['deployer'] };
  const POLICY = {
    approvals: { rules: [{ teams: ['security'], count: 1 }, { teams: ['release-managers'], count: 1 }] },
    window: LONDON_WINDOW,
    supersede: true,
  };

  it('a Friday-evening trigger waits for Monday 09:00; a newer release supersedes it; the newer one opens by itself, then two people meet the two rules', async () => {
    const friday = next(await environment().currentTimeMs(), 'Europe/London', 'Fri', 18 * 60);
    await skipTo(friday);
    const startRelease = (release: string) => startAsTheApiDoes(POLICY, release);

    const older = await startRelease('2.0.0');
    const window = older.view.interruptions[0]!;
    expect(window).toMatchObject({ kind: 'Window', opensAt: new Date(next(friday, 'Europe/London', 'Mon', 9 * 60)).toISOString() });
    expect(window.instructions).toContain('Monday 09:00 Europe/London');

    const newer = await startRelease('2.0.1');
    await older.handle.signal(supersedeSignal, { deploymentId: newer.handle.workflowId });
    expect(await finalView(older.handle)).toMatchObject({ status: 'Superseded', supersededBy: newer.handle.workflowId });

    // Monday 09:00: the newer one's window opens by itself; its approvals wait for both rules.
    await skipTo(next(friday, 'Europe/London', 'Mon', 9 * 60) + 60_000);
    const approvals = await untilView(newer.handle, (view) => view.interruptions.some((i) => i.kind === 'Approval'), 'the approvals after the window');
    const approval = approvals.interruptions.find((i) => i.kind === 'Approval')!;
    expect(approvals.interruptions[0]!.state).toBe('WindowOpened');
    expect(approval.rules!.map((rule) => [rule.teams, rule.count, rule.met])).toEqual([[['security'], 1, false], [['release-managers'], 1, false]]);
    for (const user of [security, jjones]) {
      await newer.handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user }] });
      await newer.handle.executeUpdate(proceedUpdate, { args: [{ user, notes: 'ok' }] });
    }
    const done = await finalView(newer.handle);
    expect(done.status).toBe('Succeeded');
    const met = done.interruptions.find((i) => i.kind === 'Approval')!;
    expect(met.rules!.map((rule) => [rule.met, rule.approvals.map((a) => a.user.username)])).toEqual([[true, ['sue']], [true, ['jjones']]]);
    expect(localParts(Date.parse(done.steps[1]!.startedAt!), 'Europe/London')).toMatchObject({ weekday: 'Mon', hour: 9 });
  });
});
