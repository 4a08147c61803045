import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { Logger } from 'pino';
import type { Config, User } from '../config/schema.js';
import type { LinkSigner } from '../service/one-click.js';
import type { LimitSettings } from '../service/rate-limit.js';

/** What `createApp` needs from outside: a Temporal client and the config. */
export interface AppDeps {
  temporal: {
    client: Client;
    taskQueue: string;
    /** Base URL of Temporal Web for links in views; none when unknown. */
    uiUrl?: string | undefined;
  };
  config: Config;
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
}

/** The variables a request carries through the API's and the dashboard's middleware. */
export type AppEnv = {
  Variables: {
    user: User;
    logger: Logger;
    requestId: string;
  };
};
