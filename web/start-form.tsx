import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from '@hono/zod-openapi';
import type { Config, Project } from '../config/schema.js';
import { can, notPermitted } from '../service/permissions.js';
import type { DashboardEnv } from './guard.js';
import { page } from './layout.js';
import { refusalOf } from './page-errors.js';
import { type DeployFormState, ProjectsPage } from './pages/projects-page.js';

type FormField = keyof DeployFormState['errors'];

/** `KEY=VALUE` lines → variables; blank lines and `#` comments are skipped. */
export function parseVariables(text: string): { variables: Record<string, string>; error?: string } {
  // A Map, so `constructor` or `__proto__` is a name like any other (and refused as one the project lacks).
  const given = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    const at = line.indexOf('=');
    if (at <= 0) return { variables: Object.fromEntries(given), error: `Line ${index + 1} (“${line.slice(0, 40)}”) is not KEY=VALUE.` };
    const name = line.slice(0, at).trim();
    if (given.has(name)) return { variables: Object.fromEntries(given), error: `${name} is given twice (line ${index + 1}).` };
    given.set(name, line.slice(at + 1));
  }
  return { variables: Object.fromEntries(given) };
}

/** What tells a project's start form apart: a deployment's or a release's request, its checks, and how it starts. */
export interface StartForm<R> {
  /** How a refusal names what the person may not do: `deploy`, `release`. */
  verb: 'deploy' | 'release';
  /** The API's schema of the request, so the form refuses what the API refuses, in the same words. */
  schema: z.ZodType<R>;
  /** The request; the form's release notes are added to it when given. */
  request(values: DeployFormState['values'], variables: Record<string, string>): Record<string, unknown>;
  /** The form field a request's field is typed in, where the names differ (a release's `stage` is the Environment field). */
  fields?: Record<string, FormField>;
  /** What the schema cannot see: an environment the project does not have. */
  check?(values: DeployFormState['values'], errors: DeployFormState['errors']): void;
  /** Starts it as the person; the page to go to. */
  start(request: R): Promise<string>;
}

/**
 * A "Deploy a release" form of the projects page, posted: the deployer role, the variables, the
 * request as the API's schema checks it, each problem next to its field, then the start, or the
 * service's refusal in words at the top of the form.
 */
export async function submitStartForm<R>(c: Context<DashboardEnv>, config: Config, project: Project, form: StartForm<R>): Promise<Response> {
  const session = c.get('session');
  const { user } = session;
  const posted = c.get('form');
  const state: DeployFormState = {
    project: project.id,
    values: { release: (posted.release ?? '').trim(), environment: posted.environment ?? '', variables: posted.variables ?? '', releaseNotes: posted.releaseNotes ?? '' },
    errors: {},
  };
  const render = (status: ContentfulStatusCode) =>
    page(c, { title: 'Projects', session, section: 'projects', status }, <ProjectsPage session={session} config={config} form={state} />);
  // Nowhere to deploy this project: refused before anything else (the service decides for the environment chosen).
  if (!project.environments.some((environment) => can(user, 'trigger', { project: project.id, environment }))) {
    state.errors.form = notPermitted(user, 'trigger', { project: project.id }, project.name).message;
    return render(403);
  }
  const { variables, error } = parseVariables(state.values.variables);
  if (error) state.errors.variables = error;
  const notes = state.values.releaseNotes.trim() ? { releaseNotes: state.values.releaseNotes } : {};
  const parsed = form.schema.safeParse({ ...form.request(state.values, variables), ...notes });
  for (const issue of parsed.error?.issues ?? []) {
    const name = String(issue.path[0]);
    const field = form.fields?.[name] ?? (name === 'release' || name === 'environment' || name === 'variables' || name === 'releaseNotes' ? name : 'form');
    state.errors[field] ??= issue.path.length > 1 ? `${issue.path.slice(1).join('.')}: ${issue.message}` : issue.message;
  }
  form.check?.(state.values, state.errors);
  if (!parsed.success || Object.keys(state.errors).length > 0) return render(400);
  try {
    return c.redirect(await form.start(parsed.data), 303);
  } catch (caught) {
    const problem = refusalOf(c, caught);
    if (!problem) throw caught;
    state.errors.form = problem.message;
    return render(problem.status);
  }
}
