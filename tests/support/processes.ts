import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { until } from './poll.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A process a test started, in a process group of its own so cleanup reaches its whole tree. */
export interface TestProcess {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  /** Resolves once every process holding its output open has exited (after npm, the node process npm ran). */
  closed: Promise<void>;
  output(): string;
  /** Resolves once `text` (a string or pattern) appears in its output; fails if it exits first or the time passes. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** A signal to the process itself (not its group), as a service manager sends SIGTERM. */
  signal(signal: NodeJS.Signals): void;
  /** Ctrl-C at a terminal: SIGINT to its whole process group. */
  interrupt(): void;
  /** SIGKILL to the whole group; resolves once the process is gone. */
  kill(): Promise<void>;
  /** The pids of its descendants still running, with their command lines. */
  descendants(): ProcessRow[];
}

const running = new Set<TestProcess>();

/**
 * Starts `command` in the project's folder with `env` added to ours. Every process started so is
 * SIGKILLed (group and all) by `killAll`, which test files call in afterAll/afterEach, and when
 * the test process exits.
 */
export function startProcess(command: string, args: string[], env: Record<string, string | undefined> = {}): TestProcess {
  const childEnv: Record<string, string> = {};
  // npm's own variables from the `npm run` that started the tests would confuse an npm started here.
  for (const [key, value] of Object.entries({ ...process.env, ...env })) if (value !== undefined && !key.startsWith('npm_')) childEnv[key] = value;
  const child = spawn(command, args, { cwd: ROOT, env: childEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let done = false;
  void exited.then(() => (done = true));
  const pid = child.pid!;
  const tracked: TestProcess = {
    child,
    pid,
    exited,
    closed,
    output: () => output,
    async waitFor(text, timeoutMs = 120_000) {
      const seen = () => (typeof text === 'string' ? output.includes(text) : text.test(output));
      const exited = () => (done ? `it exited (${child.exitCode ?? child.signalCode})` : undefined);
      await until(seen, Boolean, `${command} ${args.join(' ')} to print ${text}`, { timeoutMs, failIf: exited }).catch((error: Error) => {
        throw new Error(`${error.message}; its output:\n${output}`);
      });
    },
    signal(signal) {
      if (!done) child.kill(signal);
    },
    interrupt() {
      try {
        process.kill(-pid, 'SIGINT');
      } catch {
        // The group is gone already.
      }
    },
    async kill() {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // The group is gone already.
      }
      await exited;
      running.delete(tracked);
    },
    descendants: () => descendantsOf(pid),
  };
  running.add(tracked);
  return tracked;
}

/**
 * Where `command` is on PATH, after `script` (one of scripts/install-*.sh, installing a Debian
 * package when it is missing) ran if it was not; or why there is none.
 */
export function installedCommand(command: string, script: string): { path: string } | { missing: string } {
  const which = () => {
    try {
      return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const found = which();
  if (found) return { path: found };
  try {
    execFileSync(fileURLToPath(new URL(`../../scripts/${script}`, import.meta.url)), { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch {
    return { missing: `no ${command} on PATH and scripts/${script} could not install Debian's package (needs root and apt-get)` };
  }
  const installed = which();
  return installed ? { path: installed } : { missing: `scripts/${script} ran, but there is still no ${command} on PATH` };
}

/** `npm run <script>` as a user runs it. */
export const npmRun = (script: string, env: Record<string, string | undefined> = {}) => startProcess('npm', ['run', script], env);

/** Stops every process the tests of this file started and left running. */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((tracked) => tracked.kill()));
}

process.once('exit', () => {
  for (const { pid } of running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
});

export interface ProcessRow {
  pid: number;
  ppid: number;
  args: string;
}

/** Every live process on the machine (zombies left out), with its parent and command line. */
export function allProcesses(): ProcessRow[] {
  return execFileSync('ps', ['-e', '-o', 'pid=,ppid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null && !match[3]!.startsWith('Z'))
    .map((match) => ({ pid: Number(match[1]), ppid: Number(match[2]), args: match[4]! }));
}

/** Every live descendant of `pid` (children, grandchildren …), whatever process group they moved to. */
export function descendantsOf(pid: number): ProcessRow[] {
  const table = allProcesses();
  const found: ProcessRow[] = [];
  const parents = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const row of table) {
      if (parents.has(row.ppid) && !parents.has(row.pid)) {
        parents.add(row.pid);
        found.push(row);
        grew = true;
      }
    }
  }
  return found;
}
