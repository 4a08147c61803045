/**
 * The one contract between the API (and operators in Temporal Web) and the deployment workflow:
 * its input, its view, its signals, updates and query, and its search attributes. The names sent
 * over the wire (`takeResponsibility`, `proceed`, `abort`, `state`, the search attribute names)
 * never change once released: running deployments and scripts depend on them.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Step } from '../config/schema.js';
import type { Actor, Interruption, Person, RefusalType } from './interruption.js';
import type { DeploymentStatus, StepStatus, TimelineAction } from './names.js';
import type { Variables } from './variables.js';

export type { Actor, DeploymentStatus, Interruption, Person, Step, StepStatus, Variables };
export { FINISHED_STATUSES, isFinished } from './names.js';

/** Everything a deployment needs, copied at trigger time: editing the config never changes a running one. */
export interface DeploymentInput {
  id: string;
  project: { id: string; name: string };
  environment: string;
  release: string;
  process: Step[];
  /** Project variables overlaid with the variables given by whoever triggered it. */
  variables: Variables;
  /** The names of the variables a trigger could set: data from outside, kept out of URLs' hosts (SPEC §4.1). */
  prompted?: string[];
  /** The names of sensitive variables: masked in every view, log and memo (SPEC §4.1). */
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
}

export interface StepView {
  name: string;
  type: Step['type'];
  status: StepStatus;
  /** The last 64 KiB of the step's output, or why it did not run. */
  log: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface TimelineEntry {
  at: string;
  /** The username, or `system` for timers and cancellation. */
  user: string;
  action: TimelineAction;
  result: 'accepted' | 'refused';
  /** The refusal's type and words, or what an accepted action did (`took over from mlee`). */
  reason?: string;
  interruption?: string;
  via?: 'update' | 'signal';
  /** Refusals of the same person, action and reason are kept as one entry: how many, and the last one's time. */
  count?: number;
  lastAt?: string;
}

/** What `GET /api/deployments/{id}` and the `state` query return (SPEC §6). */
export interface DeploymentView {
  id: string;
  project: string;
  projectName: string;
  environment: string;
  release: string;
  status: DeploymentStatus;
  createdAt: string;
  finishedAt: string | null;
  triggeredBy: Person;
  steps: StepView[];
  interruptions: Interruption[];
  variables: Variables;
  timeline: TimelineEntry[];
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
}

/** The named failures of the workflow's updates; the API maps each to one HTTP status. */
export type DeploymentErrorType = RefusalType | 'NOT_WAITING' | 'INTERRUPTION_NOT_FOUND' | 'EXPIRED' | 'BAD_REQUEST';

export const takeResponsibilityUpdate = defineUpdate<Interruption, [TakeResponsibilityRequest]>('takeResponsibility');
export const proceedUpdate = defineUpdate<Interruption, [DecisionRequest]>('proceed');
export const abortUpdate = defineUpdate<Interruption, [DecisionRequest]>('abort');

export const takeResponsibilitySignal = defineSignal<[TakeResponsibilityRequest]>('takeResponsibility');
export const proceedSignal = defineSignal<[DecisionRequest]>('proceed');
export const abortSignal = defineSignal<[DecisionRequest]>('abort');

/** Who asks for the cancellation that follows (Temporal's own cancel request carries no user). */
export interface CancelRequest {
  user: Person;
}
export const cancelRequestSignal = defineSignal<[CancelRequest]>('cancelRequest');

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
} as const;

export const WORKFLOW_TYPE = 'deployment';

/** The memo key under which a waiting deployment keeps its open interruption (SPEC §11: lists from visibility). */
export const OPEN_INTERRUPTION_MEMO = 'openInterruption';
