import { z } from 'zod';
import { MAX_NOTES } from './interruption.js';
import { ROLES } from './names.js';
import type { CancelRequest, DecisionRequest, TakeResponsibilityRequest } from './messages.js';

// Signals come from anyone with access to the namespace (Temporal Web, `temporal workflow signal`),
// so their payloads are checked like any other input before the workflow reads them.
export const ActorSchema = z.object({
  id: z.string().min(1),
  username: z.string().min(1),
  displayName: z.string().min(1),
  email: z.string().optional(),
  teams: z.array(z.string()).default([]),
  roles: z.array(z.enum(ROLES)).default([]),
});

const RequestBase = {
  user: ActorSchema,
  interruptionId: z.string().min(1).optional(),
  expiresAt: z.iso.datetime().optional(),
};

export const TakeResponsibilityRequestSchema = z.object({
  ...RequestBase,
  takeOver: z.boolean().optional(),
}) satisfies z.ZodType<TakeResponsibilityRequest, unknown>;

export const DecisionRequestSchema = z.object({
  ...RequestBase,
  notes: z.string().max(MAX_NOTES).optional(),
}) satisfies z.ZodType<DecisionRequest, unknown>;

/** Who asked for the cancellation that follows; anyone with access to the namespace can send it, so it is checked too. */
export const CancelRequestSchema = z.object({
  user: z.object({ id: z.string().min(1), username: z.string().min(1), displayName: z.string().min(1) }),
}) satisfies z.ZodType<CancelRequest, unknown>;
