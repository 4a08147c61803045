import { ApplicationFailure, condition, setHandler, upsertSearchAttributes, uuid4 } from '@temporalio/workflow';
import type { ManualStep } from '../config/schema.js';
import { type DeploymentState, finishStep } from './state.js';
import {
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
} from './messages.js';
import { DecisionRequestSchema, TakeResponsibilityRequestSchema } from './requests.js';
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

function signal<T>(
  deployment: DeploymentState,
  action: InterruptionAction['type'],
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { message: string } } },
  handle: (request: T) => Interruption,
) {
  return (raw: T) => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const user = (raw as { user?: { username?: unknown } } | undefined)?.user?.username;
      deployment.view.timeline.push({
        at: now(),
        user: typeof user === 'string' ? user : 'unknown',
        action,
        result: 'refused',
        reason: `BAD_REQUEST: the signal's payload is not valid: ${parsed.error.message}`,
        via: 'signal',
      });
      return;
    }
    try {
      handle(parsed.data);
    } catch (error) {
      // Refused: already recorded in the timeline, and a signal has nobody to answer.
      if (!(error instanceof ApplicationFailure)) throw error;
    }
  };
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
    view.timeline.push(entry('refused', `${type}: ${detail}`, interruption));
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
    view.interruptions[index] = decision.interruption;
    publish(deployment, decision.interruption);
  }
  const reason = decision.tookOverFrom
    ? `took over from ${decision.tookOverFrom.username}`
    : decision.changed ? undefined : 'already responsible; nothing changed';
  view.timeline.push(entry('accepted', reason, target.id));
  return decision.interruption;
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
  const createdAt = now();
  const opened: Interruption = {
    id: uuid4(),
    kind: 'Manual',
    step: step.name,
    state: 'Pending',
    instructions: instructions.text,
    responsibleTeams: step.responsibleTeams,
    assignee: null,
    notes: null,
    createdAt,
    decidedAt: null,
    timeoutAt: step.timeout === undefined ? null : new Date(Date.parse(createdAt) + step.timeout).toISOString(),
    onTimeout: step.onTimeout,
  };
  const { view: deploymentView } = deployment;
  const index = deploymentView.interruptions.push(opened) - 1;
  const current = () => deploymentView.interruptions[index]!;
  view.status = 'Waiting';
  deployment.setStatus('Waiting', waitingDetails(opened));
  publish(deployment, opened);

  const decided = step.timeout === undefined
    ? (await condition(() => !isOpen(current())), true)
    : await condition(() => !isOpen(current()), step.timeout, { summary: `${step.name}: ${step.onTimeout} on timeout` });
  if (!decided) {
    deploymentView.interruptions[index] = timeOut(current(), now());
    deploymentView.timeline.push({
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

/** The output variables of a completed manual step, named as Octopus names them. */
export function manualOutputs(stepName: string, interruption: Interruption, result: string, approved: boolean) {
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
  };
}

/** Search attributes and current details follow the interruption, so lists need no query. */
function publish(deployment: DeploymentState, interruption: Interruption): void {
  if (!isOpen(interruption)) return;
  upsertSearchAttributes([
    { key: searchAttributes.waitingFor, value: interruption.responsibleTeams.length > 0 ? interruption.responsibleTeams : ['deployers'] },
    { key: searchAttributes.assignee, value: interruption.assignee?.username ?? null },
  ]);
  deployment.setStatus('Waiting', waitingDetails(interruption));
}

function waitingDetails(interruption: Interruption): string {
  if (interruption.assignee) return `Waiting: ${interruption.step} — assigned to ${interruption.assignee.username}`;
  const teams = interruption.responsibleTeams.length > 0 ? interruption.responsibleTeams.join(', ') : 'any deployer';
  return `Waiting: ${interruption.step} — for ${teams} to take responsibility`;
}

const now = () => new Date().toISOString();
