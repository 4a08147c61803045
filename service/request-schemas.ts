/**
 * What a person or a program asks of Interlock, as the JSON API and the dashboard's forms both
 * check it: one schema each, so a field refused by one is refused by the other in the same words.
 * Zod as `@hono/zod-openapi` extends it, so the API's OpenAPI document names and illustrates them.
 */
import { z } from '@hono/zod-openapi';
import { RELEASE_PATTERN } from '../core/ids.js';
import { MAX_RELEASE_NOTES } from '../core/decision-context.js';
import { DEPLOYMENT_STATUSES, RELEASE_STATUSES } from '../core/names.js';

export const Slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes');

export const VariablesSchema = z.preprocess(
  // A record drops a `__proto__` key without a word: refused here instead, so no variable given is ever lost.
  (value, ctx) => {
    if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
      ctx.addIssue({ code: 'custom', path: ['__proto__'], message: '"__proto__" cannot be a variable\'s name' });
    }
    return value;
  },
  z
    .record(
      z.string().min(1).max(200).regex(/^[^#{}]+$/, 'no "#", "{" or "}" in a variable name'),
      z.string().max(10_000),
    )
    .refine((record) => Object.keys(record).length <= 100, 'at most 100 variables'),
);

/** A trigger's release notes (docs/change-control.md#the-context-to-decide). */
const ReleaseNotes = z.string().max(MAX_RELEASE_NOTES, `at most ${MAX_RELEASE_NOTES.toLocaleString('en')} characters`).optional();

export const CreateDeploymentSchema = z
  .strictObject({
    project: Slug.openapi({ example: 'hello-service' }),
    environment: Slug.openapi({ example: 'production' }),
    release: z.string().regex(RELEASE_PATTERN, 'a version such as 1.4.2 (letters, digits, ".", "_", "+", "-"; at most 100)').openapi({ example: '1.4.2' }),
    variables: VariablesSchema.optional(),
    notAfter: z.iso.datetime({ offset: true }).optional().openapi({
      description: 'Start-by (RFC 3339, in the future): a deployment not past its gates (policy gates, manual steps, approvals, checks before any other step) by then ends Expired',
      example: '2026-12-07T18:00:00Z',
    }),
    releaseNotes: ReleaseNotes.openapi({ description: 'What this release changes, in markdown: shown (as text, never HTML) with every interruption of the deployment', example: 'Fixes the checkout timeout (PAY-142).' }),
  })
  .openapi('CreateDeployment');

export const ListDeploymentsQuerySchema = z.strictObject({
  project: Slug.optional(),
  environment: Slug.optional(),
  status: z.enum(DEPLOYMENT_STATUSES).optional(),
  release: z.string().regex(RELEASE_PATTERN, 'a release such as 1.4.2').optional(),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
  pageToken: z.string().regex(/^[A-Za-z0-9_.-]{1,2000}$/, 'the nextPageToken of an earlier page').optional(),
});

const KeptnName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a stage or sequence name of the shipyard');

export const CreateReleaseSchema = z
  .strictObject({
    project: Slug.openapi({ example: 'helloservice' }),
    release: z.string().regex(RELEASE_PATTERN, 'a version such as 0.1.1 (letters, digits, ".", "_", "+", "-"; at most 100)').openapi({ example: '0.1.1' }),
    stage: KeptnName.optional().openapi({ description: 'Where it starts: the first stage when absent' }),
    sequence: KeptnName.optional().openapi({ description: 'The sequence of that stage: delivery (or its first) when absent' }),
    variables: VariablesSchema.optional(),
    releaseNotes: ReleaseNotes.openapi({ description: 'What this release changes, in markdown: shown (as text, never HTML) with every interruption of its stages\' deployments', example: 'Fixes the checkout timeout (PAY-142).' }),
  })
  .openapi('CreateRelease');

export const ListReleasesQuerySchema = z.strictObject({
  project: Slug.optional(),
  status: z.enum(RELEASE_STATUSES).optional(),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
  pageToken: z.string().regex(/^[A-Za-z0-9_.-]{1,2000}$/, 'the nextPageToken of an earlier page').optional(),
});
