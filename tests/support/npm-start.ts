import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { until } from './poll.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Running {
  url: string;
  uiUrl: string;
  child: ChildProcess;
  /** The ports it was given: pass them again to restart it as it was. */
  env: { PORT: string; TEMPORAL_DEV_PORT: string; TEMPORAL_UI_PORT: string; INTERLOCK_WORKER_METRICS_PORT: string };
  output(): string;
  /** SIGTERM to `npm start` alone, as a service manager sends it; resolves with its exit code. */
  stop(): Promise<number | null>;
  /** Cleanup after a test file: a clean stop first (it must leave nothing behind), but never waiting on it past `timeoutMs`; then SIGKILL whatever is left. */
  shutdown(timeoutMs?: number): Promise<void>;
  /** Whether any process of its tree is still alive. */
  alive(): boolean;
  /** Last resort for cleanup: SIGKILL the whole process group. */
  kill(): void;
  /** Every process of its tree still running, with its command line. */
  processes(): { pid: number; args: string }[];
}

/**
 * A free port below the range the kernel hands out on its own (to `listen(0)` and to outgoing
 * connections), so that once a stopped `npm start` lets it go, nothing else in a busy test run
 * takes it before the same ports are started again.
 */
export async function keptPort(): Promise<number> {
  const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * (low! - 10_000));
    if (await portIsFree(port)) return port;
  }
}

/** Whether a server could listen on the port now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Runs `npm start` exactly as a user does, on free ports unless given, and resolves once it prints its URLs. */
export async function npmStart(env: Record<string, string | undefined>, timeoutMs = 120_000): Promise<Running> {
  const ports = {
    PORT: String(await keptPort()),
    TEMPORAL_DEV_PORT: String(await keptPort()),
    TEMPORAL_UI_PORT: String(await keptPort()),
    INTERLOCK_WORKER_METRICS_PORT: String(await keptPort()),
  };
  const childEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...ports, ...env })) {
    if (value !== undefined && key !== 'TEMPORAL_ADDRESS' && !key.startsWith('npm_')) childEnv[key] = value;
  }
  if (env.TEMPORAL_ADDRESS) childEnv.TEMPORAL_ADDRESS = env.TEMPORAL_ADDRESS;
  // Its own process group, so cleanup can reach every descendant even if the test fails.
  const child = spawn('npm', ['start'], { cwd: ROOT, env: childEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const pgid = child.pid!;
  const alive = () => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const running: Running = {
    url: `http://localhost:${childEnv.PORT}`,
    // Temporal Web, served through the API's origin to admins and operators.
    uiUrl: `http://localhost:${childEnv.PORT}/temporal`,
    env: {
      PORT: childEnv.PORT!,
      TEMPORAL_DEV_PORT: childEnv.TEMPORAL_DEV_PORT!,
      TEMPORAL_UI_PORT: childEnv.TEMPORAL_UI_PORT!,
      INTERLOCK_WORKER_METRICS_PORT: childEnv.INTERLOCK_WORKER_METRICS_PORT!,
    },
    child,
    output: () => output,
    alive,
    kill: () => {
      if (alive()) process.kill(-pgid, 'SIGKILL');
    },
    processes: () => {
      try {
        return execFileSync('ps', ['-o', 'pid=,args=', '-g', String(pgid)], { encoding: 'utf8' })
          .split('\n')
          .filter((line) => line.trim())
          .map((line) => {
            const [, pid, args] = /^\s*(\d+)\s+(.*)$/.exec(line)!;
            return { pid: Number(pid), args: args! };
          });
      } catch {
        return []; // ps exits 1 when the group is empty
      }
    },
    async shutdown(timeoutMs = 20_000) {
      try {
        await Promise.race([running.stop(), new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
      } finally {
        running.kill();
      }
    },
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      // The tree gets a moment to finish its own shutdown after npm itself is gone (whoever asks checks `alive()`).
      await until(alive, (still) => !still, 'the tree to end', { timeoutMs: 10_000 }).catch(() => undefined);
      return code;
    },
  };

  let early: number | null | undefined;
  void exited.then((code) => (early = code));
  const ready = () => output.includes('Interlock is running.');
  await until(ready, Boolean, 'npm start to be ready', { timeoutMs, everyMs: 200, failIf: () => (early === undefined ? undefined : `it exited (${early})`) }).catch((error: Error) => {
    running.kill();
    throw new Error(`${error.message}; its output:\n${output}`);
  });
  return running;
}

/** Runs `npm start` expecting it to refuse to start; resolves with its exit code and output. */
export function npmStartFails(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['start'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('exit', (code) => resolve({ code, output }));
  });
}
