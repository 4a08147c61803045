import { z } from 'zod';
import { parseDuration } from './duration.js';
import { BUILT_IN_VARIABLES, isOutputVariable } from './variables.js';

const Id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use lower-case letters, digits and dashes (at most 63)');

const Duration = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, 'a duration like 30s, 10m, 72h or 1h30m')
  .transform((text) => parseDuration(text)!);

export const RoleSchema = z.enum(['viewer', 'deployer', 'admin']);
export type Role = z.infer<typeof RoleSchema>;

export const TeamSchema = z.strictObject({ id: Id, name: z.string().min(1) });

export const UserSchema = z.strictObject({
  id: z.string().min(1),
  username: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, ".", "_" and "-"'),
  displayName: z.string().min(1),
  email: z.email().optional(),
  teams: z.array(Id).default([]),
  roles: z.array(RoleSchema).default([]),
  tokenSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'the sha256 hex of the token (npm run token -- <username>), never the token'),
});
export type User = z.infer<typeof UserSchema>;

const StepBase = {
  name: z.string().min(1).max(200),
  /** Run only in these environments; every environment when absent. */
  environments: z.array(Id).optional(),
  /** `success` (default): while nothing failed; `failure`: only after a failure or abort; `always` (SPEC §9). */
  runCondition: z.enum(['success', 'failure', 'always']).optional(),
};

export const ScriptStepSchema = z.strictObject({
  ...StepBase,
  type: z.literal('script'),
  run: z.string().min(1),
  timeout: Duration.default(30 * 60_000),
});

export const HttpCheckStepSchema = z.strictObject({
  ...StepBase,
  type: z.literal('http-check'),
  url: z.string().min(1),
  /** A 3xx is the answer unless this says to follow it (SPEC §4.1). */
  followRedirects: z.boolean().optional(),
  expectStatus: z.number().int().min(100).max(599).default(200),
  timeout: Duration.default(10_000),
  retries: z.number().int().min(0).max(20).default(3),
});

export const ManualStepSchema = z.strictObject({
  ...StepBase,
  type: z.literal('manual'),
  instructions: z.string().default(''),
  responsibleTeams: z.array(Id).default([]),
  timeout: Duration.optional(),
  onTimeout: z.enum(['abort', 'proceed']).default('abort'),
  /** Whoever triggered the deployment may not take it (SPEC §9); the project's setting when absent. */
  preventSelfApproval: z.boolean().optional(),
  /** How many distinct people must each take and proceed (SPEC §9). */
  requiredApprovals: z.number().int().min(1).max(10).optional(),
});

/** One entry of a project's process; the workflow receives these, already parsed (durations in ms). */
export const StepSchema = z.discriminatedUnion('type', [ScriptStepSchema, HttpCheckStepSchema, ManualStepSchema]);
export type Step = z.infer<typeof StepSchema>;
export type ScriptStep = z.infer<typeof ScriptStepSchema>;
export type HttpCheckStep = z.infer<typeof HttpCheckStepSchema>;
export type ManualStep = z.infer<typeof ManualStepSchema>;

/** A project variable: a plain value, or one a trigger may (or must) set, checked against a pattern (SPEC §4.1). */
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

export const ProjectSchema = z.strictObject({
  id: Id,
  name: z.string().min(1),
  environments: z.array(Id).min(1),
  variables: z.record(VariableName, VariableSchema).default({}),
  /** The default of every manual step's `preventSelfApproval`. */
  preventSelfApproval: z.boolean().optional(),
  process: z.array(StepSchema).min(1),
});
export type Project = z.infer<typeof ProjectSchema>;

/**
 * The config file (SPEC §3). Beyond each field's shape it checks what refers to what: teams named by
 * users and manual steps exist, step environments belong to their project, names are unique.
 */
export const ConfigSchema = z
  .strictObject({
    teams: z.array(TeamSchema).default([]),
    users: z.array(UserSchema).default([]),
    projects: z.array(ProjectSchema).default([]),
  })
  .superRefine((config, ctx) => {
    // This also runs on a partly invalid config (see `when`), so any list or entry may be malformed.
    const list = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);
    const entries = <T>(value: T[] | undefined): [T, number][] =>
      list(value).flatMap((item, i): [T, number][] => (typeof item === 'object' && item !== null ? [[item, i]] : []));

    const teams = new Set(entries(config.teams).map(([team]) => team.id));
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

    entries(config.users).forEach(([user, u]) =>
      list(user.teams).forEach((team, t) => {
        if (!teams.has(team)) issue(['users', u, 'teams', t], `unknown team "${team}"`);
      }),
    );
    entries(config.projects).forEach(([project, p]) => {
      const environments = list(project.environments);
      unique(environments.map((e, i): [string, number] => [e, i]), (e) => e, (e) => ['projects', p, 'environments', e], 'environment');
      unique(entries(project.process), (s) => s.name, (s) => ['projects', p, 'process', s, 'name'], 'step name');
      for (const name of Object.keys(typeof project.variables === 'object' && project.variables !== null ? project.variables : {})) {
        if ((BUILT_IN_VARIABLES as readonly string[]).includes(name)) issue(['projects', p, 'variables', name], `"${name}" is set by Interlock; choose another name`);
        else if (isOutputVariable(name)) issue(['projects', p, 'variables', name], `"${name}" is the name of a step's output; choose another name`);
      }
      entries(project.process).forEach(([step, s]) => {
        list(step.environments).forEach((environment, e) => {
          if (!environments.includes(environment)) {
            issue(
              ['projects', p, 'process', s, 'environments', e],
              `environment "${environment}" is not one of the project's (${environments.join(', ')})`,
            );
          }
        });
        if (step.type === 'manual') {
          list(step.responsibleTeams).forEach((team, t) => {
            if (!teams.has(team)) issue(['projects', p, 'process', s, 'responsibleTeams', t], `unknown team "${team}"`);
          });
        }
      });
    });
  }, {
    // Zod skips refinements once a field has the wrong type; run anyway so every problem is listed at once (SPEC §3).
    when: () => true,
  });

export type Config = z.infer<typeof ConfigSchema>;
