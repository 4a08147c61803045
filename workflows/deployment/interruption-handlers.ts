import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import type { DeploymentState } from './deployment-state.js';
import {
  type Actor,
  decide,
  decisionInputsProblem,
  type DecisionType,
  runAtProblem,
  describeApproval,
  type Interruption,
  type InterruptionAction,
  isOpen,
} from '../../core/interruptions.js';
import { describeInputs } from '../../core/approver-inputs.js';
import { DECISION_TYPES } from '../../core/names.js';
import {
  DECISION_MESSAGES,
  type DecisionRequest,
  type DeploymentErrorType,
  type InterruptionRequest,
  takeResponsibilitySignal,
  takeResponsibilityUpdate,
  type TakeResponsibilityRequest,
  type TimelineEntry,
} from '../messages.js';
import { DecisionRequestSchema, TakeResponsibilityRequestSchema } from '../signal-payloads.js';
import { maskInterruption, secretsOf } from '../../core/masking.js';
import { record } from '../../core/views.js';
import { publish, withRemaining } from './wait-for-decision.js';

/**
 * Registers `takeResponsibility` and every decision (`proceed`, `abort`, `retry`, `ignore`, `fail`) as updates (the API's way: every caller gets
 * a definite answer) and as signals (operators in Temporal Web). Both go through one handler: every
 * attempt lands in the timeline, and a refused signal changes nothing else.
 */
export function registerInterruptionHandlers(deployment: DeploymentState): void {
  const take = (via: Via) => (request: TakeResponsibilityRequest) =>
    act(deployment, request, { type: 'takeResponsibility', takeOver: request.takeOver }, via);
  const decision = (type: DecisionType, via: Via) => (request: DecisionRequest) =>
    act(deployment, request, { type, notes: request.notes, inputs: request.inputs, runAt: request.runAt }, via);
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
  setHandler(takeResponsibilitySignal, signal(deployment, 'takeResponsibility', TakeResponsibilityRequestSchema, take('signal')));
  // The same decisions for every kind; the state machine refuses those a kind does not offer (NOT_AN_OPTION).
  // A decision's inputs are checked against what its step asks before the update is accepted, so a
  // bad one leaves no trace in the history (signals: recorded as refused, by `decide`).
  const validateDecision = (type: DecisionType) => (request: unknown) => {
    validate(DecisionRequestSchema)(request);
    const { interruptionId, inputs, notes, runAt } = DecisionRequestSchema.parse(request);
    const target = interruptionId === undefined ? deployment.view.interruptions.find(isOpen) : deployment.view.interruptions.find((i) => i.id === interruptionId);
    const problem = target && decisionInputsProblem(target, { type, notes, inputs });
    if (problem) throw ApplicationFailure.create({ type: 'INVALID_INPUTS' satisfies DeploymentErrorType, message: problem, nonRetryable: true });
    const later = runAtProblem(type, runAt, new Date().toISOString());
    if (later) throw ApplicationFailure.create({ type: 'INVALID_RUN_AT' satisfies DeploymentErrorType, message: later, nonRetryable: true });
  };
  for (const type of DECISION_TYPES) {
    const { update, signal: signalDefinition } = DECISION_MESSAGES[type];
    setHandler(update, parsed(DecisionRequestSchema, decision(type, 'update')), { validator: validateDecision(type) });
    setHandler(signalDefinition, signal(deployment, type, DecisionRequestSchema, decision(type, 'signal')));
  }
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
  const decided = decision.changed ? withRemaining(deployment, decision.interruption) : decision.interruption;
  if (decision.changed) {
    if (!isOpen(decided)) decided.decidedVia = via;
    view.interruptions[index] = decided;
    publish(deployment, decided);
  }
  const { approvals, requiredApprovals } = decided;
  const given = action.type === 'proceed' && action.inputs && target.inputs ? `inputs: ${describeInputs(action.inputs)}` : undefined;
  const said = decision.tookOverFrom
    ? `took over from ${decision.tookOverFrom.username}`
    : !decision.changed
      ? 'already responsible; nothing changed'
      : action.type !== 'proceed'
        ? undefined
        : decided.rules
          ? describeApproval(target, decided)
          : requiredApprovals && approvals?.length
            ? `approval ${approvals.length} of ${requiredApprovals}`
            : given;
  // Proceeded to go on later (docs/change-control.md#deploy-later).
  const later = decision.changed && decided.runAt && !isOpen(decided) ? `to go on at ${decided.runAt}` : undefined;
  const reason = said && later ? `${said}; ${later}` : (said ?? later);
  record(view.timeline, entry('accepted', reason, target.id));
  return maskInterruption(decided, secretsOf(deployment.variables, deployment.input.sensitive));
}

const now = () => new Date().toISOString();
