import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { CreateDeploymentSchema } from '../service/request-schemas.js';
import { hasRole } from '../service/permissions.js';
import type { Deployments } from '../service/deployments.js';
import { notFound } from '../service/errors.js';
import { deploymentPage } from './data.js';
import { pageErrorOf, refusalOf } from './page-errors.js';
import { type DashboardEnv, guards, sameOrigin } from './guard.js';
import type { Sessions } from '../auth/sessions.js';
import { page } from './layout.js';
import { type DeployFormState, ProjectsPage } from './pages/projects-page.js';

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

/** The projects page and its "Deploy a release" forms, which start a deployment as `POST /api/deployments` does. */
export function deployActions(deployments: Deployments, sessions: Sessions) {
  const { config } = deployments;
  const { signedIn, formToken } = guards(sessions);

  const render = (c: Context<DashboardEnv>, form?: DeployFormState, status: ContentfulStatusCode = 200) =>
    page(c, { title: 'Projects', session: c.get('session'), section: 'projects', status }, <ProjectsPage session={c.get('session')} config={config} form={form} />);

  return new Hono<DashboardEnv>()
    .get('/projects', signedIn, (c) => render(c))
    .post('/projects/:project/deployments', sameOrigin, signedIn, formToken, async (c) => {
      const user = c.get('session').user;
      const project = config.projects.find((candidate) => candidate.id === c.req.param('project'));
      if (!project) throw notFound(`No project "${c.req.param('project')}".`);
      const form = c.get('form');
      const state: DeployFormState = {
        project: project.id,
        values: { release: (form.release ?? '').trim(), environment: form.environment ?? '', variables: form.variables ?? '' },
        errors: {},
      };
      if (!hasRole(user, 'deployer')) {
        state.errors.form = `${user.displayName} (${user.username}) may not deploy ${project.name}: that needs the deployer role.`;
        return render(c, state, 403);
      }
      const { variables, error } = parseVariables(state.values.variables);
      if (error) state.errors.variables = error;
      const parsed = CreateDeploymentSchema.safeParse({ project: project.id, environment: state.values.environment, release: state.values.release, variables });
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          const field = issue.path[0];
          const message = issue.path.length > 1 ? `${issue.path.slice(1).join('.')}: ${issue.message}` : issue.message;
          if (field === 'release' || field === 'environment' || field === 'variables') state.errors[field] ??= message;
          else state.errors.form ??= message;
        }
      }
      if (!project.environments.includes(state.values.environment)) {
        state.errors.environment ??= `Choose one of ${project.environments.join(', ')}.`;
      }
      if (Object.keys(state.errors).length > 0) return render(c, state, 400);

      const key = /^[A-Za-z0-9-]{1,100}$/.test(form.idempotencyKey ?? '') ? form.idempotencyKey : undefined;
      const request = { project: project.id, environment: state.values.environment, release: state.values.release, variables };
      try {
        const start = (idempotencyKey?: string) => deployments.trigger(user, request, idempotencyKey);
        // A double click or a refresh finds the deployment the first submission started; a form
        // restored by the back button and changed gets a new one.
        const { view } = await start(key).catch((error: unknown) => {
          if (pageErrorOf(error)?.code === 'IDEMPOTENCY_KEY_REUSED') return start();
          throw error;
        });
        return c.redirect(deploymentPage(view.id), 303);
      } catch (error) {
        const problem = refusalOf(c, error);
        if (!problem) throw error;
        state.errors.form = problem.message;
        return render(c, state, problem.status);
      }
    });
}
