import type { Interruption } from './interruptions.js';
import type { DeploymentView } from './views.js';
import type { Variables } from './substitution.js';

/** What a sensitive value shows as, everywhere a person or a log can see it (docs/configuration.md). */
export const MASK = '********';

/** The values of the sensitive variables, longest first (so a value that contains another is masked whole). */
export function secretsOf(variables: Variables, sensitive: readonly string[] | undefined): string[] {
  if (!sensitive?.length) return [];
  return sensitive
    .flatMap((name) => (Object.hasOwn(variables, name) && variables[name] ? [variables[name]!] : []))
    .sort((a, b) => b.length - a.length);
}

export function maskText(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) masked = masked.split(secret).join(MASK);
  return masked;
}

/** A copy of the view for anyone outside the workflow: sensitive variables and every occurrence of their values masked. */
export function maskView(view: DeploymentView, sensitive: readonly string[] | undefined): DeploymentView {
  const secrets = secretsOf(view.variables, sensitive);
  if (secrets.length === 0) return view;
  const masked = JSON.parse(maskText(JSON.stringify(view), secrets.map((secret) => JSON.stringify(secret).slice(1, -1)))) as DeploymentView;
  for (const name of sensitive ?? []) if (Object.hasOwn(masked.variables, name)) masked.variables[name] = MASK;
  return masked;
}

export function maskInterruption(interruption: Interruption, secrets: readonly string[]): Interruption {
  if (secrets.length === 0) return interruption;
  return JSON.parse(maskText(JSON.stringify(interruption), secrets.map((secret) => JSON.stringify(secret).slice(1, -1)))) as Interruption;
}
