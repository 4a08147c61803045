/**
 * Every name the layers share — statuses, step types, roles, interruption kinds and states — said
 * once, as `as const` arrays. Types derive from them here; zod enums (config, API schemas) are
 * built from the same arrays, so a name added here reaches every layer or fails to compile.
 * Pure: no Temporal import, so the config, the API, the dashboard and the CLI can all use it.
 */

export const DEPLOYMENT_STATUSES = ['Running', 'Waiting', 'Succeeded', 'Failed', 'Aborted', 'Cancelled'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** The statuses a deployment never leaves. */
export const FINISHED_STATUSES = ['Succeeded', 'Failed', 'Aborted', 'Cancelled'] as const satisfies readonly DeploymentStatus[];
export const isFinished = (status: DeploymentStatus): boolean => (FINISHED_STATUSES as readonly string[]).includes(status);

export const STEP_STATUSES = ['Pending', 'Running', 'Waiting', 'Succeeded', 'Failed', 'Skipped', 'Aborted', 'Cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const STEP_TYPES = ['script', 'http-check', 'manual'] as const;
export type StepType = (typeof STEP_TYPES)[number];

/** Cumulative, in this order: an admin is a deployer, and everyone signed in is a viewer. */
export const ROLES = ['viewer', 'deployer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const INTERRUPTION_KINDS = ['Manual'] as const;
export type InterruptionKind = (typeof INTERRUPTION_KINDS)[number];

export const INTERRUPTION_STATES = ['Pending', 'Assigned', 'Proceeded', 'Aborted', 'TimedOut'] as const;
export type InterruptionState = (typeof INTERRUPTION_STATES)[number];
/** The states in which someone may still act. */
export const OPEN_INTERRUPTION_STATES = ['Pending', 'Assigned'] as const satisfies readonly InterruptionState[];

/** What a person (or a timer, or a cancellation) did, as the timeline records it. */
export const TIMELINE_ACTIONS = ['takeResponsibility', 'proceed', 'abort', 'timeout', 'cancel'] as const;
export type TimelineAction = (typeof TIMELINE_ACTIONS)[number];

/** The actions a person can take on an open interruption, as `GET /api/interruptions` offers them. */
export const INTERRUPTION_ACTIONS = ['takeResponsibility', 'takeOver', 'proceed', 'abort'] as const;
export type InterruptionActionName = (typeof INTERRUPTION_ACTIONS)[number];

export const ON_TIMEOUT = ['abort', 'proceed'] as const;
export type OnTimeout = (typeof ON_TIMEOUT)[number];
