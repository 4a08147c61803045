import { z } from 'zod';
import { isTimeZone, minutesOf } from '../core/deployment-windows.js';
import { ON_CLOSED, type RunCondition, WEEKDAYS } from '../core/names.js';
import { ApprovalRuleSchema, Id, PolicyCheckSchema } from './step-schema.js';

/**
 * Environment policies (docs/change-control.md): `policies:` in the config, enforced by the server
 * on every deployment to their environments (optionally narrowed to projects), before its first
 * step, whatever the project's process says. Each becomes a step of type `policy` whose parts run
 * in order: its checks, the window and freezes, the approvals.
 */

const TimeOfDay = z.string().refine((time) => minutesOf(time) !== undefined, 'a time of day as HH:MM, from 00:00 to 24:00');

const Day = z.enum(WEEKDAYS, { error: (issue) => `"${String(issue.input)}" is not a day: write Mon, Tue, Wed, Thu, Fri, Sat or Sun` });

/** An instant as RFC 3339 writes it, with its offset: `2026-12-20T00:00:00Z`. */
const Instant = z
  .string()
  .refine(
    (text) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(text) && !Number.isNaN(Date.parse(text)),
    'a date and time with its offset (RFC 3339), e.g. 2026-12-20T00:00:00Z',
  );

/** A weekly window on the wall clock of an IANA time zone, correct across daylight-saving changes. */
export const WindowSchema = z
  .strictObject({
    days: z.array(Day).min(1, 'name at least one day'),
    from: TimeOfDay,
    to: TimeOfDay,
    timezone: z.string().refine(isTimeZone, 'not an IANA time zone (e.g. Europe/London, America/New_York, UTC)'),
  })
  .superRefine((window, ctx) => {
    // Also on a partly invalid window (see `when`), so every problem is listed at once.
    const from = typeof window.from === 'string' ? minutesOf(window.from) : undefined;
    const to = typeof window.to === 'string' ? minutesOf(window.to) : undefined;
    if (from === 1440) ctx.addIssue({ code: 'custom', path: ['from'], message: 'a window cannot start at 24:00' });
    else if (from !== undefined && to !== undefined && from >= to) {
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `from (${window.from}) must be before to (${window.to}); a window cannot cross midnight (end it at 24:00)`,
      });
    }
    const days = Array.isArray(window.days) ? window.days : [];
    days.forEach((day, i) => {
      if (days.indexOf(day) !== i) ctx.addIssue({ code: 'custom', path: ['days', i], message: `"${day}" is named twice` });
    });
  }, { when: () => true });

const YEAR_MS = 365 * 24 * 60 * 60_000;

/** A freeze: no deployment passes from `from` to `to`, for `reason`; with `every: year`, on those dates every year from the first on. */
export const FreezeSchema = z
  .strictObject({
    from: Instant,
    to: Instant,
    reason: z
      .string({ error: (issue) => (issue.input === undefined ? 'give the freeze a reason: people read it while they wait' : 'a text') })
      .trim()
      .min(1, 'give the freeze a reason: people read it while they wait')
      .max(500),
    every: z.literal('year', { error: 'the only recurrence is every: year' }).optional(),
  })
  .superRefine((freeze, ctx) => {
    // Also on a partly invalid freeze (see `when`): only when both ends are instants.
    const from = typeof freeze.from === 'string' ? Date.parse(freeze.from) : Number.NaN;
    const to = typeof freeze.to === 'string' ? Date.parse(freeze.to) : Number.NaN;
    if (Number.isNaN(from) || Number.isNaN(to)) return;
    if (!(to > from)) ctx.addIssue({ code: 'custom', path: ['to'], message: `from (${freeze.from}) must be before to (${freeze.to})` });
    else if (freeze.every === 'year' && to - from >= YEAR_MS) ctx.addIssue({ code: 'custom', path: ['every'], message: 'a freeze that recurs every year must last less than a year' });
  }, { when: () => true });

/** One approval rule, as a manual step's: `count` people of any of `teams` (here `count` defaults to 1). */
export const PolicyRuleSchema = ApprovalRuleSchema.extend({ count: ApprovalRuleSchema.shape.count.default(1) });

export const PolicyApprovalsSchema = z.strictObject({
  rules: z.array(PolicyRuleSchema).min(1).max(10),
  /** Each rule only after the one before it is met. */
  ordered: z.boolean().optional(),
  /** One person counts toward one rule only. */
  distinctPeople: z.boolean().optional(),
  /** Whoever triggered the deployment may not approve it. */
  preventSelfApproval: z.boolean().optional(),
});

export const PolicySchema = z
  .strictObject({
    environments: z.array(Id).min(1),
    /** What its gate is called in a deployment (`Policy: <name>`); its environments when absent. */
    name: z.string().trim().min(1).max(100).optional(),
    /** Only deployments of these projects; every project when absent. */
    projects: z.array(Id).min(1).optional(),
    approvals: PolicyApprovalsSchema.optional(),
    window: WindowSchema.optional(),
    freezes: z.array(FreezeSchema).max(100).optional(),
    /** Outside the window or inside a freeze: wait until it opens (default), or fail the deployment. */
    onClosed: z.enum(ON_CLOSED).default('wait'),
    /** Break-glass: members of these teams may let a deployment past the window, a freeze or the approvals, with a reason. */
    override: z.strictObject({ teams: z.array(Id).min(1) }).optional(),
    /** External checks that must pass first, each failing closed (docs/manual-steps.md#external-checks). */
    checks: z.array(PolicyCheckSchema).min(1).max(10).optional(),
    /** A newer release of the project to the environment ends older ones still waiting for a decision or their window, as `Superseded`. */
    supersede: z.boolean().optional(),
    /**
     * Enter the `blockConcurrentDeployments` queue before this gate, and hold it while the gate's
     * approvals wait; by default a deployment waiting at a policy gate holds no queue.
     */
    holdQueueWhileWaiting: z.boolean().optional(),
  })
  .superRefine((policy, ctx) => {
    if (!policy.approvals && !policy.window && !(policy.freezes?.length) && !(policy.checks?.length)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'this policy enforces nothing: give it checks, approvals, a window or freezes' });
    }
  });
export type Policy = z.infer<typeof PolicySchema>;

/** What a policy may refer to: the config's projects (with their environments) and teams. */
export interface PolicyReferences {
  projects: { id: string; environments: readonly string[] }[];
  teams: ReadonlySet<string>;
}

/** A problem of what a policy refers to, at its path within the policy. */
export interface PolicyProblem {
  path: (string | number)[];
  message: string;
}

/**
 * What a well-formed policy names that the config does not have: projects, environments (of its
 * projects, or of any project), teams of its rules and of its override.
 */
export function policyProblems(policy: Partial<Policy>, known: PolicyReferences): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const list = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);
  const projectIds = known.projects.map((project) => project.id);
  list(policy.projects).forEach((project, i) => {
    if (!projectIds.includes(project)) problems.push({ path: ['projects', i], message: `unknown project "${project}" (projects: ${projectIds.join(', ') || 'none'})` });
  });
  const scope = policy.projects ? known.projects.filter((project) => policy.projects!.includes(project.id)) : known.projects;
  const environments = [...new Set(scope.flatMap((project) => project.environments))];
  list(policy.environments).forEach((environment, i) => {
    if (!environments.includes(environment)) {
      const of = policy.projects ? `of ${policy.projects.join(', ')}` : 'of any project';
      problems.push({ path: ['environments', i], message: `unknown environment "${environment}": it is no environment ${of} (${environments.join(', ') || 'none'})` });
    }
  });
  const team = (name: unknown, path: (string | number)[]) => {
    if (!known.teams.has(name as string)) problems.push({ path, message: `unknown team "${String(name)}"` });
  };
  list(policy.approvals?.rules).forEach((rule, r) => list(rule?.teams).forEach((name, t) => team(name, ['approvals', 'rules', r, 'teams', t])));
  list(policy.override?.teams).forEach((name, t) => team(name, ['override', 'teams', t]));
  return problems;
}

/**
 * A policy's gate in a deployment's process: the whole policy copied in when the deployment is
 * triggered, so a running deployment keeps the policies it started with.
 */
export interface PolicyStep {
  name: string;
  type: 'policy';
  policy: Policy;
  /** Never set: a policy gate runs in its environments by what it is, and before every run condition. */
  environments?: undefined;
  runCondition?: RunCondition | undefined;
}
