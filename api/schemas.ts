import { z } from '@hono/zod-openapi';
import type { DeploymentSummary, DeploymentWithLinks, OpenInterruption } from '../service/deployments.js';
import { MAX_NOTES, MAX_RUN_AT_DAYS, notesProblem } from '../core/interruptions.js';
import { OVERRIDE_REASON_MAX, type OverrideRecord, overrideReasonProblem } from '../core/break-glass.js';
import type { PolicyView } from '../core/views.js';
import { INPUT_TYPES, INPUT_VALUE_SHAPE, inputLengthProblem, MAX_INPUT_LENGTH, MAX_INPUTS } from '../core/approver-inputs.js';
import type { Interruption, Person, StepView, TimelineEntry } from '../workflows/messages.js';
import {
  DEPLOYMENT_STATUSES,
  FINISHED_STATUSES,
  INTERRUPTION_ACTIONS,
  INTERRUPTION_KINDS,
  INTERRUPTION_STATES,
  ON_TIMEOUT,
  OVERRIDE_PARTS,
  POLICY_PART_STATES,
  ROLES,
  STEP_STATUSES,
  STEP_TYPES,
  RELEASE_STATUSES,
  TASK_RESULTS,
  TIMELINE_ACTIONS,
} from '../core/names.js';
import type { ReleaseSummary, ReleaseWithLinks } from '../service/releases.js';
import type { Evaluation } from '../core/slo-scoring.js';
import type { DecisionContext } from '../core/decision-context.js';
import { CreateDeploymentSchema, CreateReleaseSchema, ListDeploymentsQuerySchema, ListReleasesQuerySchema, VariablesSchema } from '../service/request-schemas.js';

export { CreateDeploymentSchema, CreateReleaseSchema, ListDeploymentsQuerySchema, ListReleasesQuerySchema, VariablesSchema };

// Response schemas are checked against the types the service returns (`satisfies`), so the OpenAPI
// document cannot drift from what the API sends; every enum comes from core/names.ts.


export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().optional().openapi({ description: 'The named refusal, e.g. HELD_BY_OTHER' }),
    missing: z
      .object({ role: z.string(), project: z.string().optional(), environment: z.string().optional() })
      .optional()
      .openapi({ description: 'NOT_PERMITTED: the role that was missing, and the project and environment it is needed on' }),
    errors: z.array(z.object({ name: z.string(), reason: z.string() })).optional(),
    instance: z.string().optional(),
  })
  .openapi('Problem');

/** Routes under /api need a bearer token (or, for GET, the dashboard's session). */
export const bearerSecurity = [{ bearer: [] }];

/** A JSON response of an OpenAPI route. */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const problemResponses = (...statuses: (keyof typeof PROBLEM_DESCRIPTIONS)[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: PROBLEM_DESCRIPTIONS[status], content: { 'application/problem+json': { schema: ProblemSchema } } },
    ]),
  );

const PROBLEM_DESCRIPTIONS = {
  400: 'Invalid input; `errors` names every invalid field',
  401: 'No token, or a token that belongs to nobody',
  403: 'Not allowed',
  404: 'No such thing',
  409: 'Conflicting state; `detail` says what to do',
  413: 'The body is larger than the API accepts (1 MiB); nothing was done',
  429: 'Too many requests; see Retry-After',
  503: 'Temporal or the worker did not answer in time; nothing was done (see Retry-After)',
} as const;

export const PersonSchema = z
  .object({ id: z.string(), username: z.string(), displayName: z.string(), email: z.string().optional() })
  .openapi('Person') satisfies z.ZodType<Person>;

/** A person or nobody: `anyOf` in the document (a nullable `$ref` would read as "always a Person"). */
const NullablePerson = z.union([PersonSchema, z.null()]);

export const GrantSchema = z
  .object({
    role: z.enum(ROLES),
    projects: z.array(z.string()).optional().openapi({ description: 'Only these projects; every project when absent' }),
    environments: z.array(z.string()).optional().openapi({ description: 'Only these environments (stages); every one when absent' }),
  })
  .openapi('Grant');

export const MeSchema = PersonSchema.extend({
  teams: z.array(z.object({ id: z.string(), name: z.string() })),
  roles: z.array(z.enum(ROLES)).openapi({ description: 'The roles your grants give, wherever they apply (see `grants` for where); a read-only token\'s are a viewer\'s' }),
  grants: z.array(GrantSchema).openapi({ description: 'What you may do where: your own grants, your roles (unscoped), your teams\' grants' }),
  via: z.enum(['token', 'session', 'oidc', 'jwt']).openapi({ description: 'How you signed in' }),
  readOnly: z.literal(true).optional().openapi({ description: 'Your token may only look, whatever its grants' }),
}).openapi('Me');

export const StepSummarySchema = z.object({
  name: z.string(),
  type: z.enum(STEP_TYPES),
  environments: z.array(z.string()).nullable(),
  responsibleTeams: z.array(z.string()).optional(),
});

export const ProjectSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    environments: z.array(z.string()),
    variables: z.record(z.string(), z.string()).openapi({ description: 'Each variable\'s value when nobody sets it' }),
    prompted: z
      .array(z.object({ name: z.string(), required: z.boolean(), default: z.string().optional(), pattern: z.string().optional(), description: z.string().optional() }))
      .openapi({ description: 'The variables a trigger may set (docs/configuration.md); a required one must be given' }),
    steps: z.array(StepSummarySchema).openapi({ description: 'The process; empty for a lifecycle project, whose steps are its stages\' tasks' }),
    stages: z
      .array(z.object({
        name: z.string(),
        sequences: z.array(z.object({ name: z.string(), triggeredOn: z.array(z.string()), tasks: z.array(z.object({ name: z.string(), type: z.enum(STEP_TYPES) })) })),
      }))
      .optional()
      .openapi({ description: 'A lifecycle project\'s shipyard (docs/keptn.md): its stages, each sequence and what starts it, each task and what runs it' }),
    access: z
      .array(z.object({ environment: z.string(), roles: z.array(z.enum(ROLES)) }))
      .openapi({ description: 'Your roles in each environment (stage) of it you may see, in promotion order: `deployer` where you may deploy' }),
  })
  .openapi('Project');



export const DeploymentStatusSchema = z.enum(DEPLOYMENT_STATUSES);

/** Who broke glass on an interruption, why and when (docs/change-control.md). */
const OverrideSchema = z.object({ id: z.string(), user: PersonSchema, reason: z.string(), at: z.string() });

const PolicyPartSchema = z.enum(POLICY_PART_STATES);

/** A policy gate's parts (docs/change-control.md). */
const PolicyViewSchema = z
  .object({
    checks: z.object({ state: PolicyPartSchema }),
    window: z.object({
      state: PolicyPartSchema,
      window: z.string().optional().openapi({ description: 'The weekly window, e.g. Mon–Thu 09:00–16:00 Europe/London' }),
      opensAt: z.string().optional(),
      reason: z.string().optional(),
      interruption: z.string().optional(),
    }),
    approvals: z.object({ state: PolicyPartSchema, interruption: z.string().optional() }),
    overrideTeams: z.array(z.string()),
  })
  .openapi('PolicyGate') satisfies z.ZodType<PolicyView>;
const InputValuesSchema = z.record(z.string(), z.union([z.string(), z.boolean()]));

const ApprovalSchema = z.object({
  user: PersonSchema,
  at: z.string(),
  notes: z.string().nullable(),
  inputValues: InputValuesSchema.optional().openapi({ description: 'The inputs this approver gave, when the step asks for some' }),
});

/** An approval rule with its progress (docs/manual-steps.md#approval-rules). */
export const ApprovalRuleProgressSchema = z
  .object({
    teams: z.array(z.string()).openapi({ description: 'Members of any of these teams (and admins) count toward it; empty: any deployer' }),
    count: z.number().int().openapi({ description: 'How many approvals it needs' }),
    approvals: z.array(ApprovalSchema).openapi({ description: 'The approvals counted toward it, oldest first' }),
    met: z.boolean(),
  })
  .openapi('ApprovalRule');

/** What the rules still need, and who may approve now. */
export const RemainingApprovalsSchema = z
  .object({
    rules: z
      .array(z.object({ rule: z.number().int().openapi({ description: 'Its index in rules' }), teams: z.array(z.string()), needed: z.number().int().openapi({ description: 'How many more approvals it needs' }) }))
      .openapi({ description: 'The rules still to meet' }),
    mayApprove: z.array(z.string()).openapi({ description: 'Usernames of the people the open rules address now (their teams; not whoever already approved or triggered it with preventSelfApproval); admins may approve too' }),
  })
  .openapi('RemainingApprovals');

/** One input a step asks of whoever proceeds (docs/manual-steps.md#approver-inputs). */
export const ApproverInputSchema = z
  .object({
    name: z.string(),
    type: z.enum(INPUT_TYPES),
    options: z.array(z.string()).optional().openapi({ description: 'A choice\'s options' }),
    pattern: z.string().optional().openapi({ description: 'A text\'s pattern: the whole value must match it' }),
    required: z.boolean().optional().openapi({ description: 'Must be given to proceed; a required boolean must be true' }),
    description: z.string().optional(),
  })
  .openapi('ApproverInput');

/** What is being decided (docs/change-control.md#the-context-to-decide). */
export const DecisionContextSchema = z
  .object({
    releaseNotes: z.string().nullable().openapi({ description: 'The trigger\'s release notes (markdown, shown as text); null when it gave none' }),
    previous: z
      .object({
        deploymentId: z.string(),
        release: z.string(),
        finishedAt: z.string().nullable(),
        triggeredBy: z.string().openapi({ description: 'The username of whoever triggered it' }),
        approvedBy: z
          .array(z.object({ username: z.string(), displayName: z.string(), step: z.string(), at: z.string() }))
          .openapi({ description: 'Whose proceed let each of its manual steps and approvals go on, and when; oldest first' }),
      })
      .nullable()
      .openapi({ description: 'The newest successful deployment of the same project and environment when this one was triggered; null when there was none' }),
    changedVariables: z
      .array(z.object({ name: z.string(), from: z.string().nullable(), to: z.string().nullable() }))
      .openapi({ description: 'The variables whose values differ from the previous deployment\'s, by name; sensitive ones show ******** for each value; null where one had none' }),
    evaluation: z
      .object({ step: z.string(), result: z.enum(TASK_RESULTS), score: z.number() })
      .optional()
      .openapi({ description: 'The deployment\'s latest evaluation when the interruption opened' }),
    remaining: RemainingApprovalsSchema.openapi({ description: 'With rules, the same as the interruption\'s remaining; otherwise who it is for now (admins may act too); empty once it is over' }),
  })
  .openapi('DecisionContext') satisfies z.ZodType<DecisionContext>;

export const InterruptionSchema = z
  .object({
    id: z.string(),
    kind: z.enum(INTERRUPTION_KINDS),
    step: z.string(),
    state: z.enum(INTERRUPTION_STATES),
    instructions: z.string(),
    responsibleTeams: z.array(z.string()),
    assignee: NullablePerson,
    notes: z.string().nullable(),
    createdAt: z.string(),
    decidedAt: z.string().nullable(),
    timeoutAt: z.string().nullable(),
    onTimeout: z.enum(ON_TIMEOUT),
    decidedVia: z.enum(['update', 'signal']).optional().openapi({ description: 'How the decision arrived: an update (the API) or a signal (Temporal Web)' }),
    excludedUserIds: z.array(z.string()).optional().openapi({ description: 'Who may not take it: whoever triggered the deployment, with preventSelfApproval' }),
    requiredApprovals: z.number().int().optional().openapi({ description: 'How many distinct people must each take and proceed' }),
    approvals: z
      .array(ApprovalSchema)
      .optional()
      .openapi({ description: 'The approvals so far, oldest first' }),
    escalateTo: z.array(z.string()).optional().openapi({ description: 'With remind.escalateAfter: the teams that may act too from escalateAt on' }),
    escalateAt: z.string().optional(),
    escalated: z.boolean().optional().openapi({ description: 'The escalation has happened: escalateTo teams may act' }),
    reminders: z.number().int().optional().openapi({ description: 'Reminders sent so far' }),
    opensAt: z.string().optional().openapi({ description: 'A Window interruption: when its window opens (its durable timer); it goes on by itself then' }),
    reason: z.string().optional().openapi({ description: 'A Window interruption: why the gate is closed (outside the window, or a freeze\'s reason)' }),
    timezone: z.string().optional().openapi({ description: 'A Window interruption: the window\'s IANA time zone, to read opensAt in' }),
    overrideTeams: z.array(z.string()).optional().openapi({ description: 'A policy gate\'s window or approvals: the teams whose members may override it (break-glass)' }),
    override: OverrideSchema.optional().openapi({ description: 'Set once someone overrode it (state Overridden)' }),
    rules: z.array(ApprovalRuleProgressSchema).optional().openapi({ description: 'Approval rules, all to be met, each with its progress (a step\'s rules, or requiredApprovals as one rule)' }),
    ordered: z.boolean().optional().openapi({ description: 'Each rule only once the ones before it are met' }),
    distinctPeople: z.boolean().optional().openapi({ description: 'One person\'s approval counts toward one rule only' }),
    remaining: RemainingApprovalsSchema.optional().openapi({ description: 'With rules, while open: what is still needed and who may approve now' }),
    inputs: z.array(ApproverInputSchema).optional().openapi({ description: 'What the step asks whoever proceeds; proceed sends them as inputs' }),
    inputValues: InputValuesSchema.optional().openapi({ description: 'The inputs of the proceed that completed it' }),
    runAt: z.string().optional().openapi({ description: 'Proceeded with runAt: when the deployment goes on' }),
    context: DecisionContextSchema.optional().openapi({ description: 'What is being decided: release notes, the previous deployment, changed variables, the latest evaluation, what is still needed' }),
  })
  .openapi('Interruption') satisfies z.ZodType<Interruption>;

const CriterionResultSchema = z.object({ criterion: z.string(), target: z.number(), violated: z.boolean(), group: z.number().int() });

/** An evaluation's score and per-objective table (Keptn's quality gate, docs/keptn.md). */
export const EvaluationSchema = z
  .object({
    result: z.enum(TASK_RESULTS),
    score: z.number(),
    totalScore: z.object({ pass: z.string(), warning: z.string() }),
    objectives: z.array(
      z.object({
        sli: z.string(),
        displayName: z.string(),
        value: z.number().nullable(),
        weight: z.number(),
        keySli: z.boolean(),
        status: z.enum(['pass', 'warning', 'fail', 'info']),
        score: z.number(),
        pass: z.array(CriterionResultSchema),
        warning: z.array(CriterionResultSchema),
        comparedValue: z.number().optional(),
        message: z.string().optional(),
      }),
    ),
    comparedWith: z.number().int(),
    message: z.string(),
  })
  .openapi('Evaluation') satisfies z.ZodType<Evaluation>;

const StepViewSchema = z.object({
  name: z.string(),
  type: z.enum(STEP_TYPES),
  status: z.enum(STEP_STATUSES),
  log: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  result: z.enum(TASK_RESULTS).nullable().optional().openapi({ description: 'A lifecycle task\'s (or an evaluation\'s, or an approval\'s) Keptn result' }),
  ignored: z.boolean().optional().openapi({ description: 'Failed, and a person chose to go on (guided failure\'s ignore)' }),
  attempts: z
    .array(z.object({ startedAt: z.string().nullable(), finishedAt: z.string().nullable(), status: z.enum(STEP_STATUSES), log: z.string() }))
    .optional()
    .openapi({ description: 'Earlier runs of a step a person retried, oldest first' }),
  evaluation: EvaluationSchema.optional(),
  triggeredId: z.string().optional().openapi({ description: 'The id of this task\'s sh.keptn.event.<task>.triggered event: the triggeredid its .started and .finished events answer' }),
  executors: z.array(z.string()).optional().openapi({ description: 'An external task\'s: who may post its .started and .finished events (usernames, team:<id>), besides admins; empty: admins only' }),
  policy: PolicyViewSchema.optional().openapi({ description: 'A policy gate\'s (type policy): where its checks, window and approvals stand' }),
}) satisfies z.ZodType<StepView>;

const TimelineEntrySchema = z.object({
  at: z.string(),
  user: z.string(),
  action: z.enum(TIMELINE_ACTIONS),
  result: z.enum(['accepted', 'refused', 'failed']).openapi({ description: 'failed: something Interlock did itself did not work, such as a notification that could not be delivered' }),
  reason: z.string().optional(),
  interruption: z.string().optional(),
  via: z.enum(['update', 'signal']).optional(),
  count: z.number().int().optional().openapi({ description: 'Refusals of the same person, action and reason, kept as one entry' }),
  lastAt: z.string().optional(),
}) satisfies z.ZodType<TimelineEntry>;

const LinksSchema = z.object({ self: z.string(), temporal: z.string().nullable() });

export const DeploymentSchema = z
  .object({
    id: z.string(),
    project: z.string(),
    projectName: z.string(),
    environment: z.string(),
    release: z.string(),
    status: DeploymentStatusSchema.openapi({ description: 'Running (or Waiting) until the last step, of any runCondition, has ended; only then a finished status' }),
    outcome: z.enum(FINISHED_STATUSES).nullable().optional().openapi({
      description: 'The status it will end with, once decided: Aborted or Failed while the steps that run after an abort or a failure (runCondition failure, always) still run; the same as status once finished; null until then',
    }),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    triggeredBy: PersonSchema,
    steps: z.array(StepViewSchema),
    interruptions: z.array(InterruptionSchema),
    variables: z.record(z.string(), z.string()),
    timeline: z.array(TimelineEntrySchema),
    links: LinksSchema,
    queuedBehind: z.string().nullable().optional().openapi({ description: 'While Queued: the deployment it waits for (blockConcurrentDeployments)' }),
    scheduledFor: z.string().optional().openapi({ description: 'Proceeded with runAt: while it waits for that time (status Waiting), when it goes on' }),
    notAfter: z.string().optional().openapi({ description: 'The trigger\'s start-by: not past its gates by then, it ends Expired' }),
    supersededBy: z.string().optional().openapi({ description: 'Superseded: the newer deployment of the same project and environment that ended it' }),
    stage: z.string().optional().openapi({ description: 'Lifecycle deployments: the stage (its environment)' }),
    sequence: z.string().optional(),
    result: z.enum(TASK_RESULTS).nullable().optional().openapi({ description: 'Lifecycle deployments: the sequence\'s Keptn result' }),
    releaseId: z.string().optional(),
    keptnContext: z.string().optional(),
  })
  .openapi('Deployment') satisfies z.ZodType<DeploymentWithLinks>;

/** One server-sent event of a run's `…/events` (a deployment's or a release's): its view, as JSON, and the view's version. */
function viewEventSchema<E extends string>(event: E, view: 'Deployment' | 'Release') {
  return z
    .object({
      event: z.literal(event),
      id: z.string().openapi({ description: "The view's version: send it back as Last-Event-ID when reconnecting" }),
      data: z.string().openapi({
        description: `The ${view}, as JSON`,
        contentMediaType: 'application/json',
        contentSchema: { $ref: `#/components/schemas/${view}` },
      } as Record<string, unknown>),
    })
    .openapi(`${view}Event`);
}

/** One server-sent event of `GET /api/deployments/{id}/events`. */
export const DeploymentEventSchema = viewEventSchema('deployment', 'Deployment');

export const DeploymentSummarySchema = z
  .object({
    id: z.string(),
    project: z.string(),
    environment: z.string(),
    release: z.string(),
    status: DeploymentStatusSchema,
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    triggeredBy: z.string().nullable(),
    waitingFor: z.array(z.string()),
    assignee: z.string().nullable(),
    links: LinksSchema,
  })
  .openapi('DeploymentSummary') satisfies z.ZodType<DeploymentSummary>;

/** A page of `GET /api/deployments`. */
export const DeploymentPageSchema = z.object({ deployments: z.array(DeploymentSummarySchema), nextPageToken: z.string().nullable() });


export const DeploymentIdParamsSchema = z.object({
  id: z.string().min(1).max(300).openapi({ param: { name: 'id', in: 'path' }, example: 'hello-service:production:1.4.2:5f2c9a1b3e' }),
});

export const InterruptionParamsSchema = DeploymentIdParamsSchema.extend({
  iid: z.string().min(1).max(100).openapi({ param: { name: 'iid', in: 'path' } }),
});

export const TakeResponsibilitySchema = z
  .strictObject({ takeOver: z.boolean().optional().openapi({ description: 'Take it from whoever holds it now' }) })
  .openapi('TakeResponsibility');

/**
 * Any decision's body: its notes follow the one rule of `notesProblem` (optional, at most MAX_NOTES),
 * in its words; a proceed's inputs are checked against what the step asks by the service.
 */
export const DecisionSchema = z
  .strictObject({
    notes: z.string().max(MAX_NOTES, { error: (issue) => notesProblem(String(issue.input)) }).optional(),
    inputs: z
      .record(
        z.string().max(100),
        z.union([z.string().max(MAX_INPUT_LENGTH, { error: (issue) => inputLengthProblem(String(issue.input)) }), z.boolean()], { error: INPUT_VALUE_SHAPE }),
      )
      .refine((inputs) => Object.keys(inputs).length <= MAX_INPUTS, `at most ${MAX_INPUTS} inputs`)
      .optional()
      .openapi({
        description: 'With proceed: what the step asks (the interruption\'s inputs), {name: value}; a boolean is true or false. Each bad one is a 400 naming body.inputs.<name>',
        example: { risk: 'low', ticket: 'CHG-1234', backupTaken: true },
      }),
    runAt: z.iso.datetime({ offset: true }).optional().openapi({
      description: `With proceed: approve now, go on at this time (RFC 3339, in the future, at most ${MAX_RUN_AT_DAYS} days ahead); the deployment shows scheduledFor and waits, and may be cancelled meanwhile`,
      example: '2026-12-07T09:00:00Z',
    }),
  })
  .openapi('Decision');

export const InterruptionListItemSchema = InterruptionSchema.extend({
  deployment: z.object({ id: z.string(), project: z.string(), projectName: z.string(), environment: z.string(), release: z.string() }),
  actions: z.array(z.enum(INTERRUPTION_ACTIONS)),
}).openapi('OpenInterruption') satisfies z.ZodType<OpenInterruption>;

// Lifecycle projects (docs/keptn.md): releases, and Keptn's event API.

const SequenceViewSchema = z.object({
  name: z.string(),
  status: z.enum([...DEPLOYMENT_STATUSES, 'Pending', 'Skipped']),
  result: z.enum(TASK_RESULTS).nullable(),
  deploymentId: z.string().nullable().openapi({ description: 'The deployment that runs this sequence; null until it starts' }),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const ReleaseSchema = z
  .object({
    id: z.string().openapi({ example: 'helloservice:0.1.1:k3x9a0b1c2' }),
    keptnContext: z.string(),
    project: z.string(),
    projectName: z.string(),
    release: z.string(),
    status: z.enum(RELEASE_STATUSES),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    triggeredBy: PersonSchema,
    stages: z.array(z.object({ name: z.string(), sequences: z.array(SequenceViewSchema) })),
    timeline: z.array(TimelineEntrySchema),
    links: LinksSchema,
  })
  .openapi('Release') satisfies z.ZodType<ReleaseWithLinks>;

export const ReleaseSummarySchema = z
  .object({
    id: z.string(),
    keptnContext: z.string(),
    project: z.string(),
    release: z.string(),
    status: z.enum(RELEASE_STATUSES),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    triggeredBy: z.string().nullable(),
    links: LinksSchema,
  })
  .openapi('ReleaseSummary') satisfies z.ZodType<ReleaseSummary>;

/** A page of `GET /api/releases`. */
export const ReleasePageSchema = z.object({ releases: z.array(ReleaseSummarySchema), nextPageToken: z.string().nullable() });

/** One server-sent event of `GET /api/releases/{id}/events`. */
export const ReleaseEventSchema = viewEventSchema('release', 'Release');

export const ReleaseIdParamsSchema = z.object({
  id: z.string().min(1).max(300).openapi({ param: { name: 'id', in: 'path' }, description: 'The release id, or its keptnContext', example: 'helloservice:0.1.1:k3x9a0b1c2' }),
});




/** A CloudEvent as Keptn's clients post it (structured mode); other attributes are kept as they are. */
export const KeptnEventSchema = z
  .looseObject({
    type: z.string().regex(/^sh\.keptn\.event\.[a-z0-9.-]+$/, 'a Keptn event type (sh.keptn.event.…)'),
    specversion: z.literal('1.0').optional(),
    id: z.string().min(1).max(200).optional(),
    source: z.string().min(1).max(500).optional(),
    time: z.string().optional(),
    shkeptncontext: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'a Keptn context (a UUID)').optional(),
    triggeredid: z.string().min(1).max(200).optional(),
    data: z.looseObject({}).optional(),
  })
  .openapi('KeptnEvent');

export const KeptnEventListSchema = z
  .object({ events: z.array(z.looseObject({ type: z.string(), id: z.string() })), nextPageToken: z.string().nullable() })
  .openapi('KeptnEventList');

// Break-glass and its review (docs/change-control.md).

/** An override's body: a reason by the one rule of `overrideReasonProblem` (required, at least 10 characters), in its words. */
export const OverrideBodySchema = z
  .strictObject({
    reason: z
      .string({ error: () => overrideReasonProblem(undefined) })
      .max(OVERRIDE_REASON_MAX, { error: (issue) => overrideReasonProblem(String(issue.input)) })
      .superRefine((reason, ctx) => {
        const problem = overrideReasonProblem(reason);
        if (problem !== undefined && reason.length <= OVERRIDE_REASON_MAX) ctx.addIssue({ code: 'custom', message: problem });
      })
      .openapi({ description: 'Why this cannot wait: required, at least 10 characters', example: 'Payments are failing in production; this release is the fix (INC-4711).' }),
  })
  .openapi('Override');

export const OverrideRecordSchema = z
  .object({
    id: z.string(),
    deploymentId: z.string(),
    interruptionId: z.string(),
    part: z.enum(OVERRIDE_PARTS).openapi({ description: 'What was passed: the window (or a freeze), or the approvals' }),
    user: PersonSchema,
    reason: z.string(),
    at: z.string(),
    reviewed: z.union([z.object({ user: PersonSchema, at: z.string(), notes: z.string().nullable() }), z.null()]),
    project: z.string().optional(),
    environment: z.string().optional(),
    release: z.string().optional(),
    step: z.string().optional(),
  })
  .openapi('OverrideRecord') satisfies z.ZodType<OverrideRecord>;

export const OverridesPageSchema = z.object({ overrides: z.array(OverrideRecordSchema), nextPageToken: z.string().nullable() }).openapi('OverridesPage');

export const ReviewSchema = z
  .strictObject({ notes: z.string().max(MAX_NOTES, { error: (issue) => notesProblem(String(issue.input)) }).optional().openapi({ description: 'What the review found (optional)' }) })
  .openapi('OverrideReview');
