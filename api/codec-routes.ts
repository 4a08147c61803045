import type { Payload, PayloadCodec } from '@temporalio/common';
import { type Context, Hono } from 'hono';
import { cors } from 'hono/cors';
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import { principalForToken, refusalInWords } from '../auth/authenticate.js';
import { requirePermission } from '../service/permissions.js';
import type { Sessions } from '../auth/sessions.js';
import type { AppEnv } from '../auth/request-env.js';
import { badRequest, Problem, renderProblem } from './problems.js';

/** Temporal's codec-server protocol: payloads as proto3 JSON, their bytes in base64. */
const PayloadsSchema = z.strictObject({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), z.base64()).optional(), data: z.base64().optional() }))
    .max(1000),
});

const toPayload = ({ metadata, data }: z.infer<typeof PayloadsSchema>['payloads'][number]): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
  data: Buffer.from(data ?? '', 'base64'),
});

const fromPayload = ({ metadata, data }: Payload) => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
  data: Buffer.from(data ?? []).toString('base64'),
});

/**
 * The codec endpoint (docs/security.md): Temporal Web posts encrypted payloads to `/codec/decode` (and
 * plain ones to `/codec/encode`) and shows what comes back. Admins and operators only (`requirePermission(…, 'decode')`:
 * an unscoped admin or operator grant), by bearer token or by the dashboard's session (Temporal Web
 * sends it when "include credentials" is on); CORS only for Temporal Web's own origin.
 */
export function codecRoutes(codec: PayloadCodec, config: Config, sessions: Sessions, temporalWeb: string | undefined) {
  const origin = temporalWeb ? new URL(temporalWeb).origin : undefined;
  const app = new Hono<AppEnv>();
  app.use(
    '*',
    cors({
      origin: (requested) => (requested && requested === origin ? requested : null),
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'Authorization', 'X-Namespace'],
      credentials: true,
      maxAge: 600,
    }),
  );

  const admin = (c: Context) => {
    const token = c.req.header('Authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    // A session counts only from Temporal Web itself, so no other site's page can use it.
    const fromTemporalWeb = origin !== undefined && c.req.header('Origin') === origin;
    const answer = token ? principalForToken(config, token) : undefined;
    if (answer && !('principal' in answer)) throw new Problem(401, 'Unauthorized', refusalInWords(answer));
    const principal = answer?.principal ?? (fromTemporalWeb ? sessions.read(c)?.user : undefined);
    if (!principal) throw new Problem(401, 'Unauthorized', 'Send an admin\'s or operator\'s token as "Authorization: Bearer <token>", or sign in to the dashboard as one.');
    // 403 NOT_PERMITTED naming the role: the codec is about no one project, so there is nothing to hide.
    requirePermission(principal, 'decode', {}, 'here');
  };

  for (const action of ['encode', 'decode'] as const) {
    app.post(`/${action}`, async (c) => {
      admin(c);
      const parsed = PayloadsSchema.safeParse(await c.req.json().catch(() => undefined));
      if (!parsed.success) {
        throw badRequest(parsed.error.issues.map((issue) => ({ name: ['body', ...issue.path].join('.'), reason: issue.message })));
      }
      try {
        const payloads = await codec[action](parsed.data.payloads.map(toPayload));
        return c.json({ payloads: payloads.map(fromPayload) });
      } catch (error) {
        return renderProblem(c, new Problem(400, 'Bad request', error instanceof Error ? error.message : String(error)));
      }
    });
  }
  return app;
}
