import type { Config, PolicyStep, Project, ProcessStep } from '../config/schema.js';
import { sequenceSteps, taskProperties } from '../config/sequences.js';
import { resolveTriggerVariables } from '../config/project-variables.js';
import { gateWorkflowId } from '../core/ids.js';
import { policiesFor, policyStepNames } from '../core/policy-matching.js';
import type { DeploymentInput, NotificationRoute, SliSourceInput } from '../workflows/messages.js';
import { personOf, type Principal, rosterAt } from './permissions.js';
import { invalid } from './errors.js';

/**
 * What a deployment is given when it starts, from the config as it is at that moment: editing the
 * config never changes a deployment already running. Shared by plain deployments and by the
 * sequences of a lifecycle project's release.
 */
export type DeploymentBase = Omit<DeploymentInput, 'id' | 'createdAt' | 'lifecycle'>;

/** The variables a trigger gave, checked against the project's definitions (400 naming each problem). */
export function triggerVariables(project: Project, given: Record<string, string> | undefined) {
  const resolved = resolveTriggerVariables(project, given ?? {});
  if (!resolved.ok) throw invalid(resolved.errors);
  return resolved;
}

export function deploymentBase(
  config: Config,
  project: Project,
  environment: string,
  release: string,
  steps: ProcessStep[],
  resolved: ReturnType<typeof triggerVariables>,
  user: Principal,
  systemVariables: Record<string, string> | undefined,
): DeploymentBase {
  const process = [...policyGates(config, project.id, environment, steps), ...withProjectDefaults(project, steps)];
  const gate = process.some((step) => 'blockConcurrentDeployments' in step && step.blockConcurrentDeployments && runsIn(step, environment));
  const notifications = notificationRoutes(config, project.id);
  const quality = qualityOf(project);
  return {
    project: { id: project.id, name: project.name },
    environment,
    release,
    process,
    variables: { ...systemVariables, ...resolved.variables },
    prompted: resolved.prompted,
    ...(resolved.sensitive.length > 0 ? { sensitive: resolved.sensitive } : {}),
    triggeredBy: personOf(user),
    // Who may act by signal: those who may see it, with the roles they hold here as it starts.
    roster: rosterAt(config, { project: project.id, environment }),
    ...(notifications ? { notifications } : {}),
    ...(gate ? { gate: gateWorkflowId(project.id, environment) } : {}),
    ...(project.guidedFailureTeams ? { guidedFailureTeams: project.guidedFailureTeams } : {}),
    ...(quality ? { quality } : {}),
  };
}

/** Each sequence of a lifecycle project's shipyard, by `<stage>.<sequence>`, ready for its deployment. */
export function sequenceBases(
  config: Config,
  project: Project,
  release: string,
  resolved: ReturnType<typeof triggerVariables>,
  user: Principal,
  systemVariables: Record<string, string> | undefined,
) {
  const sequences: Record<string, DeploymentBase & { taskProperties: Record<string, Record<string, unknown>> }> = {};
  for (const stage of project.shipyard?.spec.stages ?? []) {
    // The stage gates if any of its sequences has a blocking step: every deployment to it must ask.
    const stageSteps = stage.sequences.flatMap((sequence) => stepsOf(project, sequence));
    const blocking = stageSteps.some((step) => 'blockConcurrentDeployments' in step && step.blockConcurrentDeployments);
    for (const sequence of stage.sequences) {
      const base = deploymentBase(config, project, stage.name, release, stepsOf(project, sequence), resolved, user, systemVariables);
      sequences[`${stage.name}.${sequence.name}`] = {
        ...base,
        ...(blocking ? { gate: gateWorkflowId(project.id, stage.name) } : {}),
        taskProperties: taskProperties(sequence),
      };
    }
  }
  return sequences;
}

function stepsOf(project: Project, sequence: Parameters<typeof sequenceSteps>[1]): ProcessStep[] {
  const built = sequenceSteps(project, sequence);
  // The config was checked when it loaded: a sequence that does not build never gets here.
  if (!built.ok) throw new Error(`the config was loaded with a sequence that does not build: ${JSON.stringify(built.problems)}`);
  return built.steps;
}

/**
 * The gates of the environment policies that apply to this project and environment, in the config's
 * order, each with its whole policy copied in: they run before the first step whatever the process
 * says, and a running deployment keeps the policies it started with (docs/change-control.md).
 */
export function policyGates(config: Config, project: string, environment: string, steps: ProcessStep[]): PolicyStep[] {
  const policies = policiesFor(config.policies ?? [], project, environment);
  const names = policyStepNames(policies, steps.map((step) => step.name));
  return policies.map((policy, i) => ({ name: names[i]!, type: 'policy', policy }));
}

const runsIn = (step: ProcessStep, environment: string) => !step.environments || step.environments.includes(environment);

/**
 * A project's defaults: `preventSelfApproval` for every step that waits for people (a script's or
 * HTTP check's guided failure too: retry and ignore let the deployment go on), `guidedFailure` for
 * scripts and HTTP checks.
 */
function withProjectDefaults(project: Project, steps: ProcessStep[]): ProcessStep[] {
  return steps.map((step) => {
    if (step.type !== 'manual' && step.type !== 'approval' && step.type !== 'script' && step.type !== 'http-check' && step.type !== 'check') return step;
    const defaults = {
      ...(step.preventSelfApproval === undefined && project.preventSelfApproval ? { preventSelfApproval: true } : {}),
      ...((step.type === 'script' || step.type === 'http-check' || step.type === 'check') && step.guidedFailure === undefined && project.guidedFailure ? { guidedFailure: true } : {}),
    };
    return Object.keys(defaults).length > 0 ? { ...step, ...defaults } : step;
  });
}

/** The project's subscriptions (docs/notifications.md): which events go to which channels. None without `notifications:`. */
export function notificationRoutes(config: Config, project: string): NotificationRoute[] | undefined {
  const routes = (config.notifications?.subscriptions ?? [])
    .filter((subscription) => !subscription.projects || subscription.projects.includes(project))
    .map(({ events, channels }) => ({ events, channels }));
  return routes.length > 0 ? routes : undefined;
}

function qualityOf(project: Project): DeploymentInput['quality'] {
  if (!project.slo) return undefined;
  const sli: Record<string, SliSourceInput> = {};
  for (const [name, source] of Object.entries(project.sli ?? {})) {
    sli[name] = 'script' in source ? { script: source.script, ...(source.timeout ? { timeout: source.timeout } : {}) } : { prometheus: source.prometheus };
  }
  return { slo: project.slo, sli };
}
