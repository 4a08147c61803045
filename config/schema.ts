import { z } from 'zod';
import { ROLES } from '../core/names.js';
import { Id, StepSchema, TaskStepSchema } from './step-schema.js';
import { NotificationsSchema, notificationProblems } from './notifications.js';
import { BUILT_IN_VARIABLES, isOutputVariable } from './project-variables.js';
import { ShipyardSchema, shipyardProblems } from './shipyard.js';
import { SliSchema, SloSchema, sliQueryProblems, sloProblems } from './slo-schema.js';
import { BUILT_IN_TASKS, sequenceSteps } from './sequences.js';
import { PolicySchema, policyProblems } from './policy-schema.js';
import { declarationProblems } from '../core/approver-inputs.js';
import { authSchemas } from './auth-schema.js';

export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

/**
 * A role on some projects and environments (docs/security.md); a grant that names none applies to
 * every one. That the projects and environments exist is checked with the whole config.
 */
export const GrantSchema = z
  .strictObject({
    role: RoleSchema,
    projects: z.array(Id).min(1).optional(),
    environments: z.array(Id).min(1).optional(),
  })
  .refine(
    (grant) => grant.role !== 'operator' || (grant.projects === undefined && grant.environments === undefined),
    'an operator grant opens Temporal Web, which shows every project: it cannot be limited to projects or environments',
  );
export type Grant = z.infer<typeof GrantSchema>;

/** `auth:` — sign-in with the identity provider, and the CI jobs trusted by their workload identity (config/auth-schema.ts). */
export const { AuthSchema, TrustRuleSchema } = authSchemas(GrantSchema);
export type AuthSettings = z.infer<typeof AuthSchema>;
export type TrustRule = z.infer<typeof TrustRuleSchema>;
export type { OidcSettings } from './auth-schema.js';

export const TeamSchema = z.strictObject({
  id: Id,
  name: z.string().min(1),
  /** What every member may do, on top of their own grants. */
  grants: z.array(GrantSchema).optional(),
  /** The identity provider's groups whose members belong to this team when they sign in with it. */
  groups: z.array(z.string().min(1).max(256)).optional(),
});

/** `2027-01-01T00:00:00Z` (an offset or Z), or a date (`2027-01-01`: from its start, UTC); kept as an ISO timestamp. */
const Expiry = z
  .union([z.iso.datetime({ offset: true }), z.iso.date(), z.date()])
  .transform((value) => (value instanceof Date ? value : new Date(value.length === 10 ? `${value}T00:00:00Z` : value)).toISOString());

export const UserSchema = z.strictObject({
  id: z.string().min(1),
  username: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, ".", "_" and "-"'),
  displayName: z.string().min(1),
  email: z.email().optional(),
  teams: z.array(Id).default([]),
  /** Each an unscoped grant: `roles: [deployer]` is `grants: [{role: deployer}]`. */
  roles: z.array(RoleSchema).default([]),
  grants: z.array(GrantSchema).optional(),
  /** Absent for a person who signs in only with the identity provider. */
  tokenSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'the sha256 hex of the token (npm run token -- <username>), never the token')
    .optional(),
  /** From then on the token is refused (401, "expired"), and the person's dashboard sessions end. */
  expires: Expiry.optional(),
  /** The token only looks: it acts as a viewer wherever the person's grants reach. */
  readOnly: z.boolean().optional(),
});
export type User = z.infer<typeof UserSchema>;

/** A project variable: a plain value, or one a trigger may (or must) set, checked against a pattern (docs/configuration.md). */
export const VariableSchema = z
  .union([
    z.string().max(10_000),
    z.strictObject({
      value: z.string().max(10_000).optional(),
      prompted: z.literal(true).optional(),
      pattern: z
        .string()
        .min(1)
        .refine((pattern) => {
          try {
            new RegExp(pattern, 'u');
            return true;
          } catch {
            return false;
          }
        }, 'not a valid regular expression')
        .optional(),
      description: z.string().max(1000).optional(),
      /** Masked as ******** wherever people or logs see it; encrypted in Temporal history by the payload codec. */
      sensitive: z.literal(true).optional(),
    }),
  ]);
/** As written in the config: a plain value, or its definition. `definitionOf` reads either. */
export type ProjectVariable = z.infer<typeof VariableSchema>;

const VariableName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^#{}]+$/, 'no "#", "{" or "}" in a variable name');

const TaskName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a task name of the shipyard');

export const ProjectSchema = z
  .strictObject({
    id: Id,
    name: z.string().min(1),
    /** In promotion order. A lifecycle project's are its stages, so it need not list them. */
    environments: z.array(Id).min(1).optional(),
    variables: z.record(VariableName, VariableSchema).default({}),
    /** The default of every interrupting step's `preventSelfApproval`, and of every guided failure's. */
    preventSelfApproval: z.boolean().optional(),
    /** The default of every script and http-check step's `guidedFailure` (docs/manual-steps.md). */
    guidedFailure: z.boolean().optional(),
    /** Who may act on a `GuidedFailure` interruption; any deployer when absent. */
    guidedFailureTeams: z.array(Id).optional(),
    process: z.array(StepSchema).min(1).optional(),
    /** A Keptn shipyard instead of a process (docs/keptn.md): inline, or `shipyardFile` (read by the loader, relative to the config). */
    shipyard: ShipyardSchema.optional(),
    shipyardFile: z.string().min(1).optional(),
    /** What runs a lifecycle task, or (`type: external`) who answers it; a task named nowhere here is done by others over CloudEvents, answered by admins. */
    tasks: z.record(TaskName, TaskStepSchema).optional(),
    /** Keptn's SLO file format, scored by `evaluation` tasks and steps. */
    slo: SloSchema.optional(),
    /** Where each SLI's value comes from: a script printing a number, or a Prometheus query. */
    sli: SliSchema.optional(),
  })
  .transform(({ shipyardFile: _file, ...project }) => ({
    ...project,
    environments: project.environments ?? project.shipyard?.spec.stages.map((stage) => stage.name) ?? [],
  }));
export type Project = z.infer<typeof ProjectSchema>;

/**
 * The config file (docs/configuration.md). Beyond each field's shape it checks what refers to what: teams named by
 * users and manual steps exist, step environments belong to their project, names are unique.
 */
export const ConfigSchema = z
  .strictObject({
    teams: z.array(TeamSchema).default([]),
    users: z.array(UserSchema).default([]),
    projects: z.array(ProjectSchema).default([]),
    /** Channels (webhooks, Slack, email) and which events go to them (docs/notifications.md). */
    notifications: NotificationsSchema.optional(),
    /** Sign-in with the identity provider and trusted CI jobs (docs/security.md). */
    auth: AuthSchema.optional(),
    /** Environment policies, enforced on every deployment to their environments (docs/change-control.md). */
    policies: z.array(PolicySchema).default([]),
  })
  .superRefine((config, ctx) => {
    // This also runs on a partly invalid config (see `when`), so any list or entry may be malformed.
    const list = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);
    const entries = <T>(value: T[] | undefined): [T, number][] =>
      list(value).flatMap((item, i): [T, number][] => (typeof item === 'object' && item !== null ? [[item, i]] : []));

    const teams = new Set(entries(config.teams).map(([team]) => team.id));
    const usernames = new Set(entries(config.users).map(([user]) => user.username));
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const unique = <T>(items: [T, number][], key: (item: T) => unknown, path: (i: number) => (string | number)[], what: string) => {
      const seen = new Set<unknown>();
      items.forEach(([item, i]) => {
        const value = key(item);
        if (value === undefined) return;
        if (seen.has(value)) issue(path(i), `duplicate ${what} "${String(value)}"`);
        seen.add(value);
      });
    };

    unique(entries(config.teams), (t) => t.id, (i) => ['teams', i, 'id'], 'team id');
    unique(entries(config.users), (u) => u.id, (i) => ['users', i, 'id'], 'user id');
    unique(entries(config.users), (u) => u.username, (i) => ['users', i, 'username'], 'username');
    unique(entries(config.users), (u) => u.tokenSha256, (i) => ['users', i, 'tokenSha256'], 'token hash');
    unique(entries(config.projects), (p) => p.id, (i) => ['projects', i, 'id'], 'project id');

    if (config.notifications) {
      const known = { teams: [...teams], usernames: entries(config.users).map(([user]) => user.username), projects: entries(config.projects).map(([project]) => project.id) };
      for (const problem of notificationProblems(config.notifications, known)) issue(['notifications', ...problem.path], problem.message);
    }
    const known = {
      projects: entries(config.projects).map(([project]) => ({ id: project.id, environments: list(project.environments) })),
      teams,
    };
    entries(config.policies).forEach(([policy, i]) => {
      for (const problem of policyProblems(policy, known)) issue(['policies', i, ...problem.path], problem.message);
    });
    entries(config.users).forEach(([user, u]) =>
      list(user.teams).forEach((team, t) => {
        if (!teams.has(team)) issue(['users', u, 'teams', t], `unknown team "${team}"`);
      }),
    );
    // Grants name projects of this config, and environments of those projects (of any, when they name none).
    const environmentsOf = new Map(entries(config.projects).map(([project]) => [project.id, list(project.environments)]));
    const checkGrants = (grants: unknown, path: (string | number)[]) =>
      entries(grants as Grant[] | undefined).forEach(([grant, g]) => {
        const named = list(grant.projects);
        named.forEach((project, p) => {
          if (!environmentsOf.has(project)) issue([...path, g, 'projects', p], `unknown project "${project}"`);
        });
        const reachable = new Set((named.length > 0 ? named : [...environmentsOf.keys()]).flatMap((project) => environmentsOf.get(project) ?? []));
        list(grant.environments).forEach((environment, e) => {
          if (!reachable.has(environment)) {
            const where = named.length > 0 ? `of ${named.join(', ')}` : 'of any project';
            issue([...path, g, 'environments', e], `environment "${environment}" is not one ${where} (${[...reachable].join(', ') || 'none'})`);
          }
        });
      });
    entries(config.users).forEach(([user, u]) => checkGrants(user.grants, ['users', u, 'grants']));
    entries(config.teams).forEach(([team, t]) => checkGrants(team.grants, ['teams', t, 'grants']));
    entries(config.auth?.trust).forEach(([rule, r]) => checkGrants(rule.grants, ['auth', 'trust', r, 'grants']));
    // A CI job's principal is named `as` in views and timelines: never the name of a person too.
    entries(config.auth?.trust).forEach(([rule, r]) => {
      if (usernames.has(rule.as)) issue(['auth', 'trust', r, 'as'], `"${rule.as}" is the username of a person in users:; choose another name, so views tell the job from them`);
    });
    entries(config.projects).forEach(([project, p]) => {
      const environments = list(project.environments);
      unique(environments.map((e, i): [string, number] => [e, i]), (e) => e, (e) => ['projects', p, 'environments', e], 'environment');
      unique(entries(project.process), (s) => s.name, (s) => ['projects', p, 'process', s, 'name'], 'step name');
      for (const name of Object.keys(typeof project.variables === 'object' && project.variables !== null ? project.variables : {})) {
        if ((BUILT_IN_VARIABLES as readonly string[]).includes(name)) issue(['projects', p, 'variables', name], `"${name}" is set by Interlock; choose another name`);
        else if (isOutputVariable(name)) issue(['projects', p, 'variables', name], `"${name}" is the name of a step's output; choose another name`);
      }
      const isLifecycle = project.shipyard !== undefined;
      if (isLifecycle === (project.process !== undefined)) {
        issue(['projects', p], isLifecycle ? 'give a process or a shipyard, not both' : 'give a process, or a shipyard (shipyard or shipyardFile) for a lifecycle project');
      }
      const knowsTeam = (team: unknown, path: (string | number)[]) => {
        if (!teams.has(team as string)) issue(path, `unknown team "${String(team)}"`);
      };
      list(project.guidedFailureTeams).forEach((team, t) => knowsTeam(team, ['projects', p, 'guidedFailureTeams', t]));
      const channels = new Set(entries(config.notifications?.channels).map(([channel]) => channel.id));
      /** What every step refers to: teams, notification channels, the SLO. */
      const checkStep = (step: Record<string, any>, path: (string | number)[]) => {
        list(step.responsibleTeams).forEach((team, t) => knowsTeam(team, [...path, 'responsibleTeams', t]));
        list(step.remind?.escalateTo).forEach((team, t) => knowsTeam(team, [...path, 'remind', 'escalateTo', t]));
        checkApprovalOptions(step, path, issue, knowsTeam);
        if (step.type === 'notify' && typeof step.channel === 'string' && !channels.has(step.channel)) {
          issue([...path, 'channel'], `no notification channel "${step.channel}" (notifications.channels lists ${[...channels].join(', ') || 'none'})`);
        }
        if (step.type === 'evaluation' && project.slo === undefined) issue(path, 'an evaluation needs the project\'s slo: (and sli:)');
      };
      entries(project.process).forEach(([step, s]) => {
        list(step.environments).forEach((environment, e) => {
          if (!environments.includes(environment)) {
            issue(
              ['projects', p, 'process', s, 'environments', e],
              `environment "${environment}" is not one of the project's (${environments.join(', ')})`,
            );
          }
        });
        checkStep(step, ['projects', p, 'process', s]);
      });
      for (const [name, task] of Object.entries(typeof project.tasks === 'object' && project.tasks !== null ? project.tasks : {})) {
        if ((BUILT_IN_TASKS as readonly string[]).includes(name)) issue(['projects', p, 'tasks', name], `"${name}" is a task Interlock has built in; its options go in the shipyard task's properties`);
        else if (typeof task === 'object' && task !== null) {
          checkStep(task, ['projects', p, 'tasks', name]);
          // Who answers an external task: people and teams of this config.
          list((task as { executors?: unknown[] }).executors).forEach((executor, e) => {
            if (typeof executor !== 'string') return;
            const path = ['projects', p, 'tasks', name, 'executors', e];
            if (executor.startsWith('team:')) knowsTeam(executor.slice(5), path);
            else if (!usernames.has(executor)) issue(path, `unknown user "${executor}"`);
          });
        }
      }
      if (project.slo !== undefined) {
        for (const problem of sloProblems(project.slo, project.sli ?? {})) issue(['projects', p, 'slo', ...problem.path], problem.message);
      }
      if (typeof project.sli === 'object' && project.sli !== null) {
        const variables = typeof project.variables === 'object' && project.variables !== null ? project.variables : {};
        for (const problem of sliQueryProblems(project.sli, variables)) issue(['projects', p, 'sli', ...problem.path], problem.message);
      }
      if (isLifecycle && project.shipyard?.spec) {
        const stages = list(project.shipyard.spec.stages);
        for (const problem of shipyardProblems(project.shipyard)) issue(['projects', p, 'shipyard', ...problem.path], problem.message);
        entries(stages).forEach(([stage, st]) =>
          entries(stage.sequences).forEach(([sequence, q]) => {
            const at = (t: number) => ['projects', p, 'shipyard', 'spec', 'stages', st, 'sequences', q, 'tasks', t];
            const built = sequenceSteps(project, sequence);
            if (!built.ok) for (const { task, problem } of built.problems) issue([...at(task), ...problem.path], problem.message);
            else built.steps.forEach((step, t) => checkStep(step, at(t)));
          }),
        );
      }
    });
  }, {
    // Zod skips refinements once a field has the wrong type; run anyway so every problem is listed at once (docs/configuration.md).
    when: () => true,
  });

export type Config = z.infer<typeof ConfigSchema>;

/**
 * A waiting step's approval rules and inputs beyond their shapes (docs/manual-steps.md): rules name
 * known teams and stand instead of `responsibleTeams` and `requiredApprovals`; `ordered` and
 * `distinctPeople` go with rules; inputs have unique names, options for a choice only, patterns
 * that are regular expressions for a text only. The step may be malformed (see `when` above).
 */
function checkApprovalOptions(
  step: Record<string, unknown>,
  path: (string | number)[],
  addIssue: (path: (string | number)[], message: string) => void,
  knowsTeam: (team: unknown, path: (string | number)[]) => void,
): void {
  const issue = (at: (string | number)[], message: string) => addIssue([...path, ...at], message);
  const rules = Array.isArray(step.rules) ? step.rules : undefined;
  rules?.forEach((rule: unknown, r) => {
    const teams = typeof rule === 'object' && rule !== null ? (rule as { teams?: unknown }).teams : undefined;
    if (Array.isArray(teams)) teams.forEach((team, t) => knowsTeam(team, [...path, 'rules', r, 'teams', t]));
  });
  if (rules && step.requiredApprovals !== undefined) {
    issue(['requiredApprovals'], 'give rules or requiredApprovals, not both (requiredApprovals: N is the rule {teams: <responsibleTeams>, count: N})');
  }
  if (rules && Array.isArray(step.responsibleTeams) && step.responsibleTeams.length > 0) {
    issue(['responsibleTeams'], 'with rules, each rule names its teams; leave responsibleTeams out');
  }
  for (const flag of ['ordered', 'distinctPeople'] as const) {
    if (step[flag] !== undefined && !rules) issue([flag], `${flag} goes with rules`);
  }
  const inputs = Array.isArray(step.inputs) ? step.inputs : [];
  const wellFormed = inputs.every((input) => typeof input === 'object' && input !== null && typeof input.name === 'string' && (input.options === undefined || Array.isArray(input.options)));
  if (wellFormed) for (const problem of declarationProblems(inputs)) issue(['inputs', ...problem.path], problem.message);
}


export * from './step-schema.js';
export type { Policy, PolicyStep } from './policy-schema.js';
