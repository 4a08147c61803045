import type { Config, User } from '../../config/schema.js';
import { isActionableBy, isOpen, mayTakeResponsibility } from '../../workflows/interruption.js';
import type { Actor, Interruption } from '../../workflows/messages.js';
import { actorOf, hasRole } from '../auth.js';
import type { DeploymentWithLinks, Deployments } from '../deployments.js';
import { Problem, problemFromTemporal } from '../problems.js';

export interface WaitingItem {
  interruption: Interruption;
  deployment: DeploymentWithLinks;
}

/**
 * What `GET /api/interruptions?actionable=true` returns for this user: visibility narrows the
 * candidates by the teams they wait for, each is read, and the same rule as the workflow's filters.
 */
export async function waitingFor(deployments: Deployments, user: User): Promise<WaitingItem[]> {
  const actor = actorOf(user);
  const scope = hasRole(user, 'admin') ? 'all' : [...user.teams, ...(hasRole(user, 'deployer') ? ['deployers'] : [])];
  const waiting = await deployments.listWaiting(scope);
  const views = await Promise.all(waiting.map((summary) => deployments.get(summary.id).catch(() => undefined)));
  return views.flatMap((view) =>
    (view?.interruptions ?? [])
      .filter((interruption) => isActionableBy(interruption, actor))
      .map((interruption) => ({ interruption, deployment: view! })),
  );
}

export type InterruptionAction = 'take' | 'takeOver' | 'decide';

/** Which controls this user gets for an interruption; the workflow checks the same rules again. */
export function actionFor(interruption: Interruption, actor: Actor): InterruptionAction | undefined {
  if (!isOpen(interruption)) return undefined;
  // The assignee may decide even if their teams changed since they took it, as the workflow allows.
  if (interruption.assignee?.id === actor.id) return 'decide';
  if (!mayTakeResponsibility(interruption, actor)) return undefined;
  return interruption.assignee ? 'takeOver' : 'take';
}

/** A problem the user can read, from whatever the API's layers threw; undefined for a real bug. */
export function asProblem(error: unknown): Problem | undefined {
  return error instanceof Problem ? error : problemFromTemporal(error);
}

/** The dashboard's path of a deployment; its id keeps its colons readable, as the API's links do. */
export const deploymentPath = (id: string) => `/deployments/${encodeURIComponent(id).replaceAll('%3A', ':')}`;

export const interruptionPath = (id: string, iid: string) => `${deploymentPath(id)}/interruptions/${encodeURIComponent(iid)}`;

export function teamNames(config: Config, teams: string[]): string {
  const names = teams.map((team) => config.teams.find((t) => t.id === team)?.name ?? team);
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

export function displayNameOf(config: Config, username: string): string {
  if (username === 'system') return 'Interlock';
  return config.users.find((user) => user.username === username)?.displayName ?? username;
}

/** Every environment any project has, in the order projects list them. */
export const allEnvironments = (config: Config) => [...new Set(config.projects.flatMap((project) => project.environments))];

/** The output variables steps set (`Action[Step].Output.…`), not the inputs everyone already knows. */
export const outputVariables = (variables: Record<string, string>) =>
  Object.entries(variables).filter(([name]) => /^Action\[.+\]\.Output\./.test(name));
