/**
 * Which environment policies apply to a deployment (docs/change-control.md), and the names of their
 * gates. Pure: the service copies the matching ones into a deployment when it is triggered.
 */

/** What decides whether a policy applies: its environments, and optionally its projects. */
export interface PolicyScope {
  environments: readonly string[];
  projects?: readonly string[] | undefined;
  /** What its gate is called after (`Policy: <name>`); its environments when absent. */
  name?: string | undefined;
}

/** A policy applies to a deployment of `project` to `environment` when it names the environment and, if it names projects, the project. */
export const policyApplies = (policy: PolicyScope, project: string, environment: string): boolean =>
  policy.environments.includes(environment) && (policy.projects === undefined || policy.projects.includes(project));

/** The policies that apply, in the config's order. */
export const policiesFor = <P extends PolicyScope>(policies: readonly P[], project: string, environment: string): P[] =>
  policies.filter((policy) => policyApplies(policy, project, environment));

/**
 * Each policy gate's step name, `Policy: <name>` (its environments when it has no name): unique among themselves and the
 * process's own step names (`taken`), a repeat being numbered (`Policy: production (2)`).
 */
export function policyStepNames(policies: readonly PolicyScope[], taken: readonly string[]): string[] {
  const used = new Set(taken);
  return policies.map((policy) => {
    const base = `Policy: ${policy.name ?? policy.environments.join(', ')}`;
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base} (${n})`;
    used.add(name);
    return name;
  });
}
