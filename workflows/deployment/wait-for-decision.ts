import { condition, patched, proxyActivities, upsertMemo, upsertSearchAttributes, uuid4, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activity-contract.js';
import type { Remind } from '../../config/schema.js';
import { blockGate, unblockGate } from './gate-client.js';
import { describeOpening } from '../../core/deployment-windows.js';
import { escalatedTeamsOf, type Interruption, isOpen, type Person, teamsOf, timeOut } from '../../core/interruptions.js';
import { type ApprovalRule, remainingOf, requiredApprovalsRule, startRules } from '../../core/approval-rules.js';
import type { ApproverInput } from '../../core/approver-inputs.js';
import { maskInterruption, secretsOf } from '../../core/masking.js';
import { latestEvaluation, remainingFor } from '../../core/decision-context.js';
import { OPEN_INTERRUPTION_MEMO, searchAttributes, type StepView } from '../messages.js';
import type { InterruptionKind, OnTimeout } from '../../core/names.js';
import { emitInterruption } from '../outbox.js';
import { type DeploymentState, waitsForNobody } from './deployment-state.js';
import { record } from '../../core/views.js';

/** What a step that waits for people asks for (docs/manual-steps.md). */
export interface WaitSpec {
  kind: InterruptionKind;
  step: {
    name: string;
    responsibleTeams: string[];
    timeout?: number | undefined;
    onTimeout: OnTimeout;
    preventSelfApproval?: boolean | undefined;
    requiredApprovals?: number | undefined;
    /** Approval rules, all to be met (core/approval-rules.ts); with them, `responsibleTeams` may be empty. */
    rules?: ApprovalRule[] | undefined;
    ordered?: boolean | undefined;
    distinctPeople?: boolean | undefined;
    /** What whoever proceeds is asked (core/approver-inputs.ts). */
    inputs?: ApproverInput[] | undefined;
    remind?: Remind | undefined;
    blockConcurrentDeployments?: boolean | undefined;
  };
  /** With variables substituted. */
  instructions: string;
  /** The interruption's id: an approval's is its `approval.triggered` event's, so `approval.finished` finds it. */
  id?: string | undefined;
  /** A policy gate's approvals: the teams whose members may break glass on it (docs/change-control.md). */
  overrideTeams?: string[] | undefined;
}

export type WaitOutcome = { type: 'decided'; interruption: Interruption; timedOut: boolean } | { type: 'ContinueAsNew' };

/**
 * Opens an interruption and waits, durably and for weeks if need be, until a person closes it or
 * its timeout fires; meanwhile it reminds and escalates as the step says, and holds the gate of a
 * `blockConcurrentDeployments` step. After a continue-as-new the same interruption waits on (same
 * id, same deadlines). What the decision means is the caller's: outputs, retries, results.
 */
export async function waitForDecision(deployment: DeploymentState, spec: WaitSpec, view: StepView): Promise<WaitOutcome> {
  const { view: deploymentView } = deployment;
  // A run that continued as new while a proceeded step waited for its `runAt`: it waits on for it.
  const scheduled = deployment.resuming && deploymentView.scheduledFor !== undefined
    ? deploymentView.interruptions.findLast((i) => i.step === spec.step.name && i.state === 'Proceeded' && i.runAt !== undefined)
    : undefined;
  if (scheduled) {
    if ((await goOnAt(deployment, scheduled, scheduled.runAt!)) === 'ContinueAsNew') return { type: 'ContinueAsNew' };
    return { type: 'decided', interruption: scheduled, timedOut: false };
  }
  const resumed = deployment.resuming
    ? deploymentView.interruptions.findLastIndex((i) => i.step === spec.step.name && i.kind === spec.kind && isOpen(i))
    : -1;
  const index = resumed >= 0 ? resumed : deploymentView.interruptions.push(withRemaining(deployment, withContext(deployment, openInterruption(spec, deployment.input.triggeredBy)))) - 1;
  const current = () => deploymentView.interruptions[index]!;
  const opened = current();
  view.status = 'Waiting';
  deployment.setStatus('Waiting', waitingDetails(opened));
  publish(deployment, opened);
  const blocks = spec.step.blockConcurrentDeployments === true && deployment.input.gate !== undefined;
  if (blocks) blockGate(deployment);
  if (resumed < 0) emitInterruption(deployment, 'interruption.created', opened);

  const settled = () => !isOpen(current()) || shouldContinueAsNew(deployment);
  let timedOut = false;
  for (;;) {
    const next = nextDeadline(current(), spec.step.remind);
    if (next === undefined) {
      await condition(settled);
      break;
    }
    const summary = next.what === 'timeout' ? `${spec.step.name}: ${spec.step.onTimeout} on timeout` : `${spec.step.name}: ${next.what}`;
    if (await condition(settled, Math.max(0, next.at - Date.now()), { summary })) break;
    if (next.what === 'timeout') {
      timedOut = true;
      break;
    }
    if (next.what === 'escalate') escalate(deployment, index);
    else remind(deployment, index);
  }
  if (!timedOut && isOpen(current())) return { type: 'ContinueAsNew' };
  if (timedOut) {
    deploymentView.interruptions[index] = withRemaining(deployment, timeOut(current(), now()));
    record(deploymentView.timeline, {
      at: now(),
      user: 'system',
      action: 'timeout',
      result: 'accepted',
      reason: `nobody decided within the step's timeout; the deployment will ${spec.step.onTimeout}`,
      interruption: opened.id,
    });
  }
  waitsForNobody();
  if (patched(INTERRUPTION_MEMO)) upsertMemo({ [OPEN_INTERRUPTION_MEMO]: null });
  if (blocks) unblockGate(deployment);
  emitInterruption(deployment, 'interruption.decided', current());
  const decided = current();
  if (decided.state === 'Proceeded' && decided.runAt !== undefined && patched(RUN_AT)) {
    if ((await goOnAt(deployment, decided, decided.runAt)) === 'ContinueAsNew') return { type: 'ContinueAsNew' };
  }
  return { type: 'decided', interruption: decided, timedOut };
}

/** Deployments proceeded with `runAt` (docs/change-control.md#deploy-later); none before it existed. */
const RUN_AT = 'run-at';

/**
 * Approve now, deploy later: waits on a durable timer until `runAt`, status `Waiting` with
 * `scheduledFor` in the view, waiting for nobody. A cancel (or a supersede) ends it meanwhile. Like
 * every wait, it continues as new when its history grows (signals still come); the new run waits on
 * for the same time (`scheduledFor` in the view it carries).
 */
async function goOnAt(deployment: DeploymentState, decided: Interruption, runAt: string): Promise<'went' | 'ContinueAsNew'> {
  const { view } = deployment;
  const wait = Date.parse(runAt) - Date.now();
  if (wait <= 0 && view.scheduledFor === undefined) return 'went';
  if (wait > 0) {
    view.scheduledFor = runAt;
    const by = decided.assignee ? ` by ${decided.assignee.username}` : '';
    deployment.setStatus('Waiting', `Scheduled: ${decided.step} was proceeded${by}; it goes on at ${runAt}`);
    if (await condition(() => shouldContinueAsNew(deployment), wait, { summary: `${decided.step}: goes on at ${runAt}` })) return 'ContinueAsNew';
  }
  delete view.scheduledFor;
  deployment.setStatus('Running', `Running: ${decided.step} went on at its scheduled time`);
  return 'went';
}

function openInterruption(spec: WaitSpec, triggeredBy: Person): Interruption {
  const { step } = spec;
  const createdAt = now();
  const after = (ms: number) => new Date(Date.parse(createdAt) + ms).toISOString();
  return {
    ...(step.preventSelfApproval ? { excludedUserIds: [triggeredBy.id] } : {}),
    ...(step.requiredApprovals && step.requiredApprovals > 1 ? { requiredApprovals: step.requiredApprovals, approvals: [] } : {}),
    ...approvalOptions(spec),
    ...(step.remind?.escalateAfter !== undefined && step.remind.escalateTo ? { escalateTo: step.remind.escalateTo, escalateAt: after(step.remind.escalateAfter) } : {}),
    ...(spec.overrideTeams ? { overrideTeams: spec.overrideTeams } : {}),
    id: spec.id ?? uuid4(),
    kind: spec.kind,
    step: step.name,
    state: 'Pending',
    instructions: spec.instructions,
    responsibleTeams: step.rules && step.responsibleTeams.length === 0 ? [...new Set(step.rules.flatMap((rule) => rule.teams))] : step.responsibleTeams,
    assignee: null,
    notes: null,
    createdAt,
    decidedAt: null,
    timeoutAt: step.timeout === undefined ? null : after(step.timeout),
    onTimeout: step.onTimeout,
  };
}

/** Deployments whose interruptions opened before this patch have neither approval rules nor inputs (`requiredApprovals` kept its own count). */
const APPROVAL_RULES = 'approval-rules';

/**
 * A step's approval rules (its `rules`, or `requiredApprovals: N` as the one rule of its responsible
 * teams) with nothing approved yet, and its inputs. Only steps that have any ask the patch, so other
 * histories stay as they were.
 */
function approvalOptions(spec: WaitSpec): Partial<Interruption> {
  const { step } = spec;
  const rules = step.rules ?? (step.requiredApprovals && step.requiredApprovals > 1 ? [requiredApprovalsRule(step.responsibleTeams, step.requiredApprovals)] : undefined);
  if ((!rules && !step.inputs?.length) || !patched(APPROVAL_RULES)) return {};
  return {
    ...(rules ? { rules: startRules(rules), approvals: [] } : {}),
    ...(rules && step.ordered ? { ordered: true } : {}),
    ...(rules && step.distinctPeople ? { distinctPeople: true } : {}),
    ...(step.inputs?.length ? { inputs: step.inputs } : {}),
  };
}

/**
 * The interruption with what its rules still need and who of the deployment's roster may approve
 * now (`remaining`), while it is open; without it once closed. Interruptions without rules are as
 * they were, but for their context's `remaining`.
 */
export function withRemaining(deployment: DeploymentState, interruption: Interruption): Interruption {
  const updated = withRulesRemaining(deployment, interruption);
  // Its context says the same (docs/change-control.md#the-context-to-decide).
  return updated.context ? { ...updated, context: { ...updated.context, remaining: remainingFor(updated, deployment.input.roster ?? []) } } : updated;
}

function withRulesRemaining(deployment: DeploymentState, interruption: Interruption): Interruption {
  if (!interruption.rules) return interruption;
  const { remaining: _stale, ...rest } = interruption;
  if (!isOpen(interruption)) return rest;
  return { ...rest, remaining: remainingOf(interruption, deployment.input.roster ?? [], interruption.excludedUserIds, escalatedTeamsOf(interruption)) };
}

/** The next thing a timer must do: time out, escalate, or remind, whichever comes first (ties: in that order). */
function nextDeadline(interruption: Interruption, remind: Remind | undefined): { at: number; what: 'timeout' | 'escalate' | 'remind' } | undefined {
  const candidates: { at: number; what: 'timeout' | 'escalate' | 'remind' }[] = [];
  if (interruption.timeoutAt !== null) candidates.push({ at: Date.parse(interruption.timeoutAt), what: 'timeout' });
  if (interruption.escalateAt !== undefined && !interruption.escalated) candidates.push({ at: Date.parse(interruption.escalateAt), what: 'escalate' });
  if (remind?.every !== undefined) {
    candidates.push({ at: Date.parse(interruption.createdAt) + ((interruption.reminders ?? 0) + 1) * remind.every, what: 'remind' });
  }
  return candidates.sort((a, b) => a.at - b.at)[0];
}

function escalate(deployment: DeploymentState, index: number): void {
  const interruption = withRemaining(deployment, { ...deployment.view.interruptions[index]!, escalated: true });
  deployment.view.interruptions[index] = interruption;
  record(deployment.view.timeline, {
    at: now(),
    user: 'system',
    action: 'escalate',
    result: 'accepted',
    reason: `nobody decided in time; ${(interruption.escalateTo ?? []).join(', ')} may act too`,
    interruption: interruption.id,
  });
  publish(deployment, interruption);
  emitInterruption(deployment, 'interruption.escalated', interruption);
}

/** A reminder; the timeline keeps one entry per interruption with how many were sent. */
function remind(deployment: DeploymentState, index: number): void {
  const interruption = { ...deployment.view.interruptions[index]!, reminders: (deployment.view.interruptions[index]!.reminders ?? 0) + 1 };
  deployment.view.interruptions[index] = interruption;
  const { timeline } = deployment.view;
  const earlier = timeline.findLast((entry) => entry.action === 'remind' && entry.interruption === interruption.id);
  if (earlier) {
    earlier.count = interruption.reminders;
    earlier.lastAt = now();
  } else {
    record(timeline, { at: now(), user: 'system', action: 'remind', result: 'accepted', reason: 'nobody has decided yet; a reminder was sent', interruption: interruption.id });
  }
  emitInterruption(deployment, 'interruption.reminder', interruption);
}

/**
 * Whether a waiting deployment should continue as new: Temporal suggests it, or its history has
 * grown past the input's limit. Signals and updates grow a history that may wait for months; the
 * new run carries the whole state on.
 */
export function shouldContinueAsNew(deployment: DeploymentState): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > (deployment.input.historyLimit ?? HISTORY_LIMIT);
}

const HISTORY_LIMIT = 10_000;

/** Deployments that reached a manual step before this patch keep no interruption in their memo. */
const INTERRUPTION_MEMO = 'interruption-memo';

/** Search attributes and current details follow the interruption, so lists need no query. */
export function publish(deployment: DeploymentState, interruption: Interruption): void {
  if (!isOpen(interruption)) return;
  const teams = teamsOf(interruption);
  // A window waits for its time: only its override teams can do anything about it.
  const waitingFor = interruption.kind === 'Window' ? (interruption.overrideTeams?.length ? interruption.overrideTeams : null) : teams.length > 0 ? teams : ['deployers'];
  upsertSearchAttributes([
    { key: searchAttributes.waitingFor, value: waitingFor },
    { key: searchAttributes.assignee, value: interruption.assignee?.username ?? null },
  ]);
  // The open interruption itself rides in the memo, so lists of interruptions need open no workflow.
  if (patched(INTERRUPTION_MEMO)) upsertMemo({ [OPEN_INTERRUPTION_MEMO]: maskInterruption(interruption, secretsOf(deployment.variables, deployment.input.sensitive)) });
  deployment.setStatus('Waiting', waitingDetails(interruption));
}

function waitingDetails(interruption: Interruption): string {
  if (interruption.kind === 'Window') {
    const opens = interruption.opensAt ? describeOpening(interruption.opensAt, interruption.timezone, Date.now()) : 'later';
    return `Waiting: ${interruption.step} — opens ${opens}${interruption.reason ? ` (${interruption.reason})` : ''}`;
  }
  if (interruption.assignee) return `Waiting: ${interruption.step} — assigned to ${interruption.assignee.username}`;
  const teams = teamsOf(interruption);
  const who = teams.length > 0 ? teams.join(', ') : 'any deployer';
  const what = interruption.kind === 'GuidedFailure' ? 'the step failed; ' : '';
  return `Waiting: ${interruption.step} — ${what}for ${who} to take responsibility`;
}

const now = () => new Date().toISOString();

/**
 * A new interruption with what is being decided (docs/change-control.md#the-context-to-decide): the
 * context the deployment worked out when it started (release notes, previous deployment, changed
 * variables: `addDecisionContext`) and its latest evaluation as it opens; `remaining` is filled in
 * by `withRemaining`. Data only: it changes no command. Deployments without a context (started
 * before it was kept, or that could not work it out) open their interruptions as before.
 */
export function withContext(deployment: DeploymentState, interruption: Interruption): Interruption {
  const { context } = deployment.input;
  if (!context) return interruption;
  const evaluation = latestEvaluation(deployment.view.steps);
  return { ...interruption, context: { ...context, ...(evaluation ? { evaluation } : {}), remaining: { rules: [], mayApprove: [] } } };
}

// Working out a deployment's context: a few tries; without it, its interruptions show none.
const { decisionContext } = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 3 }, summary: 'the context to decide' });

/** Deployments that work out their context to decide when they start; none did before. */
const DECISION_CONTEXT = 'decision-context';

/**
 * The context its interruptions show (docs/change-control.md#the-context-to-decide), worked out
 * when it starts (for a lifecycle deployment, when its stage starts, not when its release was
 * triggered): the release notes it was triggered with, the previous successful deployment of its
 * project to this environment and the variables that differ. Kept in its input, so a run that
 * continues as new keeps it. Only a deployment that may ask people anything (a manual step, an
 * approval, a policy gate, a step with guided failure) asks; one that cannot find it goes on without.
 */
export async function addDecisionContext(deployment: DeploymentState): Promise<void> {
  const { input } = deployment;
  if (input.context || input.resume) return;
  const asksPeople = input.process.some((step) => step.type === 'manual' || step.type === 'approval' || step.type === 'policy' || ('guidedFailure' in step && step.guidedFailure === true));
  if (!asksPeople || !patched(DECISION_CONTEXT)) return;
  const request = {
    project: input.project.id,
    environment: input.environment,
    current: { variables: input.variables, sensitive: input.sensitive },
    releaseNotes: input.releaseNotes,
  };
  const context = await decisionContext(request).catch(() => undefined);
  if (context) input.context = context;
}
