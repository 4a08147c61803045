/**
 * Finding and installing the executables Interlock runs (the Temporal CLI and test server, the
 * cluster's server, SQL tool and Temporal Web): one order for all of them, and one way to say why
 * an install failed.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);

/** What the lookup needs to know of an executable. */
export interface Findable {
  /** How it is named in messages: `the Temporal server`. */
  what: string;
  /** The environment variable that points at it, when set. */
  envVar: string;
  /** The name looked up on PATH. */
  command: string;
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The order every executable is found in: the explicit env var (which must name an executable
 * file: `refuse` says so otherwise), then PATH, then `own`, where our pinned install puts it.
 * Undefined when none has it.
 */
export function findExecutable(binary: Findable, own: string, env: NodeJS.ProcessEnv, refuse: (message: string) => Error): string | undefined {
  const explicit = env[binary.envVar];
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw refuse(`${binary.envVar}=${explicit} is not an executable file; fix or unset it.`);
  }
  // An empty PATH entry would look in the working directory: skipped.
  const onPath = (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, binary.command)).find(isExecutable);
  if (onPath) return onPath;
  return isExecutable(own) ? own : undefined;
}

/** `go install module@vVERSION` into `bin` (made if missing). */
export async function goInstall(module: string, version: string, bin: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  mkdirSync(bin, { recursive: true });
  await run('go', ['install', `${module}@v${version}`], { env: { ...env, GOBIN: bin }, maxBuffer: 16 * 1024 * 1024 });
}

/** The line of a failed command that says why: its stderr's first (pip's warnings skipped), else its message. */
export function firstLine(error: unknown): string {
  const stderr = (error as { stderr?: string }).stderr?.trim();
  const text = stderr || (error instanceof Error ? error.message : String(error));
  return text.split('\n').find((line) => line.trim() && !line.startsWith('WARNING'))?.trim() ?? text;
}
