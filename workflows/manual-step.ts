import { ApplicationFailure, condition, patched, setHandler, upsertMemo, upsertSearchAttributes, uuid4, workflowInfo } from '@temporalio/workflow';
import type { ManualStep } from '../config/schema.js';
import { type DeploymentState, finishStep } from './state.js';
import {
  type Actor,
  type Person,
  decide,
  describePerson,
  type Interruption,
  type InterruptionAction,
  isOpen,
  timeOut,
} from './interruption.js';
import {
  abortSignal,
  abortUpdate,
  type DecisionRequest,
  type DeploymentErrorType,
  type InterruptionRequest,
  proceedSignal,
  proceedUpdate,
  searchAttributes,
  type StepView,
  takeResponsibilitySignal,
  takeResponsibilityUpdate,
  type TakeResponsibilityRequest,
  type TimelineEntry,
  OPEN_INTERRUPTION_MEMO,
} from './messages.js';
import { DecisionRequestSchema, TakeResponsibilityRequestSchema } from './requests.js';
import { maskInterruption, secretsOf } from './mask.js';
import { record } from './timeline.js';
import { describeUnknown, substitute } from './variables.js';

/**
 * Registers `takeResponsibility`, `proceed` and `abort` as updates (the API's way: every caller gets
 * a definite answer) and as signals (operators in Temporal Web). Both go through one handler: every
 * attempt lands in the timeline, and a refused signal changes nothing else.
 */
export function registerInterruptionHandlers(deployment: DeploymentState): void {
  const take = (via: Via) => (request: TakeResponsibilityRequest) =>
    act(deployment, request, { type: 'takeResponsibility', takeOver: request.takeOver }, via);
  const decision = (type: 'proceed' | 'abort', via: Via) => (request: DecisionRequest) =>
    act(deployment, request, { type, notes: request.notes }, via);
  const validate = (schema: typeof TakeResponsibilityRequestSchema | typeof DecisionRequestSchema) =>
    (request: unknown) => {
      const result = schema.safeParse(request);
      if (!result.success) {
        throw ApplicationFailure.create({
          type: 'BAD_REQUEST' satisfies DeploymentErrorType,
          message: `Invalid request: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
          nonRetryable: true,
        });
      }
    };
  // The handler reads what the validator accepted, defaults filled in (a user sent without `teams`
  // has none): the raw payload would throw a TypeError and fail the workflow task instead.
  const parsed = <T>(schema: { parse(value: unknown): T }, handle: (request: T) => Interruption) =>
    (request: T) => handle(schema.parse(request));

  setHandler(takeResponsibilityUpdate, parsed(TakeResponsibilityRequestSchema, take('update')), {
    validator: validate(TakeResponsibilityRequestSchema),
  });
  setHandler(proceedUpdate, parsed(DecisionRequestSchema, decision('proceed', 'update')), { validator: validate(DecisionRequestSchema) });
  setHandler(abortUpdate, parsed(DecisionRequestSchema, decision('abort', 'update')), { validator: validate(DecisionRequestSchema) });
  setHandler(takeResponsibilitySignal, signal(deployment, 'takeResponsibility', TakeResponsibilityRequestSchema, take('signal')));
  setHandler(proceedSignal, signal(deployment, 'proceed', DecisionRequestSchema, decision('proceed', 'signal')));
  setHandler(abortSignal, signal(deployment, 'abort', DecisionRequestSchema, decision('abort', 'signal')));
}

type Via = 'update' | 'signal';

function signal<T extends InterruptionRequest>(
  deployment: DeploymentState,
  action: InterruptionAction['type'],
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { message: string } } },
  handle: (request: T) => Interruption,
) {
  return (raw: T) => {
    const parsed = schema.safeParse(raw);
    const refuse = (user: unknown, reason: string) =>
      record(deployment.view.timeline, {
        at: now(),
        user: typeof user === 'string' ? user.slice(0, 100) : 'unknown',
        action,
        result: 'refused',
        reason,
        via: 'signal',
      });
    if (!parsed.success) {
      const user = (raw as { user?: { username?: unknown } } | undefined)?.user?.username;
      return refuse(user, `BAD_REQUEST: the signal's payload is not valid: ${parsed.error.message}`);
    }
    // Who a signal names is believed only as far as the roster the deployment started with: its
    // teams and roles are the roster's, whatever the payload claims.
    const user = fromRoster(deployment.input.roster, parsed.data.user);
    if (!user) {
      return refuse(parsed.data.user.username, `UNKNOWN_USER: "${parsed.data.user.username}" is nobody this deployment knows; a signal must name a user of the config`);
    }
    try {
      handle({ ...parsed.data, user });
    } catch (error) {
      // Refused: already recorded in the timeline, and a signal has nobody to answer.
      if (!(error instanceof ApplicationFailure)) throw error;
    }
  };
}

/** The roster's entry for whoever a signal names (by id, else username); the payload itself for deployments without a roster. */
export function fromRoster(roster: Actor[] | undefined, claimed: Actor): Actor | undefined {
  if (!roster) return claimed;
  return roster.find((user) => user.id === claimed.id) ?? roster.find((user) => user.username === claimed.username);
}

function act(deployment: DeploymentState, request: InterruptionRequest, action: InterruptionAction, via: Via): Interruption {
  const { view } = deployment;
  const at = now();
  const entry = (result: TimelineEntry['result'], reason?: string, interruption?: string): TimelineEntry => ({
    at,
    user: request.user.username,
    action: action.type,
    result,
    ...(reason === undefined ? {} : { reason }),
    ...(interruption === undefined ? {} : { interruption }),
    via,
  });
  const refuse = (type: DeploymentErrorType, detail: string, interruption?: string): never => {
    record(view.timeline, entry('refused', `${type}: ${detail}`, interruption));
    throw ApplicationFailure.create({ type, message: detail, nonRetryable: true });
  };

  const index = request.interruptionId === undefined
    ? view.interruptions.findIndex(isOpen)
    : view.interruptions.findIndex((i) => i.id === request.interruptionId);
  if (index < 0) {
    if (request.interruptionId !== undefined) {
      return refuse('INTERRUPTION_NOT_FOUND', `This deployment has no interruption "${request.interruptionId}".`);
    }
    return refuse('NOT_WAITING', `The deployment is not waiting for anyone (it is ${view.status}).`);
  }
  const target = view.interruptions[index]!;
  if (request.expiresAt !== undefined && Date.parse(at) > Date.parse(request.expiresAt)) {
    return refuse('EXPIRED', 'The request reached the deployment after its caller had stopped waiting; nothing was done. Try again.', target.id);
  }
  if (isOpen(target) && view.status !== 'Waiting') {
    return refuse('NOT_WAITING', `The deployment is ${view.status}; it no longer waits at "${target.step}".`, target.id);
  }

  const decision = decide(target, request.user, action, at);
  if (!decision.accepted) return refuse(decision.refusal, decision.detail, target.id);
  if (decision.changed) {
    if (!isOpen(decision.interruption)) decision.interruption.decidedVia = via;
    view.interruptions[index] = decision.interruption;
    publish(deployment, decision.interruption);
  }
  const { approvals, requiredApprovals } = decision.interruption;
  const reason = decision.tookOverFrom
    ? `took over from ${decision.tookOverFrom.username}`
    : !decision.changed
      ? 'already responsible; nothing changed'
      : action.type === 'proceed' && requiredApprovals && approvals?.length
        ? `approval ${approvals.length} of ${requiredApprovals}`
        : undefined;
  record(view.timeline, entry('accepted', reason, target.id));
  return maskInterruption(decision.interruption, secretsOf(deployment.variables, deployment.input.sensitive));
}

/**
 * Opens an interruption for the manual step and waits (durably, for weeks if need be) until its
 * assignee proceeds or aborts, or its timeout fires. Sets the step's output variables (SPEC §4).
 */
export async function waitForManualStep(deployment: DeploymentState, step: ManualStep, view: StepView) {
  const instructions = substitute(step.instructions, deployment.variables);
  if (!instructions.ok) {
    finishStep(view, 'Failed', `Cannot open the interruption: ${describeUnknown(instructions.unknown)} (in "instructions").`);
    return 'Failed' as const;
  }
  const { view: deploymentView } = deployment;
  // After a continue-as-new the interruption is open already: the same one waits on, same id, same deadline.
  const resumed = deployment.resuming ? deploymentView.interruptions.findLastIndex((i) => i.step === step.name && isOpen(i)) : -1;
  const index = resumed >= 0 ? resumed : deploymentView.interruptions.push(openInterruption(step, instructions.text, deployment.input.triggeredBy)) - 1;
  const current = () => deploymentView.interruptions[index]!;
  const opened = current();
  view.status = 'Waiting';
  deployment.setStatus('Waiting', waitingDetails(opened));
  publish(deployment, opened);

  const settled = () => !isOpen(current()) || shouldContinueAsNew(deployment);
  const timeoutMs = opened.timeoutAt === null ? undefined : resumed >= 0 ? Math.max(0, Date.parse(opened.timeoutAt) - Date.now()) : step.timeout!;
  const decided = timeoutMs === undefined
    ? (await condition(settled), true)
    : await condition(settled, timeoutMs, { summary: `${step.name}: ${step.onTimeout} on timeout` });
  if (decided && isOpen(current())) return 'ContinueAsNew' as const;
  if (!decided) {
    deploymentView.interruptions[index] = timeOut(current(), now());
    record(deploymentView.timeline, {
      at: now(),
      user: 'system',
      action: 'timeout',
      result: 'accepted',
      reason: `nobody decided within the step's timeout; the deployment will ${step.onTimeout}`,
      interruption: opened.id,
    });
  }

  const final = current();
  const result = final.state === 'Proceeded' ? 'Proceed' : final.state === 'Aborted' ? 'Abort' : 'TimedOut';
  const approved = final.state === 'Proceeded' || (final.state === 'TimedOut' && step.onTimeout === 'proceed');
  Object.assign(deployment.variables, manualOutputs(step.name, final, result, approved));
  upsertSearchAttributes([
    { key: searchAttributes.waitingFor, value: null },
    { key: searchAttributes.assignee, value: null },
  ]);
  if (patched(INTERRUPTION_MEMO)) upsertMemo({ [OPEN_INTERRUPTION_MEMO]: null });

  const by = final.assignee ? ` by ${describePerson(final.assignee)}` : '';
  const notes = final.notes ? `\nNotes: ${final.notes}` : '';
  const log = result === 'TimedOut'
    ? `Timed out: nobody decided in time; the deployment will ${step.onTimeout}.`
    : `${result === 'Proceed' ? 'Proceeded' : 'Aborted'}${by}.${notes}`;
  if (!approved) {
    finishStep(view, 'Aborted', log);
    return 'Aborted' as const;
  }
  finishStep(view, 'Succeeded', log);
  // No longer waiting: without this a manual last step would leave the deployment `Waiting`.
  deployment.setStatus('Running', `Running: ${step.name} — ${log.split('\n')[0]}`);
  return 'Succeeded' as const;
}

function openInterruption(step: ManualStep, instructions: string, triggeredBy: Person): Interruption {
  const createdAt = now();
  return {
    ...(step.preventSelfApproval ? { excludedUserIds: [triggeredBy.id] } : {}),
    ...(step.requiredApprovals && step.requiredApprovals > 1 ? { requiredApprovals: step.requiredApprovals, approvals: [] } : {}),
    id: uuid4(),
    kind: 'Manual',
    step: step.name,
    state: 'Pending',
    instructions,
    responsibleTeams: step.responsibleTeams,
    assignee: null,
    notes: null,
    createdAt,
    decidedAt: null,
    timeoutAt: step.timeout === undefined ? null : new Date(Date.parse(createdAt) + step.timeout).toISOString(),
    onTimeout: step.onTimeout,
  };
}

/**
 * Whether a waiting deployment should continue as new: Temporal suggests it, or its history has
 * grown past the input's limit. Signals and updates grow a history that may wait for months; the
 * new run carries the whole state on.
 */
function shouldContinueAsNew(deployment: DeploymentState): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > (deployment.input.historyLimit ?? HISTORY_LIMIT);
}

const HISTORY_LIMIT = 10_000;

/** Deployments that reached a manual step before this patch keep no interruption in their memo. */
const INTERRUPTION_MEMO = 'interruption-memo';

/** The outputs of a manual step that did not run: `Result=Skipped`, `Approved=False`, the rest empty (SPEC §4). */
export function skippedManualOutputs(stepName: string) {
  return manualOutputs(stepName, { notes: null, assignee: null }, 'Skipped', false);
}

/** The output variables of a completed manual step, named as Octopus names them. */
export function manualOutputs(
  stepName: string,
  interruption: Pick<Interruption, 'notes' | 'assignee' | 'decidedVia' | 'requiredApprovals' | 'approvals'>,
  result: string,
  approved: boolean,
) {
  const prefix = `Action[${stepName}].Output.Manual`;
  const user = interruption.assignee;
  return {
    [`${prefix}.Notes`]: interruption.notes ?? '',
    [`${prefix}.ResponsibleUser.Id`]: user?.id ?? '',
    [`${prefix}.ResponsibleUser.Username`]: user?.username ?? '',
    [`${prefix}.ResponsibleUser.DisplayName`]: user?.displayName ?? '',
    [`${prefix}.ResponsibleUser.EmailAddress`]: user?.email ?? '',
    [`${prefix}.Result`]: result,
    [`${prefix}.Approved`]: approved ? 'True' : 'False',
    [`${prefix}.Via`]: interruption.decidedVia ?? '',
    ...(interruption.requiredApprovals ? { [`${prefix}.Approvers`]: (interruption.approvals ?? []).map((approval) => approval.user.username).join(',') } : {}),
  };
}

/** Search attributes and current details follow the interruption, so lists need no query. */
function publish(deployment: DeploymentState, interruption: Interruption): void {
  if (!isOpen(interruption)) return;
  upsertSearchAttributes([
    { key: searchAttributes.waitingFor, value: interruption.responsibleTeams.length > 0 ? interruption.responsibleTeams : ['deployers'] },
    { key: searchAttributes.assignee, value: interruption.assignee?.username ?? null },
  ]);
  // The open interruption itself rides in the memo, so lists of interruptions need open no workflow.
  if (patched(INTERRUPTION_MEMO)) upsertMemo({ [OPEN_INTERRUPTION_MEMO]: maskInterruption(interruption, secretsOf(deployment.variables, deployment.input.sensitive)) });
  deployment.setStatus('Waiting', waitingDetails(interruption));
}

function waitingDetails(interruption: Interruption): string {
  if (interruption.assignee) return `Waiting: ${interruption.step} — assigned to ${interruption.assignee.username}`;
  const teams = interruption.responsibleTeams.length > 0 ? interruption.responsibleTeams.join(', ') : 'any deployer';
  return `Waiting: ${interruption.step} — for ${teams} to take responsibility`;
}

const now = () => new Date().toISOString();
