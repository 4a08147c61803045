import { createRoute, z } from '@hono/zod-openapi';
import type { ConfigStore, ConfigStatus } from '../../config/config-store.js';
import { requirePermission } from '../../service/permissions.js';
import { bearerSecurity, jsonResponse, problemResponses } from '../schemas.js';
import { createRouter } from './router.js';

const ConfigStatusSchema = z
  .object({
    source: z.string().openapi({ description: 'The file the config was read from', example: '/etc/interlock/interlock.yaml' }),
    sha256: z.string().openapi({ description: 'The sha256 of the file as loaded; compare it with the file on disk' }),
    loadedAt: z.iso.datetime().openapi({ description: 'When it was loaded: at start, or by the last reload that changed it' }),
    lastRefusal: z
      .object({
        at: z.iso.datetime(),
        sha256: z.string().openapi({ description: 'The sha256 of the refused file' }),
        problems: z.array(z.string()).openapi({ description: 'Every problem, by path', example: ['users[2].teams[0]: unknown team "sre-oncall"'] }),
      })
      .nullable()
      .openapi({ description: 'The last change that was refused (the running config stayed), until a later one loads' }),
  })
  .openapi('ConfigStatus') satisfies z.ZodType<ConfigStatus>;

const configStatus = createRoute({
  method: 'get',
  path: '/admin/config',
  tags: ['admin'],
  summary: 'The config in use: its file, hash, when it was loaded, and the last refused change (admins)',
  security: bearerSecurity,
  responses: { 200: jsonResponse(ConfigStatusSchema, 'The config in use'), ...problemResponses(401, 403) },
});

/** `GET /api/admin/config` (docs/operations.md): what a reload left in use, for admins. */
export function adminRoutes(store: ConfigStore) {
  return createRouter().openapi(configStatus, (c) => {
    requirePermission(c.get('user'), 'configStatus', {}, 'the config');
    return c.json(store.status(), 200);
  });
}
