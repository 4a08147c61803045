import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import { createApp } from '../../app.js';
import { EXAMPLE_CONFIG_PATH, loadConfig, parseConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { createLinkSigner } from '../../auth/one-click-links.js';
import type { LimitSettings } from '../../service/rate-limit.js';
import { AesGcmCodec, codecKey, dataConverterWith } from '../../temporal/payload-codec.js';
import { createWorker } from '../../worker.js';

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

export const tokens = {
  jjones: 'jjones-demo-token',
  mlee: 'mlee-demo-token',
  ci: 'ci-demo-token',
  'je-bot': 'je-bot-demo-token',
  vic: 'vic-demo-token',
  admin: 'admin-demo-token',
} as const;
export type Who = keyof typeof tokens;

export interface Stack {
  app: ReturnType<typeof createApp>;
  client: Client;
  taskQueue: string;
  /** The payload codec's key (base64): a worker in another process needs it as INTERLOCK_CODEC_KEY. */
  codecKey: string;
  /** A real HTTP-shaped call through the app; the body is JSON. */
  call(method: string, path: string, options?: { as?: Who | null; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
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
  });

  const stack: Stack = {
    app,
    client,
    taskQueue,
    codecKey: key,
    async call(method, path, { as = 'jjones', body, headers = {} } = {}) {
      const response = await app.request(path, {
        method,
        headers: {
          ...(as ? { Authorization: `Bearer ${tokens[as]}` } : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      return readResponse(response);
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
 * One stack for a test file: started before its tests, stopped after them (also when they fail).
 * What it returns stands for that stack: use it in tests and hooks, once `beforeAll` has run.
 */
export function useStack(config: Config, options: StackOptions = {}): Stack {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack(config, options);
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

/** A response as tests look at it: its status, its body parsed when it is JSON (else the text), its headers. */
export async function readResponse(response: Response): Promise<{ status: number; body: any; headers: Headers }> {
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (a page); the text is the body.
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** Polls the deployment view until `done` holds (a worker runs it meanwhile). */
export async function waitFor(stack: Stack, id: string, done: (view: any) => boolean, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await stack.call('GET', `/api/deployments/${id}`);
    if (status === 200 && done(body)) return body;
    if (Date.now() > deadline) throw new Error(`deployment ${id} did not get there in time; last: ${JSON.stringify(body).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const uniqueRelease = () => `1.0.${Date.now() % 100000}-${randomUUID().slice(0, 6)}`;
