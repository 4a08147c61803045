import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { CreateReleaseSchema, ListReleasesQuerySchema } from '../service/request-schemas.js';
import type { DeploymentWithLinks, Deployments } from '../service/deployments.js';
import { notFound } from '../service/errors.js';
import { can } from '../service/permissions.js';
import type { Releases, ReleaseWithLinks } from '../service/releases.js';
import { snapshotOf } from '../service/watch.js';
import { isFinished } from '../core/names.js';
import { releasePage } from './data.js';
import { type DashboardEnv, guards, sameOrigin } from './guard.js';
import { page } from './layout.js';
import { cancelActions } from './cancel-actions.js';
import { submitStartForm } from './start-form.js';
import type { ActionError } from './pages/deployment-props.js';
import { ReleasePage, ReleasesPage } from './pages/release-page.js';
import type { Sessions } from '../auth/sessions.js';

/** A release page follows the release's event stream, as a deployment's page follows its own. */
function releaseLive(view: ReleaseWithLinks, version: string): Record<string, string> {
  return { events: `${view.links.self}/events`, 'event-name': 'release', refresh: releasePage(view.id), version, finished: String(isFinished(view.status)) };
}

/**
 * The dashboard's releases (docs/keptn.md): the list, a release's page (stages left to right, the
 * approval banner), cancelling one, and starting one from the projects page; every action through
 * the same `Releases` methods as the API, and counted against the same per-person limits.
 */
export function releaseRoutes(releases: Releases, deployments: Deployments, sessions: Sessions) {
  const { config } = deployments;
  const { signedIn, formToken } = guards(sessions);

  const render = async (c: Context<DashboardEnv>, id: string, status: ContentfulStatusCode = 200, error?: ActionError) => {
    const session = c.get('session');
    const view = await releases.get(session.user, id);
    const ids = view.stages.flatMap((stage) => stage.sequences.flatMap((sequence) => (sequence.deploymentId ? [sequence.deploymentId] : [])));
    // Each stage's deployment as the person may see it: a stage outside their grants shows its status only.
    const views = await Promise.all(ids.map((child) => deployments.get(session.user, child).catch(() => undefined)));
    const sequences = Object.fromEntries(views.flatMap((child): [string, DeploymentWithLinks][] => (child ? [[child.id, child]] : [])));
    return page(
      c,
      { title: `${view.projectName} ${view.release} (${view.status})`, session, section: 'releases', live: releaseLive(view, snapshotOf(view).version), status },
      <ReleasePage session={session} config={config} view={view} sequences={sequences} error={error} />,
    );
  };

  return new Hono<DashboardEnv>()
    .get('/releases', signedIn, async (c) => {
      const raw = Object.fromEntries(['project', 'status', 'pageToken'].map((key) => [key, c.req.query(key) || undefined]).filter(([, value]) => value));
      const parsed = ListReleasesQuerySchema.safeParse(raw);
      const list = parsed.success ? await releases.list(c.get('session').user, { ...parsed.data, pageSize: 25 }) : { releases: [], nextPageToken: null };
      return page(
        c,
        { title: 'Releases', session: c.get('session'), section: 'releases', live: { refresh: c.req.path + (new URL(c.req.url).search || ''), poll: '5' }, status: parsed.success ? 200 : 400 },
        <ReleasesPage session={c.get('session')} config={config} releases={list.releases} nextPageToken={list.nextPageToken} filters={{ project: raw.project, status: raw.status }} />,
      );
    })
    .get('/releases/:id', signedIn, (c) => render(c, c.req.param('id')))
    .route('/', cancelActions(sessions, {
      noun: 'release',
      pageOf: releasePage,
      get: (user, id) => releases.get(user, id),
      place: (view) => ({ project: view.project }),
      cancel: (user, id) => releases.cancel(user, id),
      name: (view) => `${view.projectName} ${view.release}`,
      explanation: 'The sequence that runs now is cancelled (a running script is stopped), nothing is promoted, and the release ends as Cancelled.',
      rerender: (c, id, status, error) => render(c, id, status, error),
    }))
    .post('/projects/:project/releases', sameOrigin, signedIn, formToken, async (c) => {
      const project = config.projects.find((candidate) => candidate.id === c.req.param('project') && candidate.shipyard);
      // One the person may not see is as unknown as one that does not exist.
      if (!project || !can(c.get('session').user, 'see', { project: project.id })) throw notFound(`No lifecycle project "${c.req.param('project')}".`);
      return submitStartForm(c, config, project, {
        verb: 'release',
        schema: CreateReleaseSchema,
        request: (values, variables) => ({ project: project.id, release: values.release, stage: values.environment || undefined, variables }),
        fields: { stage: 'environment' },
        async start(request) {
          const user = c.get('session').user;
          deployments.limits.trigger(user.id);
          const { view } = await releases.trigger(user, request);
          return releasePage(view.id);
        },
      });
    });
}
