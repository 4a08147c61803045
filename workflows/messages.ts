/**
 * The one contract between the API (and operators in Temporal Web) and the deployment workflow:
 * its input, its view, its signals, updates and query, and its search attributes. The names sent
 * over the wire (`takeResponsibility`, `proceed`, `abort`, `state`, the search attribute names)
 * never change once released: running deployments and scripts depend on them.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ProcessStep, Step } from '../config/schema.js';
import type { Shipyard } from '../config/shipyard.js';
import type { OverrideRecord } from '../core/break-glass.js';
import type { AuditEvent, CloudEvent } from '../core/cloud-events.js';
import type { TriggerContext } from '../core/decision-context.js';
import type { Actor, InputValues, Interruption, Person, RefusalType } from '../core/interruptions.js';
import type { DecisionType, DeploymentStatus, FinishedStatus, ReleaseStatus, StepStatus, TaskResult } from '../core/names.js';
import type { SloShape } from '../core/slo-scoring.js';
import type { Variables } from '../core/substitution.js';
import type { DeploymentView, ReleaseView } from '../core/views.js';

export type { Actor, CloudEvent, DeploymentStatus, FinishedStatus, Interruption, Person, ProcessStep, ReleaseStatus, Step, StepStatus, TaskResult, Variables };
export type { DeploymentView, ReleaseView, SequenceView, StepAttempt, StepView, TimelineEntry } from '../core/views.js';
export { FINISHED_STATUSES, isFinished } from '../core/names.js';

/** Everything a deployment needs, copied at trigger time: editing the config never changes a running one. */
export interface DeploymentInput {
  id: string;
  project: { id: string; name: string };
  environment: string;
  release: string;
  process: ProcessStep[];
  /** Project variables overlaid with the variables given by whoever triggered it. */
  variables: Variables;
  /** The names of the variables a trigger could set: data from outside, kept out of URLs' hosts (docs/configuration.md). */
  prompted?: string[];
  /** The names of sensitive variables: masked in every view, log and memo (docs/configuration.md). */
  sensitive?: string[];
  triggeredBy: Person;
  createdAt: string;
  /**
   * The people who may act through signals, as the config named them when the deployment started
   * (ids, usernames, teams, roles, emails; never token hashes). A signal's teams and roles are the
   * roster's, not its own. Absent in deployments started before signals were checked.
   */
  roster?: Actor[];
  /** Where a deployment that continued as new picks up: its view so far and the step it was at. */
  resume?: { view: DeploymentView; step: number };
  /** History events before the deployment continues as new (Temporal may suggest it sooner). Default 10,000. */
  historyLimit?: number;
  /** The project's subscriptions (docs/notifications.md): which events go to which channels. */
  notifications?: NotificationRoute[];
  /** The gate of this project and environment, when a `blockConcurrentDeployments` step runs here (docs/manual-steps.md). */
  gate?: string;
  /** Who may act on a `GuidedFailure` interruption; any deployer when empty. */
  guidedFailureTeams?: string[];
  /** A sequence of a lifecycle project's release (docs/keptn.md). */
  lifecycle?: LifecycleInput;
  /** The project's SLO and where its SLIs come from, for `evaluation` steps (docs/keptn.md). */
  quality?: { slo: SloShape; sli: Record<string, SliSourceInput> };
  /** The trigger's start-by: not past its gates by then, it ends `Expired` (docs/change-control.md). */
  notAfter?: string;
  /** What its interruptions show to decide on (docs/change-control.md#the-context-to-decide): release notes, the previous deployment, changed variables (sensitive ones masked). */
  context?: TriggerContext;
  /** What the trigger gave to read (markdown): its interruptions show it, in their context. */
  releaseNotes?: string;
}

/** Where an SLI's value comes from: a script that prints a number, or a Prometheus instant query. */
export type SliSourceInput = { script: string; timeout?: number | undefined } | { prometheus: { url: string; query: string } };

/** Subscribed events (short names, full types, or prefixes ending in `*`) and the channels they go to. */
export interface NotificationRoute {
  events: string[];
  channels: string[];
}

/** What a lifecycle deployment knows of its release: Keptn's context, the stage and sequence, the tasks' properties. */
export interface LifecycleInput {
  releaseId: string;
  keptnContext: string;
  stage: string;
  sequence: string;
  /** Keptn's `service` (the project's id unless the triggering event named another). */
  service: string;
  labels?: Record<string, string>;
  /** The sequence whose end started this one, and its result: what a first-task approval judges (docs/keptn.md). */
  triggeredBy?: { stage: string; sequence: string; result: TaskResult };
  /** The id of this sequence's `sh.keptn.event.<stage>.<sequence>.triggered` event. */
  triggeredId: string;
  /** Each task's shipyard `properties`, as its `.triggered` event carries them. */
  taskProperties: Record<string, Record<string, unknown>>;
  /** The triggering event's `configurationChange`, passed on to every task. */
  configurationChange?: Record<string, unknown>;
}





/** Who acts on an interruption, and on which; identity comes from the API's token check or the signal's sender. */
export interface InterruptionRequest {
  user: Actor;
  /** Which interruption; signals may leave it out to mean the open one. */
  interruptionId?: string;
  /** The API's deadline: a request still undelivered then is refused, so a 503'd call never applies later. */
  expiresAt?: string;
}
export interface TakeResponsibilityRequest extends InterruptionRequest {
  takeOver?: boolean;
}
export interface DecisionRequest extends InterruptionRequest {
  notes?: string;
  /** With proceed, what the step asks whoever proceeds (docs/manual-steps.md#approver-inputs): `{name: value}`. */
  inputs?: InputValues;
  /** With proceed: go on at this time instead of now (docs/change-control.md#deploy-later). */
  runAt?: string;
}

/** The named failures of the workflow's updates; the API maps each to one HTTP status. */
export type DeploymentErrorType =
  | RefusalType
  | 'NOT_WAITING'
  | 'INTERRUPTION_NOT_FOUND'
  | 'TASK_NOT_FOUND'
  | 'TASK_FINISHED'
  | 'NOT_EXECUTOR'
  | 'EXPIRED'
  | 'BAD_REQUEST'
  /** Break-glass (docs/change-control.md): not in the policy's override teams; not a policy gate's window or approvals. */
  | 'NOT_OVERRIDER'
  | 'NOT_OVERRIDABLE';

export const takeResponsibilityUpdate = defineUpdate<Interruption, [TakeResponsibilityRequest]>('takeResponsibility');
export const takeResponsibilitySignal = defineSignal<[TakeResponsibilityRequest]>('takeResponsibility');

/** A decision's update (the API's way: a definite answer) and signal (operators in Temporal Web), under the decision's own name. */
const decisionMessages = <T extends DecisionType>(name: T) => ({
  update: defineUpdate<Interruption, [DecisionRequest]>(name),
  signal: defineSignal<[DecisionRequest]>(name),
});

/**
 * Every decision's update and signal (docs/manual-steps.md): proceed and abort a manual step or an
 * approval; guided failure's retry (run the failed step again), ignore (go on as if it had not
 * failed) and fail (fail the deployment). The workflow handles them all alike.
 */
export const DECISION_MESSAGES = {
  proceed: decisionMessages('proceed'),
  abort: decisionMessages('abort'),
  retry: decisionMessages('retry'),
  ignore: decisionMessages('ignore'),
  fail: decisionMessages('fail'),
} as const satisfies Record<DecisionType, ReturnType<typeof decisionMessages>>;

export const { update: proceedUpdate, signal: proceedSignal } = DECISION_MESSAGES.proceed;
export const { update: abortUpdate, signal: abortSignal } = DECISION_MESSAGES.abort;
export const { update: retryUpdate, signal: retrySignal } = DECISION_MESSAGES.retry;
export const { update: ignoreUpdate, signal: ignoreSignal } = DECISION_MESSAGES.ignore;
export const { update: failUpdate, signal: failSignal } = DECISION_MESSAGES.fail;

/** A Keptn `sh.keptn.event.<task>.started|finished` event for an external task, posted to the event API (docs/keptn.md). */
export interface TaskEventRequest {
  /** Who posted it, with teams and roles as the API knows them (an older API sent only the person). */
  user: Person & Partial<Pick<Actor, 'teams' | 'roles'>>;
  event: CloudEvent;
  expiresAt?: string;
}
export interface TaskEventAnswer {
  task: string;
  status: StepStatus;
}
export const taskEventUpdate = defineUpdate<TaskEventAnswer, [TaskEventRequest]>('taskEvent');

/** Who asks for the cancellation that follows (Temporal's own cancel request carries no user). */
export interface CancelRequest {
  user: Person;
}
export const cancelRequestSignal = defineSignal<[CancelRequest]>('cancelRequest');

/**
 * A newer deployment of the same project and environment was triggered (docs/change-control.md):
 * with a `supersede: true` policy, an older one waiting for a decision or its window ends `Superseded`.
 * The workflow believes no payload: it asks Temporal whether the named deployment is newer, of its
 * project and environment.
 */
export interface SupersedeRequest {
  deploymentId: string;
}
export const supersedeSignal = defineSignal<[SupersedeRequest]>('supersede');

export const stateQuery = defineQuery<DeploymentView>('state');

/** Custom search attributes: Temporal Web and the API filter deployments by these without opening them. */
export const searchAttributes = {
  project: defineSearchAttributeKey('InterlockProject', SearchAttributeType.KEYWORD),
  environment: defineSearchAttributeKey('InterlockEnvironment', SearchAttributeType.KEYWORD),
  release: defineSearchAttributeKey('InterlockRelease', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('InterlockStatus', SearchAttributeType.KEYWORD),
  waitingFor: defineSearchAttributeKey('InterlockWaitingFor', SearchAttributeType.KEYWORD_LIST),
  assignee: defineSearchAttributeKey('InterlockAssignee', SearchAttributeType.KEYWORD),
  /** A hash of the trigger's user and `Idempotency-Key`, so a reuse of the key with another body is found. */
  idempotencyKey: defineSearchAttributeKey('InterlockIdempotencyKey', SearchAttributeType.KEYWORD),
  /** Lifecycle projects (docs/keptn.md): Keptn's context of the release, and the stage and sequence a deployment runs. */
  keptnContext: defineSearchAttributeKey('InterlockKeptnContext', SearchAttributeType.KEYWORD),
  stage: defineSearchAttributeKey('InterlockStage', SearchAttributeType.KEYWORD),
  sequence: defineSearchAttributeKey('InterlockSequence', SearchAttributeType.KEYWORD),
} as const;

export const WORKFLOW_TYPE = 'deployment';
export const RELEASE_WORKFLOW_TYPE = 'release';
export const GATE_WORKFLOW_TYPE = 'deploymentGate';

/** The memo key of an evaluation's values and result, read by the next evaluation of the same stage (relative criteria). */
export const EVALUATION_MEMO = 'evaluation';

// The gate of one project and environment (docs/manual-steps.md, `blockConcurrentDeployments`).

export interface GateRequest {
  deploymentId: string;
  /** When it was triggered (`enter` only; absent from deployments that started before it was sent): the queue keeps that order. */
  triggeredAt?: string;
}
/** A deployment asks to start its steps; the gate answers with `gateAdmitted` or `gateQueued`. */
export const gateEnterSignal = defineSignal<[GateRequest]>('enter');
/** A deployment waits at a blocking step: later ones queue behind it. */
export const gateBlockSignal = defineSignal<[GateRequest]>('block');
/** Its blocking step is decided: it blocks nobody any more, and the next of the queue may go. */
export const gateUnblockSignal = defineSignal<[GateRequest]>('unblock');
/** It has ended, however it ended: it holds nothing and waits for nothing. */
export const gateLeaveSignal = defineSignal<[GateRequest]>('leave');
export const gateAdmittedSignal = defineSignal('gateAdmitted');
export const gateQueuedSignal = defineSignal<[{ behind: string }]>('gateQueued');

export interface GateInput {
  id: string;
  project: string;
  environment: string;
  taskQueue?: string;
  /** Carried across continue-as-new. */
  holders?: string[];
  queue?: string[];
  running?: string[];
  passing?: string;
  /** When each queued deployment was triggered. */
  triggeredAt?: Record<string, string>;
}
export interface GateView {
  /** Waiting at a blocking step: nobody else starts meanwhile. */
  holders: string[];
  /** Asked to start while someone held it (or the queue was still going through), in the order they were triggered. */
  queue: string[];
  /** Admitted and not yet ended: any of them may reach a blocking step. */
  running: string[];
  /** Admitted from the queue and not yet past its blocking step (decided) nor ended: the rest of the queue waits for it. */
  passing: string | null;
}
export const gateStateQuery = defineQuery<GateView>('state');

// A lifecycle project's release (docs/keptn.md): a parent whose children are the stage deployments.

export interface ReleaseInput {
  id: string;
  keptnContext: string;
  project: { id: string; name: string };
  release: string;
  service: string;
  shipyard: Pick<Shipyard, 'spec'>;
  /** Each sequence's deployment input, but for the fields the release fills in when it starts it. */
  sequences: Record<string, Omit<DeploymentInput, 'id' | 'environment' | 'lifecycle' | 'createdAt'> & { taskProperties: Record<string, Record<string, unknown>> }>;
  start: { stage: string; sequence: string };
  labels?: Record<string, string>;
  configurationChange?: Record<string, unknown>;
  triggeredBy: Person;
  createdAt: string;
  /** The id of the event that started it (the posted `.triggered` event, or one Interlock made). */
  triggeredId: string;
  notifications?: NotificationRoute[];
  /** Where a release that continued as new picks up. */
  resume?: { view: ReleaseView; events: CloudEvent[]; eventDeployments: Record<string, string> };
  /** Markdown, shown with every interruption of its deployments (docs/change-control.md#the-context-to-decide). */
  releaseNotes?: string;
}



/** A child tells its release what happened: a Keptn event to keep and pass on, or its status. */
export const releaseEventSignal = defineSignal<[{ deploymentId: string; event: CloudEvent }]>('keptnEvent');
export const sequenceProgressSignal = defineSignal<[{ deploymentId: string; status: DeploymentStatus; result?: TaskResult | null }]>('sequenceProgress');
export const releaseStateQuery = defineQuery<ReleaseView>('state');
/** The release's Keptn events, newest first, and the deployment each task event belongs to. */
export const releaseEventsQuery = defineQuery<{ events: CloudEvent[]; deployments: Record<string, string> }>('events');

/**
 * What holds a Keptn context for one release: a workflow whose ID is the context's, so that
 * Temporal itself refuses a second one however many triggers race, and whose memo names the
 * release. It ends at once; the release's own search attribute answers for it afterwards.
 */
export interface KeptnContextClaim {
  keptnContext: string;
  releaseId: string;
  project: string;
  release: string;
}
export const CONTEXT_CLAIM_WORKFLOW_TYPE = 'keptnContextClaim';

/** The memo key under which a waiting deployment keeps its open interruption (docs/http-api.md: lists from visibility). */
export const OPEN_INTERRUPTION_MEMO = 'openInterruption';

// The audit trail's deliveries (docs/security.md).

/** Audit events some channel subscribes to, each with those channels. */
export interface AuditDelivery {
  event: AuditEvent;
  channels: string[];
}
export interface AuditTrailInput {
  /** Carried across continue-as-new: what was received and not yet sent. */
  pending?: AuditDelivery[];
}
/** The audit trail's workflow, one per task queue (so two Interlocks sharing a namespace keep theirs apart). */
export const auditTrailWorkflowId = (taskQueue: string) => `interlock-audit-trail:${taskQueue}`;
/** Records the API hands over, a batch at a time. */
export const auditEventsSignal = defineSignal<[AuditDelivery[]]>('auditEvents');

// Break-glass (docs/change-control.md): an override of a policy gate's window or approvals, and the
// list of overrides to review, one workflow per Interlock (`overrides:<taskQueue>`).

export type { OverrideRecord };

/** A member of a policy's override teams passes its window or approvals, with a reason (an update: the API's only way). */
export interface OverrideRequest {
  user: Actor;
  interruptionId: string;
  reason: string;
  expiresAt?: string;
}
export const overrideUpdate = defineUpdate<Interruption, [OverrideRequest]>('override');

export const OVERRIDES_WORKFLOW_TYPE = 'overrideRegistry';

export interface OverridesInput {
  taskQueue: string;
  /** Carried across continue-as-new. */
  overrides?: OverrideRecord[];
}

/** A deployment's override, told once it is applied (by an activity, retried until the list has it; a repeat of an id changes nothing). */
export const recordOverrideSignal = defineSignal<[OverrideRecord]>('recordOverride');

/** An admin marks an override reviewed. */
export interface ReviewOverrideRequest {
  id: string;
  user: Person;
  notes?: string | null;
}
export const reviewOverrideUpdate = defineUpdate<OverrideRecord, [ReviewOverrideRequest]>('reviewOverride');

/** A page of overrides, newest first: all, or only those (not) reviewed; `after` is the last id of the page before. */
export interface OverridesPageRequest {
  reviewed?: boolean;
  after?: string;
  pageSize: number;
}
export interface OverridesPage {
  overrides: OverrideRecord[];
  nextPageToken: string | null;
}
export const overridesQuery = defineQuery<OverridesPage, [OverridesPageRequest]>('overrides');

/** The named failures of the list's update; the API maps each to one HTTP status. */
export type OverrideRegistryErrorType = 'OVERRIDE_NOT_FOUND' | 'ALREADY_REVIEWED';
