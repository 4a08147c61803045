/**
 * Every name the layers share — statuses, step types, roles, interruption kinds and states — said
 * once, as `as const` arrays. Types derive from them here; zod enums (config, API schemas) are
 * built from the same arrays, so a name added here reaches every layer or fails to compile.
 * Pure: no Temporal import, so the config, the API, the dashboard and the CLI can all use it.
 */

/**
 * `Queued`: held at the start behind a deployment that waits at a `blockConcurrentDeployments` step (docs/manual-steps.md).
 * `Superseded`: ended while it waited for a decision or its window, because a newer release of the
 * project was triggered to the environment; `Expired`: not past its gates by the trigger's `notAfter`
 * (docs/change-control.md).
 */
export const DEPLOYMENT_STATUSES = ['Queued', 'Running', 'Waiting', 'Succeeded', 'Failed', 'Aborted', 'Cancelled', 'Superseded', 'Expired'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** The statuses a deployment never leaves. */
export const FINISHED_STATUSES = ['Succeeded', 'Failed', 'Aborted', 'Cancelled', 'Superseded', 'Expired'] as const satisfies readonly DeploymentStatus[];
export type FinishedStatus = (typeof FINISHED_STATUSES)[number];
export const isFinished = (status: DeploymentStatus): boolean => (FINISHED_STATUSES as readonly string[]).includes(status);

export const STEP_STATUSES = ['Pending', 'Running', 'Waiting', 'Succeeded', 'Failed', 'Skipped', 'Aborted', 'Cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** What a config's process (or a lifecycle project's `tasks:`) may name. */
export const CONFIG_STEP_TYPES = ['script', 'http-check', 'check', 'manual', 'notify', 'approval', 'evaluation'] as const;
/**
 * Every step a view shows: a lifecycle task that nothing in `tasks:` runs is an `external` one, done
 * over CloudEvents (docs/keptn.md); a `policy` step is an environment policy's gate, which the server
 * puts before the first step of every deployment it applies to (docs/change-control.md). No process names either.
 */
export const STEP_TYPES = [...CONFIG_STEP_TYPES, 'external', 'policy'] as const;
export type StepType = (typeof STEP_TYPES)[number];

/** A Keptn task's (and a lifecycle step's) result, and its status (docs/keptn.md). */
export const TASK_RESULTS = ['pass', 'warning', 'fail'] as const;
export type TaskResult = (typeof TASK_RESULTS)[number];
export const TASK_STATUSES = ['succeeded', 'errored', 'aborted'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Octopus's run conditions (docs/manual-steps.md). */
export const RUN_CONDITIONS = ['success', 'failure', 'always'] as const;
export type RunCondition = (typeof RUN_CONDITIONS)[number];

/** A release of a lifecycle project: the same words as a deployment's, without `Queued`. */
export const RELEASE_STATUSES = ['Running', 'Waiting', 'Succeeded', 'Failed', 'Aborted', 'Cancelled'] as const satisfies readonly DeploymentStatus[];
export type ReleaseStatus = (typeof RELEASE_STATUSES)[number];

/**
 * What a grant gives, on the projects and environments it names (docs/security.md): a `viewer` sees;
 * a `deployer` also triggers, cancels and posts Keptn events; an `operator` also uses Temporal Web
 * with decoded payloads; an `admin` does everything. Each includes the viewer; an admin includes all.
 */
export const ROLES = ['viewer', 'deployer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The roles a workflow knows someone by (the `roles` of the actor in its signals, updates and roster):
 * the operator is not one of them, since it opens Temporal Web and decides nothing in a workflow.
 */
export const ACTOR_ROLES = ['viewer', 'deployer', 'admin'] as const satisfies readonly Role[];
export type ActorRole = (typeof ACTOR_ROLES)[number];

/**
 * `Manual`: a manual step; `Approval`: Keptn's approval task, or a policy's approvals, when a person must decide;
 * `GuidedFailure`: a failed step a person retries, ignores or fails; `Window`: a policy gate outside its
 * deployment window or inside a freeze, which opens by itself at `opensAt` (docs/change-control.md).
 */
export const INTERRUPTION_KINDS = ['Manual', 'Approval', 'GuidedFailure', 'Window'] as const;
export type InterruptionKind = (typeof INTERRUPTION_KINDS)[number];

/** `WindowOpened`: a `Window` interruption whose window opened (its timer fired); `Overridden`: passed by break-glass (docs/change-control.md). */
export const INTERRUPTION_STATES = [
  'Pending', 'Assigned', 'Proceeded', 'Aborted', 'TimedOut', 'Retried', 'Ignored', 'Failed', 'WindowOpened', 'Overridden',
  /** Still open when its deployment was superseded or expired (docs/change-control.md). */
  'Superseded', 'Expired',
] as const;
export type InterruptionState = (typeof INTERRUPTION_STATES)[number];
/** The states in which someone may still act. */
export const OPEN_INTERRUPTION_STATES = ['Pending', 'Assigned'] as const satisfies readonly InterruptionState[];

/** What a person (or a timer, or a cancellation) did, as the timeline records it. */
export const TIMELINE_ACTIONS = [
  'takeResponsibility', 'proceed', 'abort', 'retry', 'ignore', 'fail', 'timeout', 'cancel',
  /** A reminder sent, an interruption escalated, a deployment queued or released, a notification that could not be delivered. */
  'remind', 'escalate', 'queue', 'notify',
  /** Break-glass: a member of a policy's override teams let the deployment past a window, a freeze or its approvals (docs/change-control.md). */
  'Overridden',
  /** A newer release superseded it; its trigger's `notAfter` passed before its gates did (docs/change-control.md). */
  'supersede', 'expire',
] as const;
export type TimelineAction = (typeof TIMELINE_ACTIONS)[number];

/** The actions a person can take on an open interruption, as `GET /api/interruptions` offers them. */
export const INTERRUPTION_ACTIONS = ['takeResponsibility', 'takeOver', 'proceed', 'abort', 'retry', 'ignore', 'fail', 'override'] as const;
export type InterruptionActionName = (typeof INTERRUPTION_ACTIONS)[number];

export const ON_TIMEOUT = ['abort', 'proceed'] as const;
export type OnTimeout = (typeof ON_TIMEOUT)[number];

/** What the assignee of a `GuidedFailure` interruption may choose (docs/manual-steps.md), and the state each leaves it in. */
export const GUIDED_FAILURE_ACTIONS = ['retry', 'ignore', 'fail'] as const;
export type GuidedFailureAction = (typeof GUIDED_FAILURE_ACTIONS)[number];

/** Every decision a person takes on an interruption they hold: proceed or abort a manual step or an approval; retry, ignore or fail a guided failure. */
export const DECISION_TYPES = ['proceed', 'abort', ...GUIDED_FAILURE_ACTIONS] as const;
export type DecisionType = (typeof DECISION_TYPES)[number];
export const isDecisionType = (name: string): name is DecisionType => (DECISION_TYPES as readonly string[]).includes(name);

// Change control (docs/change-control.md): environment policies, their windows, and break-glass.

/** The days of a deployment window, as the config writes them. */
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** What a policy gate does outside its window or inside a freeze: wait until it opens (the default), or fail the deployment. */
export const ON_CLOSED = ['wait', 'fail'] as const;
export type OnClosed = (typeof ON_CLOSED)[number];

/** Where each part of a policy gate (its checks, its window and freezes, its approvals) stands, as the step's view shows it. */
export const POLICY_PART_STATES = ['NotRequired', 'Pending', 'Waiting', 'Passed', 'Overridden', 'Failed'] as const;
export type PolicyPartState = (typeof POLICY_PART_STATES)[number];

/** The parts of a policy gate that break-glass may pass. */
export const OVERRIDE_PARTS = ['window', 'approvals'] as const;
export type OverridePart = (typeof OVERRIDE_PARTS)[number];
