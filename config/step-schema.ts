import { z } from 'zod';
import { ON_TIMEOUT, RUN_CONDITIONS, type RunCondition } from '../core/names.js';
import { parseDuration } from '../core/durations.js';
import type { PolicyStep } from './policy-schema.js';
import { INPUT_NAME, INPUT_TYPES, MAX_INPUTS, MAX_OPTIONS } from '../core/approver-inputs.js';
import { isJsonPathFilter } from './json-path.js';

/** The steps of a process (docs/configuration.md), as the config writes them; the workflow receives them parsed (durations in ms). */

export const Id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use lower-case letters, digits and dashes (at most 63)');

export const Duration = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, 'a duration like 30s, 10m, 72h or 1h30m')
  .transform((text) => parseDuration(text)!);

const StepBase = {
  name: z.string().min(1).max(200),
  /** Run only in these environments; every environment when absent. */
  environments: z.array(Id).optional(),
  /** `success` (default): while nothing failed; `failure`: only after a failure or abort; `always` (docs/manual-steps.md). */
  runCondition: z.enum(RUN_CONDITIONS).optional(),
};

/** A failed step opens a `GuidedFailure` interruption instead of failing the deployment (docs/manual-steps.md); the project's setting when absent. */
const GuidedFailure = {
  guidedFailure: z.boolean().optional(),
  /** Whoever triggered the deployment may not take its `GuidedFailure` interruption (retry and ignore let it go on); the project's setting when absent. */
  preventSelfApproval: z.boolean().optional(),
};

export const ScriptStepSchema = z.strictObject({
  ...StepBase,
  ...GuidedFailure,
  type: z.literal('script'),
  run: z.string().min(1),
  timeout: Duration.default(30 * 60_000),
});

export const HttpCheckStepSchema = z.strictObject({
  ...StepBase,
  ...GuidedFailure,
  type: z.literal('http-check'),
  url: z.string().min(1),
  /** A 3xx is the answer unless this says to follow it (docs/configuration.md). */
  followRedirects: z.boolean().optional(),
  expectStatus: z.number().int().min(100).max(599).default(200),
  timeout: Duration.default(10_000),
  retries: z.number().int().min(0).max(20).default(3),
});

/**
 * A condition on a check's JSON answer: an RFC 9535 JSONPath filter expression with the answer as
 * `@` (`@.status == 'ok'`, `@.checks[?@.healthy == false]`, `length(@.errors) == 0`). Parsed by a
 * JSONPath library and evaluated on the answer: data, never code.
 */
const CheckCondition = z
  .string()
  .min(1)
  .max(1000)
  .refine(isJsonPathFilter, "a JSONPath filter expression (RFC 9535) on the answer as @, like @.status == 'ok'");

/** Prometheus's label names, as Alertmanager matches them. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/;

/** At most this many answers are asked for in one check (its history stays short). */
export const MAX_CHECK_POLLS = 1000;

/**
 * An external check that fails closed (docs/manual-steps.md#external-checks): asks `http` (its JSON
 * answer, until `pass` holds or `fail` does) or `alertmanager` (until no alert matching `matchers`
 * fires) every `every`, for at most `timeout`. An error, an answer that is not JSON, or one that
 * neither condition decides never passes: the step fails at its timeout (or opens a `GuidedFailure`
 * interruption, with guided failure).
 */
const CheckStepObject = z.strictObject({
  ...StepBase,
  ...GuidedFailure,
  type: z.literal('check'),
  http: z
    .strictObject({
      url: z.string().min(1).max(2000),
      pass: CheckCondition,
      fail: CheckCondition.optional(),
    })
    .optional(),
  alertmanager: z
    .strictObject({
      url: z.url({ protocol: /^https?$/ }),
      matchers: z
        .record(z.string(), z.string().min(1).max(1000))
        .refine((matchers) => Object.keys(matchers).length > 0, 'name at least one label')
        .superRefine((matchers, ctx) => {
          for (const name of Object.keys(matchers)) {
            if (!LABEL_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'a label name: letters, digits and _, not starting with a digit' });
          }
        }),
    })
    .optional(),
  every: Duration.default(30_000),
  timeout: Duration.default(10 * 60_000),
  /** How long one answer may take. */
  requestTimeout: Duration.default(10_000),
});

/** One source (its absence said at `sourcePath`), and not too many answers asked for. */
const checkRules = <T extends z.ZodType<{ http?: unknown; alertmanager?: unknown; timeout: number; every: number }>>(schema: T, sourcePath: string[] = ['type']) =>
  schema
    .refine((step) => (step.http === undefined) !== (step.alertmanager === undefined), { error: 'give http or alertmanager (one of them)', path: sourcePath })
    .refine((step) => step.timeout / step.every <= MAX_CHECK_POLLS, { error: `timeout / every may be at most ${MAX_CHECK_POLLS}: ask less often, or for less long`, path: ['every'] });

export const CheckStepSchema = checkRules(CheckStepObject);

/** An environment policy's check (docs/change-control.md): a check step's source and timing, with a name; it fails closed, with no guided failure. */
export const PolicyCheckSchema = checkRules(CheckStepObject.omit({ type: true, environments: true, runCondition: true, guidedFailure: true, preventSelfApproval: true }), ['name']);
export type PolicyCheck = z.infer<typeof PolicyCheckSchema>;

/** While an interruption is open: a reminder every `every`; after `escalateAfter`, the `escalateTo` teams may act too (docs/manual-steps.md). */
export const RemindSchema = z
  .strictObject({ every: Duration.optional(), escalateAfter: Duration.optional(), escalateTo: z.array(Id).optional() })
  .refine((remind) => remind.every !== undefined || remind.escalateAfter !== undefined, 'give every, escalateAfter, or both')
  .refine((remind) => (remind.escalateAfter === undefined) === (remind.escalateTo === undefined), 'escalateAfter and escalateTo go together');
export type Remind = z.infer<typeof RemindSchema>;

/** One approval rule (docs/manual-steps.md#approval-rules): `count` approvals from members of any of `teams`. */
export const ApprovalRuleSchema = z.strictObject({
  teams: z.array(Id).min(1).max(20),
  count: z.number().int().min(1).max(10),
});

/**
 * One input whoever proceeds is asked for (docs/manual-steps.md#approver-inputs). What goes with
 * which type, unique names and valid patterns are checked with the rest of the config
 * (`declarationProblems`), so every problem is named at once.
 */
export const ApproverInputSchema = z.strictObject({
  name: z.string().regex(INPUT_NAME, 'a letter, then letters, digits, "_" or "-" (at most 63): it becomes part of a variable name'),
  type: z.enum(INPUT_TYPES),
  options: z.array(z.string().min(1).max(200)).min(1).max(MAX_OPTIONS).optional(),
  pattern: z.string().min(1).max(500).optional(),
  required: z.boolean().optional(),
  description: z.string().max(500).optional(),
});

/** What every step that waits for people shares: who, what they read, how long, and the options of docs/manual-steps.md. */
const InterruptionOptions = {
  instructions: z.string().default(''),
  responsibleTeams: z.array(Id).default([]),
  timeout: Duration.optional(),
  onTimeout: z.enum(ON_TIMEOUT).default('abort'),
  /** Whoever triggered the deployment may not take it (docs/manual-steps.md); the project's setting when absent. */
  preventSelfApproval: z.boolean().optional(),
  /** How many distinct people must each take and proceed (docs/manual-steps.md): the one rule `{teams: responsibleTeams, count}`. */
  requiredApprovals: z.number().int().min(1).max(10).optional(),
  /** Approval rules, all to be met (docs/manual-steps.md#approval-rules); instead of `responsibleTeams` and `requiredApprovals`. */
  rules: z.array(ApprovalRuleSchema).min(1).max(10).optional(),
  /** Each rule only once the ones before it are met. */
  ordered: z.boolean().optional(),
  /** One person's approval counts toward one rule only. */
  distinctPeople: z.boolean().optional(),
  /** What whoever proceeds is asked (docs/manual-steps.md#approver-inputs). */
  inputs: z.array(ApproverInputSchema).max(MAX_INPUTS).optional(),
  /** While it waits, later deployments of the same project and environment stay `Queued` (docs/manual-steps.md). */
  blockConcurrentDeployments: z.boolean().optional(),
  remind: RemindSchema.optional(),
};

export const ManualStepSchema = z.strictObject({
  ...StepBase,
  type: z.literal('manual'),
  ...InterruptionOptions,
});

const Strategy = z.enum(['automatic', 'manual']);

/**
 * Keptn's approval task (docs/keptn.md): judges the result before it; `automatic` passes it on, `manual`
 * asks a person (an `Approval` interruption); a `fail` is declined whatever the strategy.
 */
export const ApprovalStepSchema = z.strictObject({
  ...StepBase,
  type: z.literal('approval'),
  pass: Strategy.default('manual'),
  warning: Strategy.default('manual'),
  ...InterruptionOptions,
});

/** Keptn's quality gate (docs/keptn.md): scores the project's `slo:` with values from its `sli:`. */
export const EvaluationStepSchema = z.strictObject({
  ...StepBase,
  type: z.literal('evaluation'),
  /** Keptn's evaluation window; steps and SLI sources read it as `#{Evaluation.Timeframe}`. */
  timeframe: Duration.default(5 * 60_000),
  timeout: Duration.default(5 * 60_000),
});

/** Sends one message through a channel of `notifications:` (docs/notifications.md), its template filled in with the deployment's variables. */
export const NotifyStepSchema = z.strictObject({
  ...StepBase,
  type: z.literal('notify'),
  channel: Id,
  template: z.string().min(1).max(10_000),
  /** For email: the subject, also a template. */
  subject: z.string().min(1).max(500).optional(),
});

/** One entry of a project's process; the workflow receives these, already parsed (durations in ms). */
export const StepSchema = z.discriminatedUnion('type', [
  ScriptStepSchema,
  HttpCheckStepSchema,
  CheckStepSchema,
  ManualStepSchema,
  NotifyStepSchema,
  ApprovalStepSchema,
  EvaluationStepSchema,
]);
export type Step = z.infer<typeof StepSchema>;
export type ScriptStep = z.infer<typeof ScriptStepSchema>;
export type HttpCheckStep = z.infer<typeof HttpCheckStepSchema>;
export type CheckStep = z.infer<typeof CheckStepSchema>;
export type ManualStep = z.infer<typeof ManualStepSchema>;
export type ApprovalStep = z.infer<typeof ApprovalStepSchema>;
export type EvaluationStep = z.infer<typeof EvaluationStepSchema>;
export type NotifyStep = z.infer<typeof NotifyStepSchema>;
/** The steps that wait for a person. */
export type InterruptingStep = ManualStep | ApprovalStep;

/**
 * Who may answer an external task: a username of `users:`, or `team:<id>` for every member of a
 * team. Admins always may.
 */
export const ExecutorSchema = z
  .string()
  .regex(/^(?:team:[a-z0-9][a-z0-9-]{0,62}|[a-z0-9][a-z0-9._-]{0,62})$/, 'a username, or team:<team id>');

/**
 * A lifecycle task done outside Interlock, as a project's `tasks:` names it: `je-test: { type:
 * external, executors: [je-bot, team:qa-bots], timeout: 2h }`. Only its executors (and admins) may
 * post its `.started` and `.finished` events.
 */
export const ExternalTaskSchema = z.strictObject({
  environments: StepBase.environments,
  runCondition: StepBase.runCondition,
  type: z.literal('external'),
  executors: z.array(ExecutorSchema).default([]),
  /** How long to wait for the `.finished` event; the shipyard task's `properties.timeout`, else 24 h, when absent. */
  timeout: Duration.optional(),
});

/**
 * A lifecycle task that Interlock does not run itself: sent as `sh.keptn.event.<task>.triggered`
 * to the subscriptions that ask for it, and done when its `.finished` event is posted back by one
 * of its executors. A shipyard task that `tasks:` does not name is one too, with admins as its only
 * executors.
 */
export interface ExternalStep {
  name: string;
  type: 'external';
  environments?: string[] | undefined;
  runCondition?: RunCondition | undefined;
  /** How long to wait for the `.finished` event (ms); default 24 h. */
  timeout: number;
  /**
   * Usernames and `team:<id>`s whose `.started`/`.finished` are accepted, besides admins'. Copied
   * into the deployment when it starts, so a running deployment keeps the executors it started
   * with; absent in deployments started before executors were named (admins only).
   */
  executors?: string[] | undefined;
}

/** What a deployment runs: the config's steps, lifecycle tasks done by others, and the gates of the environment's policies (docs/change-control.md). */
export type ProcessStep = (Step | ExternalStep | PolicyStep) & {
  /** Keptn's `triggeredAfter`: wait this long (ms) before the step starts. */
  startAfter?: number | undefined;
};

/** A task of a lifecycle project's `tasks:` map: any step, named by its key. */
export const TaskStepSchema = z.discriminatedUnion('type', [
  ScriptStepSchema.omit({ name: true }),
  HttpCheckStepSchema.omit({ name: true }),
  checkRules(CheckStepObject.omit({ name: true })),
  ManualStepSchema.omit({ name: true }),
  NotifyStepSchema.omit({ name: true }),
  ExternalTaskSchema,
]);
export type TaskStep = z.infer<typeof TaskStepSchema>;

