import type { Project, ProjectVariable } from './schema.js';

export interface VariableDefinition {
  value?: string | undefined;
  /** A trigger may set it; without a `value`, a trigger must. */
  prompted: boolean;
  /** Checked, whole, against what a trigger gives. */
  pattern?: string | undefined;
  description?: string | undefined;
  sensitive?: boolean | undefined;
}

/** A project variable as written (a plain value, or an object), as one shape. */
export const definitionOf = (variable: ProjectVariable): VariableDefinition =>
  typeof variable === 'string' ? { value: variable, prompted: false } : { ...variable, prompted: variable.prompted === true };

/** Interlock sets these; no trigger or project may (docs/configuration.md). */
export const BUILT_IN_VARIABLES = ['Project', 'Project.Name', 'Release', 'Environment', 'Deployment.Id', 'Interlock.Url', 'Stage', 'Sequence', 'Release.Id'] as const;

/** Output variables (`Action[Step].Output.…`) are set by steps, never by a trigger. */
export const isOutputVariable = (name: string) => /^(?:Octopus\.)?Action\[.*\]\./.test(name);

export const MAX_VARIABLE_LENGTH = 10_000;
export const MAX_VARIABLES = 100;

export interface InvalidVariable {
  name: string;
  reason: string;
}

/**
 * The variables a deployment starts with, from the project's definitions and what the trigger gave:
 * only prompted variables may be given, each must match its pattern, a prompted variable without a
 * value must be given, and built-ins and outputs cannot be overridden. Every problem at once,
 * named by its place in the request (`body.variables.X`). Pure.
 */
export function resolveTriggerVariables(
  project: Pick<Project, 'id' | 'variables'>,
  given: Record<string, string>,
): { ok: true; variables: Record<string, string>; prompted: string[]; sensitive: string[] } | { ok: false; errors: InvalidVariable[] } {
  const errors: InvalidVariable[] = [];
  const place = (name: string) => `body.variables.${name}`;
  const defined = (name: string): VariableDefinition | undefined => (Object.hasOwn(project.variables, name) ? definitionOf(project.variables[name]!) : undefined);
  const names = Object.keys(given);
  if (names.length > MAX_VARIABLES) errors.push({ name: 'body.variables', reason: `at most ${MAX_VARIABLES} variables` });
  for (const name of names) {
    const value = given[name]!;
    const definition = defined(name);
    if ((BUILT_IN_VARIABLES as readonly string[]).includes(name)) {
      errors.push({ name: place(name), reason: `"${name}" is set by Interlock and cannot be given` });
    } else if (isOutputVariable(name)) {
      errors.push({ name: place(name), reason: `"${name}" is an output of a step and cannot be given` });
    } else if (!definition) {
      errors.push({ name: place(name), reason: `${project.id} has no variable "${name}"; a trigger may set only its prompted variables` });
    } else if (!definition.prompted) {
      errors.push({ name: place(name), reason: `"${name}" is not a prompted variable of ${project.id}, so a trigger may not set it` });
    } else if (value.length > MAX_VARIABLE_LENGTH) {
      errors.push({ name: place(name), reason: `at most ${MAX_VARIABLE_LENGTH.toLocaleString('en')} characters` });
    } else if (definition.pattern && !new RegExp(`^(?:${definition.pattern})$`, 'u').test(value)) {
      const shown = definition.sensitive ? 'the value' : `"${value.slice(0, 100)}"`;
      errors.push({ name: place(name), reason: `${shown} does not match ${definition.pattern}` });
    }
  }
  const variables: Record<string, string> = {};
  const prompted: string[] = [];
  const sensitive: string[] = [];
  for (const [name, definition] of Object.entries(project.variables).map(([n, v]) => [n, definitionOf(v)] as const)) {
    if (definition.prompted) prompted.push(name);
    if (definition.sensitive) sensitive.push(name);
    const value = Object.hasOwn(given, name) && definition.prompted ? given[name] : definition.value;
    if (value === undefined) {
      if (definition.prompted) errors.push({ name: place(name), reason: `${project.id} needs "${name}" when it is triggered${definition.description ? ` (${definition.description})` : ''}` });
      continue;
    }
    variables[name] = value;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, variables, prompted, sensitive };
}

/** The values a project's variables have when nobody sets them (prompted ones without a value are left out). */
export const defaultValues = (variables: Record<string, ProjectVariable>, { masked = false } = {}): Record<string, string> =>
  Object.fromEntries(Object.entries(variables).flatMap(([name, variable]) => {
    const { value, sensitive } = definitionOf(variable);
    if (value === undefined) return [];
    return [[name, masked && sensitive ? '********' : value]];
  }));
