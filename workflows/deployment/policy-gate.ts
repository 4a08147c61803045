import { condition, proxyActivities, upsertMemo, uuid4 } from '@temporalio/workflow';
import type { Activities } from '../activity-contract.js';
import type { PolicyStep } from '../../config/schema.js';
import { type OverrideRecord, overridePartOf } from '../../core/break-glass.js';
import { describeOpening, windowState } from '../../core/deployment-windows.js';
import { describePerson, type Interruption, isOpen } from '../../core/interruptions.js';
import { maskInterruption, secretsOf } from '../../core/masking.js';
import { record } from '../../core/views.js';
import { OPEN_INTERRUPTION_MEMO, type StepView } from '../messages.js';
import { emit, emitInterruption, failureMessage, hasRoutes } from '../outbox.js';
import { type DeploymentState, finishStep, waitsForNobody } from './deployment-state.js';
import { pollCheck } from './check-step.js';
import { initialPolicyView } from './policy-view.js';
import type { StepOutcome } from './run-step.js';
import { publish, shouldContinueAsNew, waitForDecision, type WaitSpec, withRemaining } from './wait-for-decision.js';
import { withContext } from './wait-for-decision.js';

// Listing an override for review is retried for a day: the deployment goes on meanwhile, and ends only once it is listed (or given up on, which the timeline says).
const { recordOverride } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '24h',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '5m' },
  summary: 'list the override for review',
});

/**
 * A policy gate (docs/change-control.md): the environment's policy, enforced before the
 * deployment's first step whatever its process says. Its parts run in order — its checks,
 * then the window and freezes, then the approvals — and each part's state is in the step's view
 * (`policy`). Outside the window or inside a freeze it waits at a `Window` interruption on a durable
 * timer and goes on by itself when it opens (or fails, with `onClosed: fail`); its approvals are an
 * `Approval` interruption of the rules' teams. A member of the policy's override teams may pass the
 * window or the approvals with a reason (break-glass: `policy-override.ts`). After a continue-as-new
 * it picks up at the part it was at.
 */
export async function runPolicyGate(deployment: DeploymentState, step: PolicyStep, view: StepView): Promise<StepOutcome> {
  const parts = (view.policy ??= initialPolicyView(step.policy));
  const pending = (state: string) => state === 'Pending' || state === 'Waiting';
  if (pending(parts.checks.state)) {
    const checks = await passChecks(deployment, step, view);
    if (checks !== 'Passed') return checks;
  }
  if (pending(parts.window.state)) {
    const window = await passWindow(deployment, step, view);
    if (window !== 'Passed') return window;
  }
  if (pending(parts.approvals.state)) {
    const approvals = await passApprovals(deployment, step, view);
    if (approvals !== 'Passed') return approvals;
  }
  if (!view.log) log(view, 'Nothing to wait for.');
  finishStep(view, 'Succeeded', view.log);
  deployment.setStatus('Running', `Running: ${step.name} passed`);
  return 'Succeeded';
}

const log = (view: StepView, line: string) => {
  view.log = `${view.log}${line}\n`;
};

/**
 * The policy's checks, one after the other, each failing closed (docs/manual-steps.md#external-checks):
 * every one must pass; the first that fails, or cannot tell by its timeout, fails the deployment
 * here. No one can override a check.
 */
async function passChecks(deployment: DeploymentState, step: PolicyStep, view: StepView): Promise<'Passed' | 'Failed'> {
  const before = view.log;
  let finished = '';
  for (const check of step.policy.checks ?? []) {
    deployment.setStatus('Running', `Running: ${step.name}, check ${check.name}`);
    let answers = '';
    const verdict = await pollCheck(deployment, check, (text) => {
      answers = text;
      view.log = `${before}${finished}Check ${check.name}:\n${answers}`;
    });
    finished += `Check ${check.name} ${verdict === 'pass' ? 'passed' : 'failed'}:\n${answers}`;
    view.log = `${before}${finished}`;
    if (verdict === 'fail') {
      view.policy!.checks = { state: 'Failed' };
      log(view, `The check ${check.name} did not pass: the deployment fails here.`);
      finishStep(view, 'Failed', view.log);
      return 'Failed';
    }
  }
  view.policy!.checks = { state: 'Passed' };
  return 'Passed';
}

/** The window and freezes: open now, or a `Window` interruption until they open (re-checked then: a freeze may follow), or a failure with `onClosed: fail`. */
async function passWindow(deployment: DeploymentState, step: PolicyStep, view: StepView): Promise<'Passed' | 'Failed' | 'ContinueAsNew'> {
  const { policy } = step;
  const part = view.policy!.window;
  const { interruptions } = deployment.view;
  let index = deployment.resuming ? interruptions.findLastIndex((i) => i.step === step.name && i.kind === 'Window' && isOpen(i)) : -1;
  const current = () => interruptions[index]!;
  const zone = policy.window?.timezone;
  const when = (opensAt: string) => `${describeOpening(opensAt, zone, Date.now())} (${opensAt})`;
  for (;;) {
    const state = windowState(Date.now(), policy.window, policy.freezes ?? []);
    if (state.open) {
      if (index >= 0) {
        close(deployment, index, { ...current(), state: 'WindowOpened', decidedAt: now() });
        log(view, `Open at ${now()}: the deployment goes on.`);
      } else {
        log(view, `Open${part.window ? ` (window ${part.window})` : ''}; no freeze holds.`);
      }
      view.policy!.window = { state: 'Passed', ...(part.window ? { window: part.window } : {}), ...(index >= 0 ? { interruption: current().id } : {}) };
      return 'Passed';
    }
    if (policy.onClosed === 'fail') {
      view.policy!.window = { ...part, state: 'Failed', opensAt: state.opensAt, reason: state.reason };
      log(view, `Closed: ${state.reason}. It opens ${when(state.opensAt)}, but this policy says onClosed: fail, so the deployment fails here.`);
      finishStep(view, 'Failed', view.log);
      return 'Failed';
    }
    if (index < 0) {
      index = interruptions.push(withRemaining(deployment, withContext(deployment, windowInterruption(deployment, step, state)))) - 1;
      log(view, `Closed: ${state.reason}. Waiting until it opens, ${when(state.opensAt)}.`);
      emitInterruption(deployment, 'interruption.created', current());
    } else if (current().opensAt !== state.opensAt || current().reason !== state.reason) {
      interruptions[index] = { ...current(), opensAt: state.opensAt, reason: state.reason };
      log(view, `Still closed: ${state.reason}. Waiting until it opens, ${when(state.opensAt)}.`);
    }
    view.policy!.window = { ...part, state: 'Waiting', opensAt: state.opensAt, reason: state.reason, interruption: current().id };
    view.status = 'Waiting';
    publish(deployment, current());
    const settled = () => !isOpen(current()) || shouldContinueAsNew(deployment);
    const wait = Math.max(1, Date.parse(state.opensAt) - Date.now());
    if (await condition(settled, wait, { summary: `${step.name}: opens ${state.opensAt}` })) {
      if (isOpen(current())) return 'ContinueAsNew';
      // Break-glass: the handler ended it Overridden.
      close(deployment, index, current());
      overridden(deployment, step, view, current());
      return 'Passed';
    }
    // The timer fired: round again, to find it open (or closed by a freeze that follows).
  }
}

function windowInterruption(deployment: DeploymentState, step: PolicyStep, state: { opensAt: string; reason: string }): Interruption {
  const { input } = deployment;
  const zone = step.policy.window?.timezone;
  const opens = describeOpening(state.opensAt, zone, Date.now());
  return {
    id: uuid4(),
    kind: 'Window',
    step: step.name,
    state: 'Pending',
    instructions: `**${input.project.name} ${input.release}** may not be deployed to **${input.environment}** now: ${state.reason}. It goes on by itself when the gate opens, ${opens}.`,
    responsibleTeams: [],
    assignee: null,
    notes: null,
    createdAt: now(),
    decidedAt: null,
    timeoutAt: null,
    onTimeout: 'proceed',
    opensAt: state.opensAt,
    reason: state.reason,
    ...(zone ? { timezone: zone } : {}),
    overrideTeams: step.policy.override?.teams ?? [],
  };
}

/** A closed `Window` interruption: stored, no longer what the deployment waits for, and told to subscribers. */
function close(deployment: DeploymentState, index: number, interruption: Interruption): void {
  deployment.view.interruptions[index] = interruption;
  waitsForNobody();
  upsertMemo({ [OPEN_INTERRUPTION_MEMO]: null });
  emitInterruption(deployment, 'interruption.decided', interruption);
  deployment.view.steps.find((candidate) => candidate.name === interruption.step)!.status = 'Running';
  deployment.setStatus('Running', `Running: ${interruption.step}`);
}

/**
 * The approvals: an `Approval` interruption with the policy's approval rules (core/approval-rules.ts):
 * each rule `{teams, count}`, all to be met (`ordered`, `distinctPeople`, `preventSelfApproval` as
 * the policy says); the interruption shows each rule's progress and who may still approve.
 */
async function passApprovals(deployment: DeploymentState, step: PolicyStep, view: StepView): Promise<'Passed' | 'Aborted' | 'ContinueAsNew'> {
  const approvals = step.policy.approvals!;
  const { input } = deployment;
  const teams = [...new Set(approvals.rules.flatMap((rule) => rule.teams))];
  const rules = approvals.rules.map((rule) => `${rule.count} from ${rule.teams.join(' or ')}`).join(', ');
  if (view.policy!.approvals.state === 'Pending') log(view, `Approvals: ${rules}${approvals.ordered ? ', in this order' : ''}.`);
  const approvalStep: WaitSpec['step'] = {
    name: step.name,
    responsibleTeams: teams,
    onTimeout: 'abort',
    preventSelfApproval: approvals.preventSelfApproval,
    rules: approvals.rules,
    ordered: approvals.ordered,
    distinctPeople: approvals.distinctPeople,
    // Held while its approvals wait, if the policy says so; otherwise it holds no queue (docs/change-control.md).
    blockConcurrentDeployments: step.policy.holdQueueWhileWaiting,
  };
  // Its id is known before it opens, so the part names it while it waits (after a continue-as-new, the open one's).
  const open = deployment.resuming ? deployment.view.interruptions.findLast((i) => i.step === step.name && i.kind === 'Approval' && isOpen(i)) : undefined;
  const id = open?.id ?? uuid4();
  const spec: WaitSpec = {
    kind: 'Approval',
    id,
    step: approvalStep,
    instructions: `Approve **${input.project.name} ${input.release}** to **${input.environment}**? The environment's policy (${step.name}) requires it: ${rules}${approvals.ordered ? ', in this order' : ''}.`,
    overrideTeams: step.policy.override?.teams ?? [],
  };
  view.policy!.approvals = { state: 'Waiting', interruption: id };
  const outcome = await waitForDecision(deployment, spec, view);
  if (outcome.type === 'ContinueAsNew') return 'ContinueAsNew';
  const decided = outcome.interruption;
  const by = decided.assignee ? ` by ${describePerson(decided.assignee)}` : '';
  const notes = decided.notes ? ` Notes: ${decided.notes}` : '';
  if (decided.state === 'Overridden') {
    overridden(deployment, step, view, decided);
  } else if (decided.state === 'Proceeded') {
    view.policy!.approvals.state = 'Passed';
    log(view, `Approved${by}.${notes}`);
  } else {
    view.policy!.approvals.state = 'Failed';
    log(view, decided.state === 'TimedOut' ? 'Nobody approved in time.' : `Declined${by}.${notes}`);
    finishStep(view, 'Aborted', view.log);
    return 'Aborted';
  }
  view.status = 'Running';
  deployment.setStatus('Running', `Running: ${step.name}`);
  return 'Passed';
}

/**
 * A part passed by break-glass: its state, a line in the step's log, the override put on the list
 * of overrides to review (in the background, durably; the deployment ends only once it is there),
 * and `dev.interlock.policy.overridden` to subscribers.
 */
function overridden(deployment: DeploymentState, step: PolicyStep, view: StepView, interruption: Interruption): void {
  const override = interruption.override!;
  const part = overridePartOf(interruption);
  view.policy![part].state = 'Overridden';
  view.policy![part].interruption = interruption.id;
  log(view, `${part === 'window' ? 'Window' : 'Approvals'} overridden by ${describePerson(override.user)} at ${override.at}: ${override.reason}`);
  const { input } = deployment;
  const listed: OverrideRecord = {
    id: override.id,
    deploymentId: input.id,
    interruptionId: interruption.id,
    part,
    user: override.user,
    reason: override.reason,
    at: override.at,
    reviewed: null,
    project: input.project.id,
    environment: input.environment,
    release: input.release,
    step: step.name,
  };
  const tracked: Promise<unknown> = recordOverride(listed)
    .catch((error: unknown) => {
      record(deployment.view.timeline, {
        at: now(),
        user: 'system',
        action: 'Overridden',
        result: 'failed',
        reason: `the override could not be listed for review (${failureMessage(error)}); it is in this timeline and the audit log`,
        interruption: interruption.id,
      });
    })
    .finally(() => deployment.deliveries.delete(tracked));
  deployment.deliveries.add(tracked);
  const type = 'dev.interlock.policy.overridden';
  if (hasRoutes(deployment, type)) {
    const secrets = secretsOf(deployment.variables, input.sensitive);
    emit(deployment, type, {
      step: step.name,
      interruption: maskInterruption(interruption, secrets),
      override: { id: override.id, part, user: override.user, reason: override.reason, at: override.at },
    });
  }
}

const now = () => new Date().toISOString();
