import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';

/** A server process run under the supervisor below. */
export interface Supervised {
  process: ChildProcess;
  /** Resolves with the supervisor's exit code once the server is gone. */
  exited: Promise<number | null>;
  /** Sends the stop signal, waits up to `graceMs`, then SIGKILLs; resolves once it is gone. */
  stop(): Promise<void>;
  /** The first error this run of the server wrote to its log (see `firstErrorIn`), or ''. */
  firstError(): string;
}

export interface SuperviseOptions {
  /** Where the server's pid goes, so a later run can find a leftover (see `stopLeftover`). */
  pidFile?: string;
  /** Its stdout and stderr are appended here; without it they are dropped. */
  logFile?: string;
  /** How the server likes to be stopped: PostgreSQL wants SIGINT (a fast shutdown), most servers SIGTERM. */
  stopSignal?: 'TERM' | 'INT';
  graceMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * A process group of its own, so a Ctrl-C at the terminal reaches only us and we stop the
   * servers in order (Temporal before the database it writes to).
   */
  detached?: boolean;
}

/**
 * Runs `command` under a small shell supervisor that stops it when our stdin pipe closes, so the
 * server dies with this process even when this process is killed with SIGKILL (no orphan holds a
 * port or a database), and records the server's pid so a leftover from an older run can be found.
 */
export function supervise(command: string, args: string[], options: SuperviseOptions = {}): Supervised {
  const signal = options.stopSignal ?? 'TERM';
  const child = spawn('sh', ['-c', SUPERVISOR, 'supervisor', options.pidFile ?? '/dev/null', signal, command, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: options.detached ?? false,
    ...(options.env ? { env: options.env } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  const logFile = options.logFile;
  // The log is appended to across runs: this run's errors start here.
  const logStart = logFile ? sizeOf(logFile) : 0;
  if (options.logFile) {
    const log = createWriteStream(options.logFile, { flags: 'a' });
    // Both streams into one file, which closes once the process has closed both (not when the first ends).
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.once('close', () => log.end());
  } else {
    child.stdout.resume();
    child.stderr.resume();
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal === 'INT' ? 'SIGINT' : 'SIGTERM');
    child.stdin?.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), options.graceMs ?? 10_000);
    await exited;
    clearTimeout(killer);
  };
  return { process: child, exited, stop, firstError: () => (logFile ? firstErrorIn(logFile, logStart) : '') };
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Runs the command in the background, writes its pid, forwards TERM/INT/HUP to it as the stop
 * signal, and stops it when its own stdin reaches EOF (our end of the pipe closes when we die,
 * however we die).
 */
const SUPERVISOR = `
pidfile="$1"; sig="$2"; shift 2
exec 3<&0
"$@" </dev/null &
child=$!
echo "$child" > "$pidfile"
trap 'kill -"$sig" "$child" 2>/dev/null' TERM INT HUP
{ cat <&3 >/dev/null; kill -"$sig" "$child" 2>/dev/null; } &
watcher=$!
while :; do
  wait "$child"; status=$?
  kill -0 "$child" 2>/dev/null || break
done
kill "$watcher" 2>/dev/null
exit "$status"
`;

/**
 * A server an earlier run left behind (a run killed before its supervisor could act, or a machine
 * that lost the process tree): found by the pid file, recognised by its command line, stopped
 * before a new one starts on the same data. A server whose run is still going (its supervisor and
 * the node process above it alive: another `npm start` on the same directory) is not left behind:
 * that is refused, naming the run, instead of pulling its server from under it.
 */
export async function stopLeftover(
  pidFile: string,
  isOurs: (args: string[]) => boolean,
  what: string,
  { signal = 'SIGTERM' as NodeJS.Signals, log = console.error } = {},
): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1) return;
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return;
  }
  if (!isOurs(args)) return;
  const owner = runOf(pid);
  if (owner !== undefined) {
    throw new Error(`Another run (pid ${owner}) is using ${dirname(pidFile)} for ${what}: stop it first, or give this one a directory of its own (INTERLOCK_DATA_DIR).`);
  }
  log(`Stopping ${what} an earlier run left behind (pid ${pid}) …`);
  const send = (sig: NodeJS.Signals | 0) => {
    try {
      process.kill(pid, sig);
      return true;
    } catch {
      return false;
    }
  };
  send(signal);
  for (let waited = 0; waited < 15_000 && send(0); waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
  send('SIGKILL');
}

/** The live node process whose supervisor runs `pid`, if there is one: the run the server belongs to. */
function runOf(pid: number): number | undefined {
  const supervisor = parentOf(pid);
  if (supervisor === undefined || !commandOf(supervisor).includes('supervisor')) return undefined;
  const run = parentOf(supervisor);
  return run !== undefined && run > 1 && basename(commandOf(run)[0] ?? '') === 'node' ? run : undefined;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/**
 * The first error a server wrote to its log, as `: <what it said> (see <file>)`, to say why it did
 * not start without sending anyone to the log first. Temporal's JSON lines give their message.
 */
export function firstErrorIn(logFile: string, fromByte = 0): string {
  let text: string;
  try {
    text = readFileSync(logFile).subarray(fromByte).toString('utf8');
  } catch {
    return '';
  }
  const line = text.split('\n').find((candidate) => /"level":"(error|fatal|dpanic|panic)"|\b(FATAL|PANIC|ERROR|Error|error|fatal|panic)\b/.test(candidate));
  if (!line) return ` (see ${basename(logFile)})`;
  let said = line.trim();
  try {
    const entry = JSON.parse(said) as { msg?: string; error?: string };
    said = [entry.msg, entry.error].filter(Boolean).join(': ');
  } catch {
    // A plain text line.
  }
  return `: ${said.slice(0, 400)} (see ${basename(logFile)})`;
}

/**
 * How a process that runs servers (`npm start`, `npm run cluster`) ends: on Ctrl-C or SIGTERM, or
 * when whatever started it dies without a word (npm killed hard), it says `what` is stopping, runs
 * `shutdown` (which stops what it started, in order) and exits, rather than linger as an orphan.
 * `stop(code)` does the same from inside; it runs once however often it is asked. Signals are
 * handled with `on`, not `once`: a Ctrl-C reaches us twice (from the terminal, and forwarded by npm),
 * and a second signal must not cut the ordered stop short.
 */
export function stopInOrder(what: string, shutdown: () => Promise<void>): { stop(code: number): Promise<void>; readonly stopping: boolean } {
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.error(`\nStopping ${what} …`);
    await shutdown();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && void stop(0), 1_000).unref();
  return {
    stop,
    get stopping() {
      return stopping;
    },
  };
}
