import { OpenAPIHono } from '@hono/zod-openapi';
import { formatPath } from '../../config/load.js';
import type { AppEnv } from '../../auth/request-env.js';
import { badRequest } from '../problems.js';

/** A router whose invalid requests become one 400 problem naming every invalid field. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      const target = result.target;
      const place = target === 'json' ? 'body' : target === 'param' ? 'path' : target;
      throw badRequest(
        result.error.issues.map((issue) => ({
          name: [place, formatPath(issue.path)].filter(Boolean).join('.').replace('.[', '['),
          reason: issue.message,
        })),
      );
    },
  });
}
