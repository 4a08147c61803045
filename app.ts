import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
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
import { ConfigStore } from './config/config-store.js';
import { createOidcSignIn } from './auth/oidc-sign-in.js';
import { createWorkloadIdentity, type WorkloadIdentityOptions } from './auth/workload-identity.js';
import type { Config } from './config/schema.js';
import { Deployments } from './service/deployments.js';
import { KeptnEvents } from './service/keptn-events.js';
import { PolicyOverrides } from './service/policy-overrides.js';
import type { LinkSigner } from './auth/one-click-links.js';
import { type LimitSettings, Limits } from './service/rate-limit.js';
import { Releases } from './service/releases.js';
import { AuditTrail } from './service/audit.js';
import { createSigner } from './service/signing.js';
import { temporalWebProxy } from './api/temporal-web-proxy.js';
import { dashboardRoutes, notFoundPage } from './web/dashboard.js';

/** What `createApp` needs from outside: a Temporal client and the config. */
export interface AppDeps {
  temporal: {
    client: Client;
    taskQueue: string;
    /** Base URL of Temporal Web for links in views; none when unknown. */
    uiUrl?: string | undefined;
    /** Where the Temporal Web this app serves at `/temporal/` listens (loopback, under the same path); none: no `/temporal/`. */
    webUpstream?: string | undefined;
  };
  config: Config;
  /** Where `config` came from and how it reloads (`GET /api/admin/config`, the audit of reloads); a fixed one without it. */
  configStore?: ConfigStore | undefined;
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
  /** `INTERLOCK_PUBLIC_URL`: the identity provider sends people back to `<publicUrl>/auth/oidc/callback`. Default: `Interlock.Url`, else http://localhost:3000. */
  publicUrl?: string | undefined;
  /** Where secrets the config names by environment variable are read (`auth.oidc.clientSecret`); process.env by default. */
  env?: NodeJS.ProcessEnv | undefined;
  /** How CI tokens' issuer keys are fetched and kept (auth/workload-identity.ts); the defaults suit production. */
  workloadIdentity?: WorkloadIdentityOptions | undefined;
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
  const publicUrl = deps.publicUrl ?? deps.systemVariables?.['Interlock.Url'] ?? 'http://localhost:3000';
  const oidc = createOidcSignIn({ config: () => deps.config, signer, publicUrl, env: deps.env });
  const workloads = createWorkloadIdentity(deps.workloadIdentity);
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
  const audit = new AuditTrail({
    logger,
    config: deps.config,
    client: deps.temporal.client,
    taskQueue: deps.temporal.taskQueue,
    source: deps.systemVariables?.['Interlock.Url'] ?? 'interlock',
    perMinute: limits.settings.auditEventsPerMinute,
  });
  const configStore = deps.configStore ?? ConfigStore.fixed(deps.config);
  configStore.onReload((result) => {
    const { source, sha256 } = result.status;
    if (!result.loaded) audit.record({ action: 'config-refused', config: { source, sha256: result.status.lastRefusal?.sha256 ?? sha256, problems: result.problems } });
    else if (result.changed) audit.record({ action: 'config-reloaded', config: { source, sha256 } });
  });
  const overrides = new PolicyOverrides(deployments, { client: deps.temporal.client, taskQueue: deps.temporal.taskQueue });
  const app = new OpenAPIHono<AppEnv>();

  const metrics = createMetrics(deps);
  app.use(requestId());
  app.use(metrics.registerMetrics);
  app.use(async (c, next) => {
    const started = performance.now();
    c.set('logger', logger.child({ requestId: c.get('requestId') }));
    c.set('audit', audit);
    await next();
    c.get('logger').info(
      { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) },
      'request',
    );
  });
  /** 404: a page for a browser, problem+json for the rest. */
  const notFound = (c: Context<AppEnv>) => {
    const isPage = c.req.method === 'GET' && !c.req.path.startsWith('/api/') && c.req.header('Accept')?.includes('text/html');
    if (isPage) return notFoundPage(c, sessions);
    return renderProblem(c, new Problem(404, 'Not found', `Nothing at ${c.req.method} ${c.req.path}.`));
  };
  // Temporal Web sends its own headers (its pages need scripts of their own): before ours.
  if (deps.temporal.webUpstream) app.route('/temporal', temporalWebProxy(deps.temporal.webUpstream, sessions, notFound));
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
    configStore,
    metrics,
    client: deps.temporal.client,
    metricsOpen: deps.metricsOpen,
    codec: deps.codec,
    uiUrl: deps.temporal.uiUrl,
    workloads,
  }));
  app.route('/', dashboardRoutes(deployments, sessions, { releases, overrides, linkSigner: deps.linkSigner, oidc, publicUrl }));

  app.notFound((c) => {
    const allow = allowedMethods(app.routes, c.req.path);
    // A route that answers this method and found nothing there is a plain 404, not a 405.
    if (allow.length > 0 && !allow.includes(c.req.method)) {
      c.header('Allow', allow.join(', '));
      return renderProblem(c, new Problem(405, 'Method not allowed', `${c.req.path} answers ${allow.join(', ')}, not ${c.req.method}.`));
    }
    return notFound(c);
  });
  app.onError(renderError);
  return api;
}

/** For a typed client in dashboards: `hc<AppType>('http://localhost:3000')`. */
export type AppType = ReturnType<typeof createApp>;
