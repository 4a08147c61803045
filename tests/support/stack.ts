import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import type { Logger } from 'pino';
import { createApp } from '../../app.js';
import { EXAMPLE_CONFIG_PATH, loadConfig, parseConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { createLinkSigner } from '../../auth/one-click-links.js';
import type { LimitSettings } from '../../service/rate-limit.js';
import { AesGcmCodec, codecKey, dataConverterWith } from '../../temporal/payload-codec.js';
import { createWorker } from '../../worker.js';
import { type Api, apiClient, bearer, type Who } from './api.js';

export { tokens, type Who, untilAnswered, waitFor, waitForRelease } from './api.js';

/** The example config's demo users (their tokens are in the README) with projects made for tests. */
export function testConfig(projectsYaml: string): Config {
  const example = loadConfig(EXAMPLE_CONFIG_PATH);
  const projects = parseConfig(`
teams: [{ id: release-managers, name: Release managers }, { id: sre, name: Site reliability }]
projects:
${projectsYaml.replace(/^/gm, '  ')}
`).projects;
  return { ...example, projects };
}

/** What POST /api/deployments takes. */
export type Trigger = Parameters<Api['api']['deployments']['$post']>[0]['json'];
/** What a person may do to an interruption, as its route names it. */
export type Action = 'take-responsibility' | 'proceed' | 'abort' | 'retry' | 'ignore' | 'fail';

export interface Stack {
  app: ReturnType<typeof createApp>;
  client: Client;
  taskQueue: string;
  /** The payload codec's key (base64): a worker in another process needs it as INTERLOCK_CODEC_KEY. */
  codecKey: string;
  /** The typed client as `who` (jjones unless given; `null`: no token), through `app.request`. */
  api(who?: Who | null, headers?: Record<string, string>): Api;
  /**
   * A request no route types, or one the typed client would not send (a malformed body, a forged
   * id): `body` is sent as JSON (a string as it is), as `as` (jjones unless given; `null`: no token).
   */
  send(method: string, path: string, options?: { as?: Who | null; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  /** POST /api/deployments as `as` (ci unless given), with an Idempotency-Key when given. */
  trigger(json: Trigger, options?: { as?: Who | null; idempotencyKey?: string }): ReturnType<Api['api']['deployments']['$post']>;
  /** One of an interruption's actions (POST …/interruptions/{iid}/<action>) as `who`. */
  act(who: Who | null, action: Action, at: { id: string; iid: string }, json?: { notes?: string } | { takeOver?: boolean }): ReturnType<Api['api']['deployments'][':id']['interruptions'][':iid'][Action]['$post']>;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `createApp` against the real dev server of the test run, with a real worker on a task queue of
 * this stack's own, so test files never see each other's deployments.
 */
export interface StackOptions {
  actionTimeoutMs?: number;
  actionRatePerMinute?: number;
  /** The per-person limits; tests act fast and often as one person, so the rates are unlimited unless given. */
  limits?: Partial<LimitSettings>;
  /** What the worker's activities see as the environment: webhook secrets, SMTP_URL. */
  env?: NodeJS.ProcessEnv;
  /** Where people reach this Interlock: the one-click links in notifications point here. */
  publicUrl?: string;
  /** Where the API logs (the audit trail's records among them); silent without it. */
  logger?: Logger;
  /** Another Temporal than the run's shared server, e.g. one with TLS (both the client and the worker use it). */
  connection?: ConnectionOptions & NativeConnectionOptions & { address: string };
}

export async function startStack(config: Config, options: StackOptions = {}): Promise<Stack> {
  const connectionOptions = options.connection ?? { address: inject('temporalAddress') };
  const taskQueue = `test-${randomUUID()}`;
  const connection = await Connection.connect(connectionOptions);
  // As in production: every payload encrypted by the codec, with a key of this stack's own.
  const key = randomBytes(32).toString('base64');
  const codecKeys = [codecKey(key)];
  const dataConverter = dataConverterWith(codecKeys);
  const client = new Client({ connection, dataConverter });
  const nativeConnection = await NativeConnection.connect(connectionOptions);
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  const links = createLinkSigner(codecKeys);
  const publicUrl = options.publicUrl ?? 'http://interlock.test';
  const app = createApp({
    temporal: { client, taskQueue, uiUrl: 'http://temporal-web.test' },
    linkSigner: links,
    config,
    actionTimeoutMs: options.actionTimeoutMs ?? 10_000,
    // Tests act fast and often as one person; each limit has a test of its own.
    limits: { actionsPerMinute: options.actionRatePerMinute ?? 100_000, triggersPerMinute: 100_000, linksPerMinute: 100_000, ...options.limits },
    systemVariables: { 'Interlock.Url': publicUrl },
    codec: new AesGcmCodec(codecKeys),
    ...(options.logger ? { logger: options.logger } : {}),
  });

  const stack: Stack = {
    app,
    client,
    taskQueue,
    codecKey: key,
    api: (who = 'jjones', headers = {}) => apiClient('http://localhost', who, { fetch: (input, init) => app.request(input, init), headers }),
    trigger: (json, { as = 'ci', idempotencyKey } = {}) =>
      stack.api(as).api.deployments.$post({ json, header: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {} }),
    act: (who, action, { id, iid }, json = {}) => stack.api(who).api.deployments[':id'].interruptions[':iid'][action].$post({ param: { id, iid }, json }),
    async send(method, path, { as = 'jjones', body, headers = {} } = {}) {
      return app.request(path, {
        method,
        headers: { ...bearer(as), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
    },
    async startWorker() {
      worker = await createWorker({
        connection: nativeConnection,
        namespace: 'default',
        taskQueue,
        workflowBundle: { codePath: inject('workflowBundlePath') },
        dataConverter,
        activities: { client, config, env: options.env ?? {}, publicUrl, signLink: (claims) => links.sign(claims) },
      });
      running = worker.run();
    },
    async stopWorker() {
      if (worker?.getState() === 'RUNNING') worker.shutdown();
      await running;
      worker = undefined;
    },
    async stop() {
      await stack.stopWorker();
      // Leave nothing waiting behind for other test files' listings.
      for await (const execution of client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` })) {
        await client.workflow.getHandle(execution.workflowId).terminate('test finished').catch(() => undefined);
      }
      await nativeConnection.close();
      await connection.close();
    },
  };
  await stack.startWorker();
  return stack;
}

/**
 * One stack for a test file (or a describe block): started before its tests, stopped after them
 * (also when they fail). What it returns stands for that stack: use it in tests and hooks, once
 * `beforeAll` has run. A config that names something known only then (a server's port) is given
 * as a function, called in `beforeAll`.
 */
export function useStack(config: Config | (() => Config), options: StackOptions = {}): Stack {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack(typeof config === 'function' ? config() : config, options);
  });
  afterAll(async () => {
    await stack?.stop();
  });
  return new Proxy({} as Stack, {
    get(_, property) {
      if (!stack) throw new Error('the stack starts in beforeAll; use it in a test or a hook');
      return stack[property as keyof Stack];
    },
  });
}

/** The stack's app served over real HTTP on a free port of 127.0.0.1, for a test that needs real sockets: its URL, and how to stop it. */
export async function serveOverHttp(stack: Pick<Stack, 'app'>): Promise<{ url: string; close(): Promise<void> }> {
  const server = serve({ fetch: stack.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

export const uniqueRelease = () => `1.0.${Date.now() % 100000}-${randomUUID().slice(0, 6)}`;
