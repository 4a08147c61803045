import { type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import { type ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { PolicySchema } from '../../config/policy-schema.js';
import type { PolicyStep } from '../../config/schema.js';
import { localParts, zonedInstant } from '../../core/deployment-windows.js';
import { gateWorkflowId, overridesWorkflowId } from '../../core/ids.js';
import {
  type Actor,
  type DeploymentInput,
  type DeploymentView,
  overridesQuery,
  overrideUpdate,
  proceedUpdate,
  releaseStateQuery,
  takeResponsibilitySignal,
  takeResponsibilityUpdate,
} from '../../workflows/messages.js';
import { lifecycleConfig, releaseInput, seedShipyard, untilView } from '../support/fixtures.js';
import { until } from '../support/poll.js';
import { deploymentInput, finalView, people, useTimeSkippingWorker } from '../support/workflows.js';

// docs/change-control.md, in the workflow on a time-skipping server: a policy gate before the first
// step waits outside its window or inside a freeze and goes on by itself when it opens (across a
// daylight-saving change too), fails with onClosed: fail, passes by break-glass, and asks its approval rules.

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

