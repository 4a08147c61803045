import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { CreateDeploymentSchema } from '../service/request-schemas.js';
import type { Deployments } from '../service/deployments.js';
import { notFound } from '../service/errors.js';
import { can } from '../service/permissions.js';
import { deploymentPage } from './data.js';
import { pageErrorOf } from './page-errors.js';
import { type DashboardEnv, guards, sameOrigin } from './guard.js';
import type { Sessions } from '../auth/sessions.js';
import { page } from './layout.js';
import { type DeployFormState, ProjectsPage } from './pages/projects-page.js';
import { submitStartForm } from './start-form.js';

/** The projects page and its "Deploy a release" forms, which start a deployment as `POST /api/deployments` does. */
export function deployActions(deployments: Deployments, sessions: Sessions) {
  const { config } = deployments;
  const { signedIn, formToken } = guards(sessions);

  const render = (c: Context<DashboardEnv>, form?: DeployFormState, status: ContentfulStatusCode = 200) =>
    page(c, { title: 'Projects', session: c.get('session'), section: 'projects', status }, <ProjectsPage session={c.get('session')} config={config} form={form} />);

  return new Hono<DashboardEnv>()
    .get('/projects', signedIn, (c) => render(c))
    .post('/projects/:project/deployments', sameOrigin, signedIn, formToken, async (c) => {
      const project = config.projects.find((candidate) => candidate.id === c.req.param('project'));
      // One the person may not see is as unknown as one that does not exist.
      if (!project || !can(c.get('session').user, 'see', { project: project.id })) throw notFound(`No project "${c.req.param('project')}".`);
      const form = c.get('form');
      const key = /^[A-Za-z0-9-]{1,100}$/.test(form.idempotencyKey ?? '') ? form.idempotencyKey : undefined;
      return submitStartForm(c, config, project, {
        verb: 'deploy',
        schema: CreateDeploymentSchema,
        request: (values, variables) => ({ project: project.id, environment: values.environment, release: values.release, variables }),
        check: (values, errors) => {
          if (!project.environments.includes(values.environment)) errors.environment ??= `Choose one of ${project.environments.join(', ')}.`;
        },
        async start(request) {
          const start = (idempotencyKey?: string) => deployments.trigger(c.get('session').user, request, idempotencyKey);
          // A double click or a refresh finds the deployment the first submission started; a form
          // restored by the back button and changed gets a new one.
          const { view } = await start(key).catch((error: unknown) => {
            if (pageErrorOf(error)?.code === 'IDEMPOTENCY_KEY_REUSED') return start();
            throw error;
          });
          return deploymentPage(view.id);
        },
      });
    });
}
