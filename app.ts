import { OpenAPIHono } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import pino, { type Logger } from 'pino';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { apiRoutes } from './api/api-routes.js';
import { limitBodies } from './api/body-limits.js';
import { allowedMethods } from './api/methods.js';
import { createMetrics } from './api/metrics.js';
import { Problem, renderError, renderProblem } from './api/problems.js';
import type { AppEnv } from './auth/request-env.js';
import { createSessions } from './auth/sessions.js';
import type { Config } from './config/schema.js';
import { Deployments } from './service/deployments.js';
import { KeptnEvents } from './service/keptn-events.js';
import { PolicyOverrides } from './service/policy-overrides.js';
import type { LinkSigner } from './auth/one-click-links.js';
import { type LimitSettings, Limits } from './service/rate-limit.js';
import { Releases } from './service/releases.js';
import { createSigner } from './service/signing.js';
import { dashboardRoutes, notFoundPage } from './web/dashboard.js';

/** What `createApp` needs from outside: a Temporal client and the config. */
export interface AppDeps {
  temporal: {
    client: Client;
    taskQueue: string;
    /** Base URL of Temporal Web for links in views; none when unknown. */
    uiUrl?: string | undefined;
  };
  config: Config;
  /** How long an action or query waits for a worker before 503 (ms). Default 10 s. */
  actionTimeoutMs?: number;
  logger?: Logger;
  /** Variables every deployment gets, e.g. `Interlock.Url`. */
  systemVariables?: Record<string, string>;
  /** What one person may start, do and hold at once before 429 (`INTERLOCK_TRIGGER_RATE`, `INTERLOCK_ACTION_RATE`, …); `DEFAULT_LIMITS` for what is not given. */
  limits?: { [K in keyof LimitSettings]?: number | undefined } | undefined;
  /** Whether `/metrics` answers callers beyond loopback (`INTERLOCK_METRICS_HOST` set to another address). Default no. */
  metricsOpen?: boolean | undefined;
  /** The payload codec Temporal Web decodes through (`/codec/decode`, admins only); no endpoint without it. */
  codec?: PayloadCodec | undefined;
  /** Signs sessions and page tokens (`INTERLOCK_SESSION_SECRET`); random per process when absent. */
  sessionSecret?: string | undefined;
  /** Checks the one-click links of notifications (`/i/<token>`); made from the codec's keys. Without it, those links are refused. */
  linkSigner?: LinkSigner | undefined;
}

/**
 * Interlock's HTTP server, wired in this one place: the services over one Temporal client and
 * config, then the JSON API (`api/`) and the dashboard (`web/`) on one Hono app, which neither
 * front end builds. `createApp({ temporal, config })` returns it, so the server and the tests build
 * it the same way against a real Temporal client.
 *
 *     HTTP request → api/routes/* or a web/ page → auth/ → service/ → workflows/ → activities/
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
  const overrides = new PolicyOverrides(deployments, { client: deps.temporal.client, taskQueue: deps.temporal.taskQueue });
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
  // JSON bodies and the dashboard's forms (sign-in too) alike: at most 1 MiB, refused before it is parsed.
  // A trigger may carry 100 variables of 10,000 characters each.
  app.use(limitBodies(
    { maxSize: 1024 * 1024, detail: 'Request bodies may be at most 1 MiB.' },
    { maxSize: 1024 * 1024, detail: 'Forms may be at most 1 MiB.' },
  ));

  const api = app.route('/', apiRoutes({
    deployments,
    releases,
    keptn,
    overrides,
    limits,
    sessions,
    config: deps.config,
    metrics,
    client: deps.temporal.client,
    metricsOpen: deps.metricsOpen,
    codec: deps.codec,
    uiUrl: deps.temporal.uiUrl,
  }));
  app.route('/', dashboardRoutes(deployments, sessions, { releases, overrides, linkSigner: deps.linkSigner }));

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

/** For a typed client in dashboards: `hc<AppType>('http://localhost:3000')`. */
export type AppType = ReturnType<typeof createApp>;
