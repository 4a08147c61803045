import type { Logger } from 'pino';
import type { User } from '../config/schema.js';

/** The variables a request carries through the API's and the dashboard's middleware. */
export type AppEnv = {
  Variables: {
    user: User;
    logger: Logger;
    requestId: string;
  };
};
