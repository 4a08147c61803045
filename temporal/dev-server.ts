import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { findTemporalCli } from './binaries.js';
import { searchAttributeFlags } from './search-attributes.js';
import { stopLeftover, supervise } from './supervisor.js';

export interface DevServerOptions {
  /** Where the server keeps its SQLite state; without it, state lives in memory and dies with the process. */
  dataDir?: string;
  port?: number;
  uiPort?: number;
  /** No Temporal Web (tests). */
  headless?: boolean;
  namespace?: string;
  ip?: string;
  /** Where Temporal Web decodes payloads (Interlock's `/codec`), so an admin sees values the history holds encrypted. */
  codecEndpoint?: string;
  /** The path Temporal Web serves under (`/temporal`, when Interlock's API proxies it); `/` without it. */
  uiPublicPath?: string;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` with Interlock's search attributes registered, and resolves once
 * its frontend answers. Its output goes to `temporal.log` in the data dir (or is dropped).
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cli = await findTemporalCli();
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const uiPort = options.headless ? null : (options.uiPort ?? (await freePort()));
  const args = [
    'server', 'start-dev',
    '--ip', ip,
    '--port', String(port),
    '--namespace', options.namespace ?? 'default',
    '--log-level', 'warn',
    ...searchAttributeFlags().flatMap((flag) => ['--search-attribute', flag]),
  ];
  if (uiPort === null) args.push('--headless');
  else {
    args.push('--ui-port', String(uiPort), '--ui-ip', ip, '--ui-disable-news-fetch');
    if (options.codecEndpoint) args.push('--ui-codec-endpoint', options.codecEndpoint);
    if (options.uiPublicPath) args.push('--ui-public-path', options.uiPublicPath);
  }
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    args.push('--db-filename', join(options.dataDir, 'temporal.db'));
    // A write-ahead log and fewer fsyncs: thousands of waiting deployments start and decide faster,
    // and a crash loses at most the last moments (the same trade the dev server's in-memory mode makes whole).
    for (const pragma of ['journal_mode=wal', 'synchronous=normal']) args.push('--sqlite-pragma', pragma);
  }

  if (options.dataDir) {
    await stopLeftover(join(options.dataDir, PID_FILE), (args) => args.includes('start-dev') && args.includes(join(options.dataDir!, 'temporal.db')), 'a Temporal dev server');
  }
  // Another server on our ports (another npm start's) would answer our readiness check in our
  // server's place, and we would run on it: refuse instead, naming the port.
  for (const taken of [port, uiPort]) {
    if (taken !== null && (await inUse(ip, taken))) {
      throw Object.assign(new Error(`the Temporal dev server cannot listen on ${ip}:${taken}: the port is taken`), { code: 'EADDRINUSE', port: taken });
    }
  }
  const server = supervise(cli, args, {
    ...(options.dataDir ? { pidFile: join(options.dataDir, PID_FILE), logFile: join(options.dataDir, 'temporal.log') } : {}),
  });
  const { exited, stop } = server;

  const address = `${ip}:${port}`;
  try {
    await waitUntilServing({ address }, exited);
  } catch (error) {
    await stop();
    // What it said, rather than "see its log" with no log named.
    if (options.dataDir && error instanceof Error) error.message = `${error.message.replace(/; see its log$/, '')}${server.firstError()}`;
    throw error;
  }
  const uiUrl = uiPort === null ? null : `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${uiPort}${options.uiPublicPath ?? ''}`;
  return { address, uiUrl, process: server.process, stop };
}

/**
 * Resolves once a Temporal frontend answers `GetSystemInfo`; fails at once if the server's process
 * exits first, or after `timeoutMs`.
 */
export async function waitUntilServing(
  connection: ConnectionOptions & { address: string },
  exited: Promise<number | null>,
  what = 'the Temporal dev server',
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let early: number | null | undefined;
  void exited.then((code) => (early = code));
  for (;;) {
    if (early !== undefined) throw new Error(`${what} exited (code ${early}) before it was ready; see its log`);
    try {
      const client = await Connection.connect({ ...connection, connectTimeout: 1_000 });
      try {
        await client.workflowService.getSystemInfo({});
        return;
      } finally {
        await client.close();
      }
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what} at ${connection.address} did not answer within ${timeoutMs / 1000} s: ${error}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

const PID_FILE = 'temporal.pid';

/** Whether something listens on the port now. */
function inUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE'));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
