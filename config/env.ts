import { resolve } from 'node:path';
import { z } from 'zod';
import { describeIssues } from './load.js';

const Port = z.coerce.number().int().min(1).max(65535);

/** The environment variables of docs/operations.md, checked at start-up; every problem is named at once. */
export const EnvSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('interlock'),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  /** A CA certificate to trust for the server's certificate (a cluster with a private CA); else the system's. */
  TEMPORAL_TLS_CA: z.string().min(1).optional(),
  /** The name to expect in the server's certificate, when it is not the address's host. */
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_DEV_PORT: Port.default(7233),
  TEMPORAL_UI_PORT: Port.default(8233),
  /** `npm run cluster`: its frontend's port; the other services' ports follow Temporal's layout around it. */
  TEMPORAL_CLUSTER_PORT: Port.default(7233),
  /** `npm run cluster`: the port of its own PostgreSQL (not 5432, where a system one may listen). */
  INTERLOCK_POSTGRES_PORT: Port.default(5433),
  /** Where Temporal Web is, for the links in deployment views; the embedded server's by default. */
  TEMPORAL_UI_URL: z.url().optional(),
  PORT: Port.default(3000),
  /** The worker's own Temporal metrics (Prometheus) on this port; 0 turns them off. */
  INTERLOCK_WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** Where the API listens: 127.0.0.1 while the shipped example config (public demo tokens) is in use, else 0.0.0.0. */
  HOST: z.string().min(1).optional(),
  /** Who may read metrics: the worker's metrics port binds here, and the API's /metrics answers only loopback callers unless this is another address. */
  INTERLOCK_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** How people and scripts reach this API; `#{Interlock.Url}` in steps. */
  INTERLOCK_PUBLIC_URL: z.url().optional(),
  INTERLOCK_CONFIG: z.string().min(1).optional(),
  /** Signs the dashboard's session cookies; random per process when unset (a restart signs everyone out). */
  INTERLOCK_SESSION_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  INTERLOCK_DATA_DIR: z.string().min(1).default('./.data').transform((dir) => resolve(dir)),
  /** How long an action waits for a worker before answering 503. */
  INTERLOCK_ACTION_TIMEOUT: z.coerce.number().positive().default(10).describe('seconds'),
  /** Base64 AES-256 keys of the payload codec, comma-separated, the first encrypting; else one made in INTERLOCK_DATA_DIR. */
  INTERLOCK_CODEC_KEY: z.string().min(1).optional(),
  /** Workflows the worker keeps in memory between tasks; evicted ones replay when touched. */
  INTERLOCK_WORKFLOW_CACHE: z.coerce.number().int().min(0).default(200),
  // What one person may ask of the API before 429; unset: the defaults of service/rate-limit.ts.
  /** Deployments and releases started, and Keptn events posted, per person per minute. */
  INTERLOCK_TRIGGER_RATE: z.coerce.number().int().positive().optional(),
  /** Actions (take, proceed, abort, retry, ignore, fail, cancel) one person may send per minute. */
  INTERLOCK_ACTION_RATE: z.coerce.number().int().positive().optional(),
  /** Event streams one person may hold open at once. */
  INTERLOCK_STREAMS_PER_PERSON: z.coerce.number().int().positive().optional(),
  /** `…/wait` requests one person may have held at once. */
  INTERLOCK_WAITS_PER_PERSON: z.coerce.number().int().positive().optional(),
  /** One-click links opened per minute, per person (per client address before sign-in). */
  INTERLOCK_LINK_RATE: z.coerce.number().int().positive().optional(),
  /** Audit records the API sends to the channels per minute (the log has them all). */
  INTERLOCK_AUDIT_RATE: z.coerce.number().int().positive().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
}).superRefine((env, ctx) => {
  if (Boolean(env.TEMPORAL_TLS_CERT) !== Boolean(env.TEMPORAL_TLS_KEY)) {
    ctx.addIssue({ code: 'custom', path: ['TEMPORAL_TLS_KEY'], message: 'TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together' });
  }
});
export type Env = z.infer<typeof EnvSchema>;

export class EnvError extends Error {
  override name = 'EnvError';
}

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const blanksRemoved = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const result = EnvSchema.safeParse(blanksRemoved);
  if (!result.success) {
    throw new EnvError(`Invalid environment:\n${describeIssues(result.error.issues).map((p) => `  - ${p}`).join('\n')}`);
  }
  return result.data;
}
