import type { Config } from '../config/schema.js';
import { deploymentPath, interruptionPath, releasePath } from '../service/paths.js';

/** The dashboard's page of a deployment (the API's path without `/api`). */
export const deploymentPage = (id: string) => deploymentPath(id, '');

export const interruptionPage = (id: string, iid: string) => interruptionPath(id, iid, '');

/** The dashboard's page of a release. */
export const releasePage = (id: string) => releasePath(id, '');

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
export const allEnvironments = (config: Pick<Config, 'projects'>) => [...new Set(config.projects.flatMap((project) => project.environments))];

/** The output variables steps set (`Action[Step].Output.…`), not the inputs everyone already knows. */
export const outputVariables = (variables: Record<string, string>) =>
  Object.entries(variables).filter(([name]) => /^Action\[.+\]\.Output\./.test(name));
