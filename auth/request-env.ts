import type { Logger } from 'pino';
import type { Principal } from '../core/principals.js';
import type { AuditTrail } from '../service/audit.js';

/** The variables a request carries through the API's and the dashboard's middleware. */
export type AppEnv = {
  Variables: {
    /** Whoever is asking: the principal a bearer token, a session (or, later, a provider or a CI job) names. */
    user: Principal;
    logger: Logger;
    requestId: string;
    /** Where sign-ins, refusals and reloads are recorded (docs/security.md). */
    audit: AuditTrail;
  };
};
