import { type Context, Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ListDeploymentsQuerySchema } from '../service/request-schemas.js';
import { placeOfDeploymentId } from '../core/ids.js';
import { notFound } from '../service/errors.js';
import { can } from '../service/permissions.js';
import { auditActor } from '../service/audit.js';
import type { Deployments } from '../service/deployments.js';
import { type LinkSigner, linkEnded } from '../auth/one-click-links.js';
import type { Releases } from '../service/releases.js';
import { OneClickEndedPage, OneClickPage } from './pages/one-click-page.js';
import { releaseRoutes } from './release-actions.js';
import { refusalOf } from './page-errors.js';
import type { Sessions } from '../auth/sessions.js';
import type { OidcSignIn } from '../auth/oidc-sign-in.js';
import { oidcRoutes, onwardPage } from './oidc-routes.js';
import { interruptionActions } from './interruption-actions.js';
import { overrideActions } from './override-actions.js';
import type { PolicyOverrides } from '../service/policy-overrides.js';
import { deployActions } from './deploy-actions.js';
import { assetRoutes } from './assets.js';
import { ErrorMessage } from './components.js';
import { page } from './layout.js';
import { deploymentLive } from './live.js';
import { DeploymentPage } from './pages/deployment-page.js';
import { DeploymentsPage, type Filters } from './pages/deployments-page.js';
import { SignInPage } from './pages/sign-in-page.js';
import { clientAddress, type DashboardEnv, guards, safeNext, sameOrigin } from './guard.js';

/** What a person who follows a dead link sees, instead of the API's problem+json. */
export function notFoundPage(c: Context, sessions: Sessions): Promise<Response> {
  return page(c, { title: 'Not found', session: sessions.read(c), status: 404 }, (
    <section class="card narrow" aria-labelledby="error-heading">
      <h1 id="error-heading">Not found</h1>
      <p>There is no page at {c.req.path}.</p>
      <p>
        <a href="/">Back to deployments</a>
      </p>
    </section>
  ));
}

/**
 * The web dashboard, served at `/`: server-rendered with hono/jsx, working without JavaScript, and
 * made live by `/assets/app.js` (server-sent events on a deployment's page). Every action goes
 * through the same `Deployments` methods and authorization rules as the API.
 */
export function dashboardRoutes(deployments: Deployments, sessions: Sessions, more: { releases: Releases; overrides: PolicyOverrides; linkSigner?: LinkSigner | undefined; oidc?: OidcSignIn | undefined; publicUrl?: string | undefined }) {
  const { config } = deployments;
  const app = new Hono<DashboardEnv>();

  const { signedIn, formToken } = guards(sessions);

  app.onError(async (error, c) => {
    const problem = refusalOf(c, error);
    const status: ContentfulStatusCode = problem?.status ?? (error instanceof HTTPException ? error.status : 500);
    const message = problem?.message
      ?? (error instanceof HTTPException
        ? error.message || 'This form did not come from this dashboard; reload the page and try again.'
        : 'Something went wrong on our side; it has been logged.');
    if (!problem && !(error instanceof HTTPException)) c.get('logger')?.error({ err: error }, 'dashboard error');
    const session = sessions.read(c);
    return page(c, { title: 'Not done', session, status }, (
      <section class="card narrow" aria-labelledby="error-heading">
        <h1 id="error-heading">{status === 404 ? 'Not found' : 'That did not work'}</h1>
        <ErrorMessage id="page-error" message={message} />
        <p>
          <a href="/">Back to deployments</a>
        </p>
      </section>
    ));
  });

  app.route('/', assetRoutes());
  if (more.oidc) app.route('/', oidcRoutes(more.oidc, sessions, config));
  /** The identity provider's name for the sign-in page's button, when there is one. */
  const provider = () => more.oidc?.settings()?.name;

  app.get('/sign-in', async (c) => {
    const session = sessions.read(c);
    const next = safeNext(c.req.query('next'));
    if (session) return c.redirect(next, 303);
    const notice = c.req.query('signed-out') !== undefined ? 'You are signed out.' : undefined;
    return page(c, { title: 'Sign in', session: undefined, live: { 'sign-in': next } }, <SignInPage next={next} notice={notice} provider={provider()} />);
  });

  app.post('/sign-in', sameOrigin, async (c) => {
    const body = await c.req.parseBody();
    const next = safeNext(body.next);
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    const answer = token ? sessions.signInWithToken(c, token) : undefined;
    const request = { method: c.req.method, path: c.req.path };
    if (!answer || !('principal' in answer)) {
      if (answer) {
        const reason = answer.refused === 'expired' ? `a token of ${answer.user.username} that expired at ${answer.user.expires}` : 'a token that is nobody\'s';
        c.var.audit.record({ action: 'sign-in-refused', reason, request }, c.var.logger);
      }
      const error = !answer
        ? 'Enter your token.'
        : answer.refused === 'expired'
          ? `That token expired at ${answer.user.expires}. Ask an admin for a new one.`
          : 'That token belongs to nobody. Check it, or ask an admin for a new one.';
      return page(c, { title: 'Sign in', session: undefined, status: 401 }, <SignInPage next={next} error={error} provider={provider()} />);
    }
    c.var.audit.record({ action: 'signed-in', actor: auditActor(answer.principal), request }, c.var.logger);
    return c.redirect(next, 303);
  });

  app.post('/sign-out', sameOrigin, signedIn, formToken, async (c) => {
    c.var.audit.record({ action: 'signed-out', actor: auditActor(c.get('session').user), request: { method: c.req.method, path: c.req.path } }, c.var.logger);
    const signedInWithProvider = c.get('session').identity !== undefined;
    sessions.end(c);
    // Signed in with the identity provider: its session ends too, where it offers that, and it sends the browser back here.
    const afterwards = `${(more.publicUrl ?? new URL(c.req.url).origin).replace(/\/$/, '')}/sign-in?signed-out`;
    const providerSignOut = signedInWithProvider ? await more.oidc?.endSessionUrl(c, afterwards) : undefined;
    return providerSignOut ? c.html(onwardPage(providerSignOut.href, 'Signed out of Interlock.')) : c.redirect('/sign-in?signed-out', 303);
  });

  app.get('/', signedIn, async (c) => {
    const session = c.get('session');
    const raw = Object.fromEntries(
      ['project', 'environment', 'status', 'pageToken'].map((key) => [key, c.req.query(key) || undefined]).filter(([, value]) => value),
    );
    const parsed = ListDeploymentsQuerySchema.safeParse(raw);
    const filters: Filters = { project: raw.project, environment: raw.environment, status: raw.status };
    const filterError = parsed.success
      ? undefined
      : `These filters are not valid: ${parsed.error.issues.map((issue) => `${issue.path.join('.')} (${issue.message})`).join('; ')}.`;
    // "Waiting for you" pages through the same list as GET /api/interruptions?actionable=true.
    const waitingToken = /^[A-Za-z0-9_.-]{1,2000}$/.test(c.req.query('waiting') ?? '') ? c.req.query('waiting') : undefined;
    const [waiting, list] = await Promise.all([
      deployments.openInterruptions(session.user, { actionable: true, pageSize: 50, pageToken: waitingToken }),
      parsed.success ? deployments.list(session.user, { ...parsed.data, pageSize: 25 }) : Promise.resolve({ deployments: [], nextPageToken: null }),
    ]);
    return page(
      c,
      { title: 'Deployments', session, section: 'deployments', live: { refresh: c.req.path + (new URL(c.req.url).search || ''), poll: '5' }, status: parsed.success ? 200 : 400 },
      <DeploymentsPage
        session={session}
        config={config}
        filters={filters}
        filterError={filterError}
        waiting={waiting.interruptions}
        waitingNext={waiting.nextPageToken}
        deployments={list.deployments}
        nextPageToken={list.nextPageToken}
      />,
    );
  });

  app.get('/deployments/:id', signedIn, async (c) => {
    const session = c.get('session');
    const view = await deployments.get(session.user, c.req.param('id'));
    return page(
      c,
      { title: `${view.release} → ${view.environment} (${view.status})`, session, section: 'deployments', live: deploymentLive(view) },
      <DeploymentPage session={session} config={config} view={view} />,
    );
  });

  // Opening a link counts per person, or per client address before sign-in (there is no person yet).
  const linkRate = createMiddleware<DashboardEnv>(async (c, next) => {
    const person = sessions.read(c)?.user.id;
    deployments.limits.link(person ? `person ${person}` : `address ${clientAddress(c)}`);
    await next();
  });

  // A one-click link from a notification: it names a person and an interruption, opens a page with
  // that interruption's controls for that person while it is open, and decides nothing by itself.
  app.get('/i/:token', linkRate, signedIn, async (c) => {
    const session = c.get('session');
    const claims = more.linkSigner?.read(c.req.param('token'));
    const refuse = (status: ContentfulStatusCode, heading: string, message: string) =>
      page(c, { title: heading, session, status }, (
        <section class="card narrow" aria-labelledby="error-heading">
          <h1 id="error-heading">{heading}</h1>
          <ErrorMessage id="page-error" message={message} />
          <p>
            <a href="/">Back to deployments</a>
          </p>
        </section>
      ));
    if (!claims) return refuse(404, 'This link does not work', 'It was not made by this Interlock, or it was cut short on its way here. Open the deployment from the dashboard instead.');
    if (claims.userId !== session.user.id) {
      const intended = config.users.find((user) => user.id === claims.userId);
      return refuse(403, 'This link is for someone else', `It was sent to ${intended ? `${intended.displayName} (${intended.username})` : 'another person'}; you are signed in as ${session.user.displayName} (${session.user.username}). Sign out and sign in as them, or open the deployment from the dashboard.`);
    }
    // A link to what its person may no longer see is as unknown as any (before anything else is said of it).
    const place = placeOfDeploymentId(claims.deploymentId);
    if (!place || !can(session.user, 'see', place)) throw notFound(`No deployment "${claims.deploymentId}".`);
    // A link works while its interruption is open, and never past the expiry it was signed with.
    const ended = (why: string) =>
      page(c, { title: 'This link no longer works', session, section: 'deployments', status: 410 }, <OneClickEndedPage deploymentId={claims.deploymentId} why={why} />);
    if (!(Date.parse(claims.expiresAt) > Date.now())) return ended('It expired with what it asked you to decide.');
    const view = await deployments.get(session.user, claims.deploymentId);
    const interruption = view.interruptions.find((candidate) => candidate.id === claims.interruptionId);
    const why = linkEnded(view, interruption, new Date());
    if (why || !interruption) return ended(why ?? '');
    return page(
      c,
      { title: `Decide: ${interruption.step}`, session, section: 'deployments', live: { ...deploymentLive(view), refresh: c.req.path } },
      <OneClickPage session={session} config={config} view={view} interruption={interruption} back={c.req.path} />,
    );
  });

  app.route('/', interruptionActions(deployments, sessions));
  app.route('/', overrideActions(deployments, more.overrides, sessions));
  app.route('/', deployActions(deployments, sessions));
  app.route('/', releaseRoutes(more.releases, deployments, sessions));
  return app;
}
