import { getConnInfo } from '@hono/node-server/conninfo';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { Context } from 'hono';
import { bearerAuth } from '../auth/authenticate.js';
import type { WorkloadIdentity } from '../auth/workload-identity.js';
import type { AppEnv } from '../auth/request-env.js';
import type { Sessions } from '../auth/sessions.js';
import type { ConfigStore } from '../config/config-store.js';
import type { Config } from '../config/schema.js';
import type { Deployments } from '../service/deployments.js';
import type { KeptnEvents } from '../service/keptn-events.js';
import type { Limits } from '../service/rate-limit.js';
import type { PolicyOverrides } from '../service/policy-overrides.js';
import type { Releases } from '../service/releases.js';
import { codecRoutes } from './codec-routes.js';
import { adminRoutes } from './routes/admin-routes.js';
import { docsRoutes } from './docs-routes.js';
import type { Metrics } from './metrics.js';
import { Problem, renderProblem } from './problems.js';
import { deploymentRoutes } from './routes/deployment-routes.js';
import { interruptionRoutes } from './routes/interruption-routes.js';
import { keptnRoutes } from './routes/keptn-routes.js';
import { meRoutes } from './routes/me-routes.js';
import { overrideRoutes } from './routes/override-routes.js';
import { progressRoutes } from './routes/progress-routes.js';
import { projectRoutes } from './routes/project-routes.js';
import { releaseRoutes } from './routes/release-routes.js';
import { DeploymentEventSchema, ReleaseEventSchema } from './schemas.js';

/** What the JSON API speaks to: the services, the people's limits and sessions, Temporal (for readiness), the codec. */
export interface ApiServices {
  deployments: Deployments;
  releases: Releases;
  keptn: KeptnEvents;
  /** Break-glass on policy gates, and the overrides to review (docs/change-control.md). */
  overrides: PolicyOverrides;
  limits: Limits;
  sessions: Sessions;
  /** Checks CI jobs' tokens against `auth.trust`; without it, only the config's tokens are bearers. */
  workloads?: WorkloadIdentity | undefined;
  config: Config;
  /** The config's file and reloads, for `GET /api/admin/config`. */
  configStore: ConfigStore;
  metrics: Metrics;
  client: Client;
  /** Whether `/metrics` answers callers beyond loopback. */
  metricsOpen?: boolean | undefined;
  /** Temporal Web's codec endpoint (`/codec`) is served with it. */
  codec?: PayloadCodec | undefined;
  /** Temporal Web's address: the codec endpoint answers its origin's CORS requests. */
  uiUrl?: string | undefined;
}

/**
 * The JSON API: health, readiness and metrics, every route under `/api` (bearer token, or the
 * dashboard's session for reads), its OpenAPI document and page, and Temporal Web's codec endpoint.
 */
export function apiRoutes(s: ApiServices) {
  const app = new OpenAPIHono<AppEnv>();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/metrics', async (c) => {
    if (!s.metricsOpen && !fromLoopback(c)) {
      return renderProblem(c, new Problem(403, 'Forbidden', 'Metrics answer only on this machine; set INTERLOCK_METRICS_HOST to open them to others.'));
    }
    try {
      return await s.metrics.printMetrics(c);
    } catch {
      return renderProblem(c, new Problem(503, 'Service unavailable', 'Temporal did not answer for the metrics.', { retryAfter: 5 }));
    }
  });
  app.get('/readyz', async (c) => {
    try {
      await s.client.connection.withDeadline(Date.now() + 3_000, () =>
        s.client.workflowService.getSystemInfo({}),
      );
      return c.json({ status: 'ready', temporal: 'ok' });
    } catch {
      return renderProblem(c, new Problem(503, 'Service unavailable', 'Temporal does not answer.', { retryAfter: 5 }));
    }
  });

  app.use('/api/*', bearerAuth(s.config, s.sessions, s.workloads));
  // A posted Keptn event may start a release or finish a task: it counts against the poster's trigger rate.
  app.use('/api/v1/event', async (c, next) => {
    if (c.req.method === 'POST') s.limits.trigger(c.get('user').id);
    await next();
  });
  const api = app
    .route('/api', meRoutes(s.config))
    .route('/api', projectRoutes(s.config))
    .route('/api/deployments', deploymentRoutes(s.deployments, s.metrics.started))
    .route('/api/deployments', progressRoutes(s.deployments, 'deployments', s.limits))
    .route('/api', interruptionRoutes(s.deployments))
    .route('/api', overrideRoutes(s.overrides))
    .route('/api/releases', releaseRoutes(s.releases, s.limits))
    .route('/api/releases', progressRoutes(s.releases, 'releases', s.limits))
    .route('/api/v1', keptnRoutes(s.keptn, s.releases))
    .route('/api', adminRoutes(s.configStore));

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
  if (s.codec) app.route('/codec', codecRoutes(s.codec, s.config, s.sessions, s.uiUrl));
  return api;
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
