/**
 * What the workflows ask of the outside world: every activity a worker registers, by name, with
 * its input and output. Workflows proxy this interface (`proxyActivities<Activities>`); `activities/`
 * implements it (`createActivities(deps) satisfies Activities`). So workflow code never imports an
 * activity, and the activities depend on the workflows' contract, not the other way round.
 */
import type { OverrideRecord } from '../core/break-glass.js';
import type { AuditEvent, CloudEvent } from '../core/cloud-events.js';
import type { PreviousEvaluation } from '../core/slo-scoring.js';
import type { TriggerContext, VariableSet } from '../core/decision-context.js';

/** What a decision's context is worked out for: a deployment's project, environment, variables and release notes. */
export interface ContextRequest {
  project: string;
  environment: string;
  current: VariableSet;
  releaseNotes: string | undefined;
}

/** What a step's activity leaves in its log. */
export interface StepOutput {
  log: string;
}

export interface RunScriptInput {
  /** The script, run with `bash -c`; `#{Name}` already turned into quoted references to `env`. */
  script: string;
  /** The deployment's values, by the names the script refers to them with. */
  env?: Record<string, string>;
  timeoutMs: number;
  /** Sensitive values: masked in the log before it leaves the worker. */
  mask?: string[];
}

export interface CheckHttpInput {
  url: string;
  expectStatus: number;
  timeoutMs: number;
  /** Follow 3xx answers; otherwise the 3xx is the status. */
  followRedirects?: boolean;
}

/** One answer of an external check's source, with the deployment's variables already substituted. */
export type CheckSource =
  | { http: { url: string; pass: string; fail?: string | undefined } }
  | { alertmanager: { url: string; matchers: Record<string, string> } };

export interface CheckOnceInput {
  source: CheckSource;
  timeoutMs: number;
}

/**
 * What one answer says: `pass` and `fail` decide; `pending` (neither condition holds yet, alerts
 * still firing) and `inconclusive` (an error, not JSON, not reachable) never pass.
 */
export type CheckVerdict = 'pass' | 'fail' | 'pending' | 'inconclusive';
export interface CheckOnceOutput {
  verdict: CheckVerdict;
  /** One line: what was asked, what answered, what it means. */
  log: string;
}

/** Where an SLI's value comes from, with the deployment's variables already substituted. */
export type SliFetchSource =
  /** As runScript's input: `#{Name}` already turned into references to `env`. */
  | { script: string; env?: Record<string, string>; timeoutMs: number }
  | { prometheus: { url: string; query: string }; timeoutMs?: number };

export interface FetchSliInput {
  name: string;
  source: SliFetchSource;
  /** Sensitive values: masked in the log and in failure messages. */
  mask?: string[];
}

export interface SliOutput {
  value: number;
  log: string;
}

export interface DeliverNotificationInput {
  /** A channel id of the worker's `notifications.channels`. */
  channel: string;
  event: CloudEvent | AuditEvent;
  /** The event's id was chosen outside Interlock (a posted trigger's): the Idempotency-Key is made here instead. */
  foreignId?: boolean;
}

export interface EnterGateInput {
  gateId: string;
  deploymentId: string;
  /** When the deployment was triggered: the gate's queue keeps that order. */
  triggeredAt?: string;
  project: string;
  environment: string;
  taskQueue: string;
}

export interface PreviousEvaluationsInput {
  project: string;
  stage: string;
  /** The deployment asking, which is not its own predecessor. */
  excludeId: string;
  limit: number;
}

export interface Activities {
  /** Runs a `script` step's script with bash, in a clean environment, killed with its worker. */
  runScript(input: RunScriptInput): Promise<StepOutput>;
  /** One GET of an `http-check` step's URL, retried by the workflow's policy. */
  checkHttp(input: CheckHttpInput): Promise<StepOutput>;
  /** Asks an external check's source once; never throws for what the source answers (or does not). */
  checkOnce(input: CheckOnceInput): Promise<CheckOnceOutput>;
  /** One SLI's value, from a script or a Prometheus instant query. */
  fetchSli(input: FetchSliInput): Promise<SliOutput>;
  /** Sends one event through one channel: a webhook POST or one email per recipient. */
  deliverNotification(input: DeliverNotificationInput): Promise<StepOutput>;
  /** Asks the gate of a project and environment to let a deployment start, starting the gate if need be. */
  enterGate(input: EnterGateInput): Promise<void>;
  /** Which of these deployments have ended (or never were). */
  closedDeployments(input: { ids: string[] }): Promise<string[]>;
  /** The evaluations of earlier deployments of a project's stage, newest first. */
  previousEvaluations(input: PreviousEvaluationsInput): Promise<PreviousEvaluation[]>;
  /** Puts a break-glass override on the list of overrides to review (`overrides:<taskQueue>`), starting the list if need be. */
  recordOverride(input: OverrideRecord): Promise<void>;
  /** What Temporal knows of a deployment of this task queue: its project, environment and start; null when there is none. */
  deploymentFacts(input: { id: string }): Promise<DeploymentFacts | null>;
  /** The context a deployment's interruptions show (docs/change-control.md#the-context-to-decide), worked out when it starts. */
  decisionContext(input: ContextRequest): Promise<TriggerContext>;
}

export interface DeploymentFacts {
  project: string;
  environment: string;
  startedAt: string;
}
