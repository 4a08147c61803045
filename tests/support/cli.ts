import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { eventually } from './poll.js';
import { serveOverHttp, type Stack } from './stack.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Terminal {
  stdout(): string;
  done: Promise<Finished>;
}

/**
 * `interlock …` as people and CI jobs run it: a real child process of bin/interlock.mjs, as `who` (a
 * demo user), against the Interlock at `url()`. Every child is kept in `children`, for the test
 * file to kill in its afterAll should a test fail midway.
 */
export function cliAgainst(url: () => string, children: Set<ChildProcess>) {
  function terminal(who: string, args: string[], env: Record<string, string> = {}): Terminal {
    const child = spawn(process.execPath, ['bin/interlock.mjs', ...args], {
      cwd: ROOT,
      env: { ...process.env, INTERLOCK_URL: url(), INTERLOCK_TOKEN: `${who}-demo-token`, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const done = new Promise<Finished>((resolve) =>
      child.once('close', (code) => {
        children.delete(child);
        resolve({ code, stdout, stderr });
      }),
    );
    return { stdout: () => stdout, done };
  }

  const interlock = (who: string, ...args: string[]) => terminal(who, args).done;

  /** Waits for what a terminal shows (or a command answers), as `eventually` does, with the name first. */
  const until = <T>(what: string, get: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000) => eventually(get, what, { timeoutMs, everyMs: 200 });

  return { terminal, interlock, until };
}

/**
 * `cliAgainst` the stack's app served over real HTTP for the test file: served in its beforeAll;
 * in its afterAll every child still running is killed and the server closed.
 */
export function useCliAgainst(stack: Pick<Stack, 'app'>) {
  const children = new Set<ChildProcess>();
  let server: Awaited<ReturnType<typeof serveOverHttp>> | undefined;
  beforeAll(async () => {
    server = await serveOverHttp(stack);
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await server?.close();
  });
  return cliAgainst(() => server?.url ?? '', children);
}
