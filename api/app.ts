import { getConnInfo } from '@hono/node-server/conninfo';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import pino from 'pino';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { Deployments } from '../service/deployments.js';
import { Limits } from '../service/rate-limit.js';
import { createSigner } from '../service/signing.js';
import { dashboardRoutes, notFoundPage } from '../web/index.js';
import { createSessions } from '../web/session.js';
import { bearerAuth } from './auth.js';
import { codecRoutes } from './codec.js';
import type { AppDeps, AppEnv } from './deps.js';
import { allowedMethods } from './methods.js';
import { createMetrics } from './metrics.js';
import { docsRoutes } from './docs.js';
import { Problem, renderError, renderProblem } from './problems.js';
import { deploymentRoutes } from './routes/deployments.js';
import { interruptionRoutes } from './routes/interruptions.js';
import { meRoutes } from './routes/me.js';
import { progressRoutes } from './routes/progress.js';
import { projectRoutes } from './routes/projects.js';
import { DeploymentEventSchema, ReleaseEventSchema } from './schemas.js';
import { keptnRoutes } from './routes/keptn.js';
import { releaseRoutes } from './routes/releases.js';
import { KeptnEvents } from '../service/keptn.js';
import { Releases } from '../service/releases.js';

/**
 * The Interlock HTTP API: `createApp({ temporal, config })` returns the Hono app, so tests and the
 * server build it the same way against a real Temporal client.
 *
 *     HTTP request → api/routes/* or web/* → service/ (rules, Temporal client) → workflows/ → activities/
 */
export function createApp(deps: AppDeps) {
  const logger = deps.logger ?? pino({ level: 'silent' });
  const signer = createSigner(deps.sessionSecret);
  const sessions = createSessions(deps.config, signer);
  // One budget per person, whichever way they come: the JSON API, the Keptn event API, the dashboard.
  const limits = new Limits(deps.limits);
  const serviceDeps = {
    client: deps.temporal.client,
    taskQueue: deps.temporal.taskQueue,
    uiUrl: deps.temporal.uiUrl,
    config: deps.config,
    signer,
    actionTimeoutMs: deps.actionTimeoutMs,
    systemVariables: deps.systemVariables,
    limits,
  };
  const deployments = new Deployments(serviceDeps);
  const releases = new Releases(serviceDeps);
  const keptn = new KeptnEvents(releases, deployments);
  const app = new OpenAPIHono<AppEnv>();

  const metrics = createMetrics(deps);
  app.use(requestId());
  app.use(metrics.registerMetrics);
  app.use(async (c, next) => {
    const started = performance.now();
    c.set('logger', logger.child({ requestId: c.get('requestId') }));
    await next();
    c.get('logger').info(
      { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) },
      'request',
    );
  });
  app.use(secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      styleSrc: ["'self'", "'unsafe-inline'"],
      scriptSrc: ["'self'"],
      frameAncestors: ["'none'"],
      formAction: ["'self'"],
      baseUri: ["'self'"],
      objectSrc: ["'none'"],
    },
  }));
  // The API's bodies, and the dashboard's forms and sign-in too (SPEC §11): a huge form is refused before it is parsed.
  app.use(limitBodies(
    { maxSize: 256 * 1024, detail: 'Request bodies may be at most 256 KiB.' },
    { maxSize: 1024 * 1024, detail: 'Forms may be at most 1 MiB.' },
  ));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/metrics', async (c) => {
    if (!deps.metricsOpen && !fromLoopback(c)) {
      return renderProblem(c, new Problem(403, 'Forbidden', 'Metrics answer only on this machine; set INTERLOCK_METRICS_HOST to open them to others.'));
    }
    try {
      return await metrics.printMetrics(c);
    } catch {
      return renderProblem(c, new Problem(503, 'Service unavailable', 'Temporal did not answer for the metrics.', { retryAfter: 5 }));
    }
  });
  app.get('/readyz', async (c) => {
    try {
      await deps.temporal.client.connection.withDeadline(Date.now() + 3_000, () =>
        deps.temporal.client.workflowService.getSystemInfo({}),
      );
      return c.json({ status: 'ready', temporal: 'ok' });
    } catch {
      return renderProblem(c, new Problem(503, 'Service unavailable', 'Temporal does not answer.', { retryAfter: 5 }));
    }
  });

  app.use('/api/*', bearerAuth(deps.config, sessions));
  // A posted Keptn event may start a release or finish a task: it counts against the poster's trigger rate.
  app.use('/api/v1/event', async (c, next) => {
    if (c.req.method === 'POST') limits.trigger(c.get('user').id);
    await next();
  });
  const api = app
    .route('/api', meRoutes(deps.config))
    .route('/api', projectRoutes(deps.config))
    .route('/api/deployments', deploymentRoutes(deployments, metrics.started))
    .route('/api/deployments', progressRoutes(deployments, 'deployments', limits))
    .route('/api', interruptionRoutes(deployments))
    .route('/api/releases', releaseRoutes(releases, limits))
    .route('/api/releases', progressRoutes(releases, 'releases', limits))
    .route('/api/v1', keptnRoutes(keptn, releases));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A token whose sha256 is a user\'s tokenSha256 in the config (npm run token -- <username>)',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'xToken', {
    type: 'apiKey',
    in: 'header',
    name: 'x-token',
    description: 'The same token, as Keptn\'s API takes it (for the Keptn event API)',
  });
  app.openAPIRegistry.register('DeploymentEvent', DeploymentEventSchema);
  app.openAPIRegistry.register('ReleaseEvent', ReleaseEventSchema);
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Interlock',
      version: '0.1.0',
      description: 'Durable deployments with manual interventions, on Temporal. Errors are application/problem+json (RFC 9457).',
    },
  });
  app.route('/docs', docsRoutes());
  if (deps.codec) app.route('/codec', codecRoutes(deps.codec, deps.config, sessions, deps.temporal.uiUrl));
  app.route('/', dashboardRoutes(deployments, sessions, { releases, linkSigner: deps.linkSigner }));

  app.notFound((c) => {
    const allow = allowedMethods(app.routes, c.req.path);
    // A route that answers this method and found nothing there is a plain 404, not a 405.
    if (allow.length > 0 && !allow.includes(c.req.method)) {
      c.header('Allow', allow.join(', '));
      return renderProblem(c, new Problem(405, 'Method not allowed', `${c.req.path} answers ${allow.join(', ')}, not ${c.req.method}.`));
    }
    const isPage = c.req.method === 'GET' && !c.req.path.startsWith('/api/') && c.req.header('Accept')?.includes('text/html');
    if (isPage) return notFoundPage(c, sessions);
    return renderProblem(c, new Problem(404, 'Not found', `Nothing at ${c.req.method} ${c.req.path}.`));
  });
  app.onError(renderError);
  return api;
}

interface BodyLimit {
  maxSize: number;
  /** The 413 problem's detail. */
  detail: string;
}

/**
 * Hono's bodyLimit, `api`'s under /api/ and `others` elsewhere, answered from the headers where
 * they tell. Hono's reads `c.req.raw.body`, which makes @hono/node-server build a full web Request
 * for every request, GETs included (a quarter of the API's CPU per request). A Content-Length is the
 * body's size (Node's parser reads no more); a GET or HEAD without one has none. Only a chunked
 * body, or an in-process Request's, is counted. A POST with `Content-Length: 0` (a bare
 * take-responsibility) has its `body` null: else the OpenAPI validator, to see whether an untyped
 * body is empty, clones the request and reads it (half a millisecond).
 */
function limitBodies(api: BodyLimit, others: BodyLimit): MiddlewareHandler {
  const limits = [api, others].map(({ maxSize, detail }) => {
    const refuse = (c: Context) => renderProblem(c, new Problem(413, 'Payload too large', detail));
    return { maxSize, refuse, counted: bodyLimit({ maxSize, onError: refuse }) };
  });
  return async (c, next) => {
    const { maxSize, refuse, counted } = limits[c.req.path.startsWith('/api/') ? 0 : 1]!;
    const length = c.req.header('content-length');
    if (c.req.header('transfer-encoding') === undefined) {
      const bodiless = c.req.method === 'GET' || c.req.method === 'HEAD';
      if (length === undefined && bodiless) return next();
      if (length === '0' && !bodiless) {
        // The headers say there is none: the request says so too, without a web Request built
        // for it (replacing c.req.raw with one costs 0.15 ms more).
        Object.defineProperty(c.req.raw, 'body', { value: null });
        return next();
      }
      if (length !== undefined && /^\d+$/.test(length)) return Number(length) > maxSize ? refuse(c) : next();
    }
    return counted(c, next);
  };
}

/** Whether the request came over loopback; a request made in-process (tests' `app.request`) has no socket and is local. */
function fromLoopback(c: Context): boolean {
  let address: string | undefined;
  try {
    address = getConnInfo(c).remote.address;
  } catch {
    return true;
  }
  return address === undefined || address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** For a typed client in dashboards: `hc<AppType>('http://localhost:3000')`. */
export type AppType = ReturnType<typeof createApp>;
