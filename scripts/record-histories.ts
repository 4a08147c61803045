/**
 * Records the histories that `tests/workflows/replay.test.ts` replays on every run: the manual step's
 * proceed, abort and timeout paths, an abort followed by failure and always steps, guided failure,
 * reminders and escalation, a blocking step and its gate, three deployments queued behind one,
 * approval rules met in order, approver inputs, a policy gate that waits for its freeze to end and
 * then for its approval rules, a policy gate passed by break-glass, a proceed with runAt under a
 * trigger's notAfter, a deployment that expired, one superseded, one that holds its queue at a policy gate, a
 * lifecycle release with its stage deployments (and again with release notes, its production
 * deployment working out its context to decide), and a lifecycle deployment whose task its executor
 * answers from outside, run against a time-skipping Temporal test server.
 *
 *     npx tsx scripts/record-histories.ts [name …]
 *
 * With names, only those paths are recorded (a new shape added beside the old files).
 * Re-record only for a deliberate, versioned change of the workflow; otherwise a failing replay test
 * means the change would break deployments that are running now. Keep the old files when adding
 * new shapes: running deployments may have started under either.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import type proto from '@temporalio/proto';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities/create-activities.js';
import { EXAMPLE_CONFIG_PATH, loadConfig } from '../config/load.js';
import { findTestServer } from '../temporal/binaries.js';
import {
  createTimeSkippingEnv,
  deploymentInput,
  finalView,
  lifecycleConfig,
  people,
  releaseInput,
  seedShipyard,
  TRADERS_STEP,
  traderProcess,
  untilView,
} from '../tests/support/fixtures.js';
import { until as poll } from '../tests/support/poll.js';
import { actorOfUser } from '../service/permissions.js';
import { gateWorkflowId } from '../core/ids.js';
import { PolicySchema } from '../config/policy-schema.js';
import {
  abortUpdate,
  overrideUpdate,
  cancelRequestSignal,
  type DeploymentInput,
  proceedSignal,
  ignoreUpdate,
  proceedUpdate,
  releaseStateQuery,
  retryUpdate,
  searchAttributes,
  stateQuery,
  supersedeSignal,
  takeResponsibilitySignal,
  takeResponsibilityUpdate,
  taskEventUpdate,
} from '../workflows/messages.js';
import { bundleWorkflows } from '../worker.js';

/** Where the recorded histories live; the replay test replays every `.json` file in it. */
export const HISTORIES_DIR = fileURLToPath(new URL('../tests/histories/', import.meta.url));

type History = proto.temporal.api.history.v1.IHistory;

// A history file is the proto3 JSON that `temporal workflow show --output json` and Temporal Web
// export. (These helpers need one copy of protobufjs 8 in node_modules: package.json pins it.)
export function historyToJson(history: History): string {
  return `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`;
}

export function readHistory(path: string): History {
  return historyFromJSON(JSON.parse(readFileSync(path, 'utf8')));
}

const taskQueue = 'record-histories';
const STEP = TRADERS_STEP;

const { jjones, mlee, outsider: otto } = people;
const until = (handle: WorkflowHandle, ready: Parameters<typeof untilView>[1]) => untilView(handle, ready, 'the expected state', 30_000);

/** docs/configuration.md's example process, without the http-check (which would need a live site). */
function input(name: string, manual = ''): DeploymentInput {
  return deploymentInput(traderProcess({ deploy: 'echo "#{Greeting} #{Project} #{Release} to #{Environment}"', manual }), { id: `hello-service:production:1.4.2:${name}` });
}

type Path = (handle: WorkflowHandle, env: TestWorkflowEnvironment) => Promise<void>;

/** The roster a deployment started through the API carries (docs/manual-steps.md). */
const roster = [jjones, mlee, otto, people.viewer];

/** The gate and the later deployments of `deployment-blocking-queue`. */
const QUEUE_GATE = gateWorkflowId('hello-service', 'production');
const QUEUE_SECOND = { ...input('history-queue-second', 'blockConcurrentDeployments: true'), gate: QUEUE_GATE };
const QUEUE_THIRD = { ...input('history-queue-third', 'blockConcurrentDeployments: true'), gate: QUEUE_GATE };

/** A deployment of one script step behind the gate of an environment policy (docs/change-control.md), as the server starts it. */
function gated(name: string, policy: Record<string, unknown>): DeploymentInput {
  const base = deploymentInput(`- { name: Deploy, type: script, run: 'echo "deploying #{Release}"' }\n`, { id: `hello-service:production:1.4.2:${name}`, roster });
  return { ...base, process: [{ name: 'Policy: production', type: 'policy', policy: PolicySchema.parse({ environments: ['production'], ...policy }) }, ...base.process] };
}
const HOUR = 3_600_000;
const sre = { id: 'users-500', username: 'sam', displayName: 'Sam SRE', teams: ['sre-leads'], roles: ['deployer' as const] };

/** Each path exercises what running deployments do: updates, signals, refusals, the durable timer. */
const paths: Record<string, { input: DeploymentInput; drive: Path; firstRun?: boolean; also?: Record<string, (handle: WorkflowHandle) => string> }> = {
  'deployment-proceed': {
    input: input('history-proceed'),
    async drive(handle) {
      await handle.executeUpdate(proceedUpdate, { args: [{ user: jjones }] }).catch(() => undefined); // NOT_TAKEN
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones }] });
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: mlee }] }).catch(() => undefined); // HELD_BY_OTHER
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: mlee, takeOver: true }] });
      await handle.executeUpdate(proceedUpdate, {
        args: [{ user: mlee, notes: 'Checked with Rick, got the all-clear; Michelle is out at a meeting.' }],
      });
    },
  },
  'deployment-abort': {
    input: input('history-abort'),
    async drive(handle) {
      await handle.signal(takeResponsibilitySignal, { user: otto }); // refused: not in the team
      await handle.signal(takeResponsibilitySignal, { user: jjones });
      await until(handle, (view) => view.interruptions[0]?.state === 'Assigned');
      await handle.executeUpdate(abortUpdate, { args: [{ user: jjones, notes: 'Trading desk says no.' }] });
    },
  },
  'deployment-signals-roster': {
    input: { ...input('history-signals-roster'), roster },
    async drive(handle) {
      // A viewer claiming to be an admin, someone the roster does not know, a malformed cancelRequest:
      // each refused and recorded. Then Jamie, by signal, with her teams from the roster.
      await handle.signal(takeResponsibilitySignal, { user: { ...people.viewer, roles: ['admin'] } });
      await handle.signal(takeResponsibilitySignal, { user: { id: 'users-999', username: 'mallory', displayName: 'M', teams: [], roles: ['admin'] } });
      await handle.signal(cancelRequestSignal, undefined as never);
      await handle.signal(takeResponsibilitySignal, { user: { ...jjones, teams: [] } });
      await until(handle, (view) => view.interruptions[0]?.state === 'Assigned');
      await handle.signal(proceedSignal, { user: jjones, notes: 'By signal' });
    },
  },
  'deployment-continued': {
    // Continues as new while it waits: the first run ends so, the last one resumes and decides.
    input: { ...input('history-continued', 'timeout: 720h'), roster, historyLimit: 40 },
    firstRun: true,
    async drive(handle) {
      for (let i = 0; i < 30; i++) await handle.signal(takeResponsibilitySignal, { user: otto });
      await until(handle, (view) => (view.timeline[0]?.count ?? 0) >= 30);
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones }] });
      await handle.executeUpdate(proceedUpdate, { args: [{ user: jjones, notes: 'After a long wait' }] });
    },
  },
  'deployment-timeout': {
    input: input('history-timeout', 'timeout: 72h\nonTimeout: abort'),
    async drive(handle) {
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones }] });
      // Nobody decides: awaiting the result lets the test server skip the 72 hours.
    },
  },
  'deployment-remind-escalate': {
    // Reminders every 4 hours, an escalation after 12 (each a notification), then the escalated team decides.
    input: {
      ...input('history-remind', 'remind: { every: 4h, escalateAfter: 12h, escalateTo: [dba] }'),
      roster,
      notifications: [{ events: ['interruption.*', 'deployment.finished'], channels: ['ops-hook'] }],
    },
    async drive(handle, env) {
      await env.sleep('13h');
      await until(handle, (view) => view.interruptions[0]?.escalated === true);
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: otto }] });
      await handle.executeUpdate(proceedUpdate, { args: [{ user: otto, notes: 'Covered for release managers' }] });
    },
  },
  'deployment-abort-failure-steps': {
    // Aborted at the manual step: its failure and always steps run while the status stays Running
    // (outcome Aborted); only after the last one does it end Aborted (patch status-after-last-step).
    input: deploymentInput(`
- { name: Deploy, type: script, run: 'echo "deploying #{Release}"' }
- { name: ${STEP}, type: manual, responsibleTeams: [release-managers] }
- { name: Record sign-off, type: script, run: 'echo never' }
- { name: Tell the desk, type: script, runCondition: failure, run: 'echo "#{Release} was stopped: #{Action[${STEP}].Output.Manual.Notes}"' }
- { name: Clean up, type: script, runCondition: always, run: 'echo cleaned' }
`, { id: 'hello-service:production:1.4.2:history-abort-failure-steps' }),
    async drive(handle) {
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones }] });
      await handle.executeUpdate(abortUpdate, { args: [{ user: jjones, notes: 'Trading desk says no.' }] });
    },
  },
  'deployment-guided-retry': {
    // A failing script under guided failure: a person retries it, it fails again, and they ignore it.
    input: deploymentInput(`
- { name: Deploy, type: script, guidedFailure: true, run: 'echo "the database is not reachable"; exit 3' }
`, { id: 'hello-service:production:1.4.2:history-guided' }),
    async drive(handle) {
      const view = await handle.query(stateQuery);
      const id = view.interruptions[0]!.id;
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones, interruptionId: id }] });
      await handle.executeUpdate(retryUpdate, { args: [{ user: jjones, interruptionId: id, notes: 'once more' }] });
      await until(handle, (v) => v.interruptions.length === 2 && v.status === 'Waiting');
      const again = (await handle.query(stateQuery)).interruptions[1]!.id;
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones, interruptionId: again }] });
      await handle.executeUpdate(ignoreUpdate, { args: [{ user: jjones, interruptionId: again, notes: 'known flake' }] });
    },
  },
  'deployment-blocking': {
    // Waits at a blocking step; a second deployment asks the gate meanwhile and is queued behind it.
    input: { ...input('history-blocking', 'blockConcurrentDeployments: true'), gate: gateWorkflowId('hello-service', 'production') },
    also: { 'gate': () => gateWorkflowId('hello-service', 'production') },
    async drive(handle, env) {
      const second = { ...input('history-blocking-second', 'blockConcurrentDeployments: true'), gate: gateWorkflowId('hello-service', 'production') };
      const queued = await env.client.workflow.start('deployment', { args: [second], taskQueue, workflowId: second.id });
      await until(queued, (view) => view.status === 'Queued');
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones }] });
      await handle.executeUpdate(proceedUpdate, { args: [{ user: jjones, notes: 'Go' }] });
      await until(queued, (view) => view.status === 'Waiting');
      await queued.executeUpdate(takeResponsibilityUpdate, { args: [{ user: mlee }] });
      await queued.executeUpdate(proceedUpdate, { args: [{ user: mlee }] });
      await finalView(queued);
    },
  },
  'deployment-blocking-queue': {
    // Three deployments behind one blocking step go through it one at a time, in trigger order: the
    // gate admits the second alone when the first is decided, the third once the second is (patch
    // gate-one-at-a-time). Recorded: the first, the third (queued behind each in turn) and the gate.
    input: { ...input('history-queue-first', 'blockConcurrentDeployments: true'), gate: QUEUE_GATE },
    also: { 'third': () => QUEUE_THIRD.id, 'gate': () => QUEUE_GATE },
    async drive(handle, env) {
      const start = (next: DeploymentInput) => env.client.workflow.start('deployment', { args: [next], taskQueue, workflowId: next.id });
      const second = await start(QUEUE_SECOND);
      await until(second, (view) => view.status === 'Queued');
      const third = await start(QUEUE_THIRD);
      await until(third, (view) => view.status === 'Queued');
      for (const [current, user] of [[handle, jjones], [second, mlee], [third, jjones]] as const) {
        await until(current, (view) => view.status === 'Waiting');
        await current.executeUpdate(takeResponsibilityUpdate, { args: [{ user }] });
        await current.executeUpdate(proceedUpdate, { args: [{ user, notes: 'Go' }] });
        await finalView(current);
      }
    },
  },
  'deployment-approval-rules': {
    // Two rules, in order (patch approval-rules): the dba rule refused before its turn, by update and
    // signal; a release manager meets the first, a second one is refused (met), the dba member the last.
    input: deploymentInput(`
- { name: Deploy, type: script, run: 'echo "deploying #{Release}"' }
- name: ${STEP}
  type: manual
  rules: [{ teams: [release-managers], count: 1 }, { teams: [dba], count: 1 }]
  ordered: true
- { name: Record sign-off, type: script, run: 'echo "#{Action[${STEP}].Output.Manual.Approvers}"' }
`, { id: 'hello-service:production:1.4.2:history-approval-rules', roster }),
    async drive(handle) {
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: otto }] }).catch(() => undefined); // NOT_YOUR_TURN
      await handle.signal(takeResponsibilitySignal, { user: otto }); // refused: not its turn
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones }] });
      await handle.executeUpdate(proceedUpdate, { args: [{ user: jjones, notes: 'desk told' }] });
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: mlee }] }).catch(() => undefined); // RULE_ALREADY_MET
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: otto }] });
      await handle.executeUpdate(proceedUpdate, { args: [{ user: otto, notes: 'no migrations pending' }] });
    },
  },
  'deployment-policy-freeze-approvals': {
    // A policy gate (patch environment-policies) inside a freeze: a Window on its durable timer, which
    // opens by itself; then its two approval rules, met by two people.
    input: gated('history-policy-freeze-approvals', {
      freezes: [{ from: new Date(Date.now() - HOUR).toISOString(), to: new Date(Date.now() + 48 * HOUR).toISOString(), reason: 'Database migration' }],
      approvals: { rules: [{ teams: ['release-managers'], count: 1 }, { teams: ['dba'], count: 1 }] },
    }),
    async drive(handle, env) {
      await env.sleep(49 * HOUR);
      await until(handle, (view) => view.interruptions.some((interruption) => interruption.kind === 'Approval'));
      for (const user of [jjones, otto]) {
        await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user }] });
        await handle.executeUpdate(proceedUpdate, { args: [{ user, notes: 'Go' }] });
      }
    },
  },
  'deployment-policy-override': {
    // A policy gate (patch environment-policies) inside a freeze, passed by break-glass: refused for
    // someone outside its override teams, then accepted with a reason and listed for review.
    input: gated('history-policy-override', {
      // Long enough for whatever the test server's clock says when it runs.
      freezes: [{ from: '2020-01-01T00:00:00Z', to: '2099-01-01T00:00:00Z', reason: 'Platform migration' }],
      override: { teams: ['sre-leads'] },
    }),
    async drive(handle) {
      const interruptionId = (await handle.query(stateQuery)).interruptions[0]!.id;
      await handle.executeUpdate(overrideUpdate, { args: [{ user: jjones, interruptionId, reason: 'Not mine to override, but trying' }] }).catch(() => undefined); // NOT_OVERRIDER
      await handle.executeUpdate(overrideUpdate, { args: [{ user: sre, interruptionId, reason: 'Payments are down; this release is the fix (INC-4711).' }] });
    },
  },
  'deployment-approver-inputs': {
    // A manual step that asks for inputs (patch approval-rules): a bad signal recorded as refused, a bad
    // update refused by the validator, then the proceed whose inputs become outputs.
    input: deploymentInput(`
- name: ${STEP}
  type: manual
  responsibleTeams: [release-managers]
  inputs:
    - { name: risk, type: choice, options: [low, high], required: true }
    - { name: ticket, type: text, pattern: 'CHG-[0-9]+' }
    - { name: backupTaken, type: boolean }
- { name: Record sign-off, type: script, run: 'echo "#{Action[${STEP}].Output.Manual.Input.risk} #{Octopus.Action[${STEP}].Output.Manual.Input.ticket}"' }
`, { id: 'hello-service:production:1.4.2:history-approver-inputs', roster }),
    async drive(handle) {
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones }] });
      await handle.signal(proceedSignal, { user: jjones, inputs: { risk: 'none' } }); // refused: not an option
      await until(handle, (view) => view.timeline.some((entry) => entry.result === 'refused'));
      await handle.executeUpdate(proceedUpdate, { args: [{ user: jjones, inputs: { ticket: 'JIRA-1' } }] }).catch(() => undefined); // the validator refuses it
      await handle.executeUpdate(proceedUpdate, { args: [{ user: jjones, notes: 'Go', inputs: { risk: 'low', ticket: 'CHG-42', backupTaken: true } }] });
    },
  },
  'deployment-run-at-not-after': {
    // A trigger with notAfter (patch not-after), a proceed with runAt (patch run-at): it waits for its
    // time, goes on past its gates before notAfter, and the start-by timer changes nothing.
    input: deploymentInput(`- { name: ${STEP}, type: manual, responsibleTeams: [release-managers] }\n- { name: Deploy, type: script, run: 'echo "deploying #{Release}"' }\n`, {
      id: 'hello-service:production:1.4.2:history-run-at-not-after',
      roster,
      notAfter: new Date(Date.now() + 72 * HOUR).toISOString(),
    }),
    async drive(handle, env) {
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones }] });
      await handle.executeUpdate(proceedUpdate, { args: [{ user: jjones, runAt: new Date((await env.currentTimeMs()) + 40 * 24 * HOUR).toISOString() }] }).catch(() => undefined); // INVALID_RUN_AT
      await handle.executeUpdate(proceedUpdate, { args: [{ user: jjones, notes: 'After the campaign', runAt: new Date((await env.currentTimeMs()) + 24 * HOUR).toISOString() }] });
      await until(handle, (view) => view.scheduledFor !== undefined);
      await env.sleep(25 * HOUR);
    },
  },
  'deployment-run-at-continued': {
    // Continues as new while a proceed with runAt waits for its time (refused signals grow its
    // history): the first run ends so, the last one waits on and goes on at that time.
    input: { ...deploymentInput(`- { name: ${STEP}, type: manual, responsibleTeams: [release-managers] }\n- { name: Deploy, type: script, run: 'echo "deploying #{Release}"' }\n`, { id: 'hello-service:production:1.4.2:history-run-at-continued', roster }), historyLimit: 50 },
    firstRun: true,
    async drive(handle, env) {
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones }] });
      await handle.executeUpdate(proceedUpdate, { args: [{ user: jjones, runAt: new Date((await env.currentTimeMs()) + 24 * HOUR).toISOString() }] });
      await until(handle, (view) => view.scheduledFor !== undefined);
      for (let i = 0; i < 30; i++) await handle.signal(takeResponsibilitySignal, { user: otto });
      await until(handle, (view) => (view.timeline.find((entry) => entry.result === 'refused')?.count ?? 0) >= 30);
      await env.sleep(25 * HOUR);
    },
  },
  'deployment-expired': {
    // A policy gate's approvals not given by the trigger's notAfter (patch not-after): it ends Expired.
    input: { ...gated('history-expired', { approvals: { rules: [{ teams: ['release-managers'], count: 1 }] } }), notAfter: new Date(Date.now() + HOUR).toISOString() },
    async drive(_handle, env) {
      await env.sleep(2 * HOUR);
    },
  },
  'deployment-superseded': {
    // A policy with supersede (patch supersede): a forged signal refused, then the newer deployment's
    // signal, checked with Temporal, ends it Superseded.
    input: gated('history-superseded', { approvals: { rules: [{ teams: ['release-managers'], count: 1 }] }, supersede: true }),
    async drive(handle, env) {
      await env.sleep(1_000);
      const newerInput = gated('history-superseding', { approvals: { rules: [{ teams: ['release-managers'], count: 1 }] }, supersede: true });
      const newer = await env.client.workflow.start('deployment', {
        args: [{ ...newerInput, id: 'hello-service:production:1.4.3:history-superseding', release: '1.4.3' }],
        taskQueue,
        workflowId: 'hello-service:production:1.4.3:history-superseding',
        typedSearchAttributes: [
          { key: searchAttributes.project, value: 'hello-service' },
          { key: searchAttributes.environment, value: 'production' },
        ],
      });
      await until(newer, (view) => view.status === 'Waiting');
      await handle.signal(supersedeSignal, { deploymentId: 'hello-service:production:9.9.9:forged' });
      await until(handle, (view) => view.timeline.some((entry) => entry.action === 'supersede'));
      await handle.signal(supersedeSignal, { deploymentId: newer.workflowId });
      await handle.result().catch(() => undefined);
      await newer.cancel();
    },
  },
  'deployment-decision-context': {
    // A deployment triggered with release notes that asks people (patch decision-context): it works out
    // its context to decide as it starts, and its sign-off shows it.
    input: { ...input('history-decision-context'), releaseNotes: 'Fixes the checkout timeout (PAY-142).' },
    async drive(handle) {
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones }] });
      await handle.executeUpdate(proceedUpdate, { args: [{ user: jjones, notes: 'Read the notes' }] });
    },
  },
  'deployment-hold-queue': {
    // holdQueueWhileWaiting (a policy gate's approvals hold the blockConcurrentDeployments queue): the
    // gate entered before the policy gate, blocked while its approvals wait, then the manual step.
    input: {
      ...gated('history-hold-queue', { approvals: { rules: [{ teams: ['dba'], count: 1 }] }, holdQueueWhileWaiting: true }),
      gate: gateWorkflowId('hello-service-hold', 'production'),
    },
    async drive(handle) {
      await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: otto }] });
      await handle.executeUpdate(proceedUpdate, { args: [{ user: otto, notes: 'Schema checked' }] });
    },
  },
};

/** The seed's shipyard (docs/keptn.md) with both jobs as scripts: a release, promoted to production, approved there. */
const SEED = lifecycleConfig(`
shipyard:
${seedShipyard()}
tasks:
  je-deployment: { type: script, run: 'echo "deploying #{Release} to #{Stage}"' }
  je-test: { type: script, run: 'echo "testing #{Release} in #{Stage}"' }
`);

/** A release's shapes: the parent, and its qa and production deployments (approval first, then a task). */
async function recordRelease(env: TestWorkflowEnvironment, wanted: string[], name = 'release-approved', extra: Partial<ReturnType<typeof releaseInput>> = {}): Promise<void> {
  if (wanted.length > 0 && !wanted.includes(name)) return;
  const suffix = name === 'release-approved' ? '' : `-${name}`;
  const release = { ...releaseInput(SEED), id: `helloservice:0.1.1:history${suffix}`, keptnContext: `00000000-0000-4000-8000-00000000000${name === 'release-approved' ? 1 : 3}`, ...extra };
  const handle = await env.client.workflow.start('release', { args: [release], taskQueue, workflowId: release.id });
  const sequence = async (stage: string) => {
    const deploymentId = () => handle.query(releaseStateQuery).then((view) => view.stages.find((s) => s.name === stage)!.sequences[0]!.deploymentId);
    return env.client.workflow.getHandle((await poll(deploymentId, Boolean, `${stage} to start`, { everyMs: 50 }))!);
  };
  const production = await sequence('production');
  await until(production, (view) => view.status === 'Waiting');
  const approval = (await production.query(stateQuery)).interruptions[0]!.id;
  await production.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones, interruptionId: approval }] });
  await production.executeUpdate(proceedUpdate, { args: [{ user: jjones, interruptionId: approval, notes: 'Approved' }] });
  await handle.result();
  const qa = await sequence('qa');
  for (const [file, workflow] of [[name, handle], [`${name}-qa`, qa], [`${name}-production`, production]] as const) {
    const history = await workflow.fetchHistory();
    writeFileSync(`${HISTORIES_DIR}${file}.json`, historyToJson(history));
    console.log(`${file}.json: ${history.events?.length ?? 0} events`);
  }
}

/** A lifecycle deployment with a task done outside Interlock: its executor's `.started` and `.finished`, taken as updates. */
async function recordExternalTask(env: TestWorkflowEnvironment, wanted: string[]): Promise<void> {
  if (wanted.length > 0 && !wanted.includes('release-external')) return;
  const config = lifecycleConfig(`
shipyard:
${seedShipyard()}
tasks:
  je-deployment: { type: script, run: 'echo "deploying #{Release} to #{Stage}"' }
  je-test: { type: external, executors: [je-bot] }
`);
  const release = { ...releaseInput(config), id: 'helloservice:0.1.2:history', keptnContext: '00000000-0000-4000-8000-000000000002' };
  const handle = await env.client.workflow.start('release', { args: [release], taskQueue, workflowId: release.id });
  const qaId = await poll(() => handle.query(releaseStateQuery).then((view) => view.stages[0]!.sequences[0]!.deploymentId), Boolean, 'qa to start', { everyMs: 50 });
  const qa = env.client.workflow.getHandle(qaId!);
  await until(qa, (view) => view.steps[1]!.status === 'Running' && view.steps[1]!.triggeredId !== undefined);
  const triggeredid = (await qa.query(stateQuery)).steps[1]!.triggeredId!;
  const user = actorOfUser(config, config.users.find((candidate) => candidate.username === 'je-bot')!, { project: 'helloservice', environment: 'qa' });
  for (const kind of ['started', 'finished']) {
    const event = {
      specversion: '1.0' as const, id: `je-test-${kind}`, source: 'job-executor', type: `sh.keptn.event.je-test.${kind}`, time: new Date().toISOString(),
      datacontenttype: 'application/json' as const, shkeptncontext: release.keptnContext, triggeredid, data: { project: 'helloservice', stage: 'qa', result: 'pass', status: 'succeeded' },
    };
    await qa.executeUpdate(taskEventUpdate, { args: [{ user, event }] });
  }
  await qa.result();
  const history = await qa.fetchHistory();
  writeFileSync(`${HISTORIES_DIR}release-external-qa.json`, historyToJson(history));
  console.log(`release-external-qa.json: ${history.events?.length ?? 0} events`);
  await handle.cancel();
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  const [testServer, bundle] = await Promise.all([findTestServer(), bundleWorkflows()]);
  const env = await createTimeSkippingEnv(testServer);
  try {
    const namespace = env.namespace ?? 'default';
    const activities = {
      ...createActivities({ client: env.client, config: loadConfig(EXAMPLE_CONFIG_PATH), env: {}, publicUrl: 'http://interlock.test', signLink: () => 'link' }),
      // No receiver: the notifications these paths send are delivered nowhere, and say so.
      deliverNotification: async () => ({ log: 'ops-hook: POST https://hooks.example.com → 200 in 1 ms' }),
    };
    const worker = await Worker.create({ connection: env.nativeConnection, namespace, taskQueue, workflowBundle: bundle, activities });
    await worker.runUntil(async () => {
      mkdirSync(HISTORIES_DIR, { recursive: true });
      const wanted = process.argv.slice(2);
      for (const [name, { input, drive, firstRun, also }] of Object.entries(paths)) {
        if (wanted.length > 0 && !wanted.includes(name)) continue;
        const handle = await env.client.workflow.start('deployment', { args: [input], taskQueue, workflowId: input.id });
        await until(handle, (view) => view.status === 'Waiting');
        await drive(handle, env);
        const view = await finalView(handle);
        const history = await handle.fetchHistory();
        writeFileSync(`${HISTORIES_DIR}${name}.json`, historyToJson(history));
        console.log(`${name}.json: ${history.events?.length ?? 0} events, deployment ${view.status}`);
        for (const [suffix, id] of Object.entries(also ?? {})) {
          const other = env.client.workflow.getHandle(id(handle));
          await other.result().catch(() => undefined);
          const extra = await other.fetchHistory();
          writeFileSync(`${HISTORIES_DIR}${name}-${suffix}.json`, historyToJson(extra));
          console.log(`${name}-${suffix}.json: ${extra.events?.length ?? 0} events`);
        }
        if (firstRun) {
          const first = await env.client.workflow.getHandle(input.id, handle.firstExecutionRunId).fetchHistory();
          writeFileSync(`${HISTORIES_DIR}${name}-first-run.json`, historyToJson(first));
          console.log(`${name}-first-run.json: ${first.events?.length ?? 0} events`);
        }
      }
      await recordRelease(env, wanted);
      // The same with release notes (patch lifecycle-context): production works out its context to decide when it starts.
      await recordRelease(env, wanted, 'release-context', { releaseNotes: 'Podtato head gets a new hat.' });
      await recordExternalTask(env, wanted);
    });
  } finally {
    await env.teardown();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
