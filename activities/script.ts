import { type ChildProcess, spawn } from 'node:child_process';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { maskText } from '../core/masking.js';
import type { RunScriptInput, StepOutput } from '../workflows/activity-contract.js';
import { LogTail } from './log-tail.js';


/** What of the worker's own environment a script sees (docs/configuration.md): never its secrets. */
const PASSED_THROUGH = ['PATH', 'HOME', 'LANG', 'TMPDIR'] as const;

/** A clean environment: PATH, HOME, LANG and TMPDIR (the worker's, or plain defaults), and the deployment's own values. */
export function scriptEnvironment(values: Record<string, string> = {}, worker: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const defaults: Record<(typeof PASSED_THROUGH)[number], string> = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8', TMPDIR: '/tmp' };
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) env[name] = worker[name] || defaults[name];
  return { ...env, ...values };
}


const KILL_GRACE_MS = 5_000;

/**
 * Runs the script in the foreground beside a watcher that reads the supervisor's stdin, which only
 * the worker holds: at EOF (the worker is gone, however it died) the watcher stops the whole group,
 * TERM then KILL. When the script ends by itself the watcher is killed first, so what the script
 * left running on purpose is not touched; what still holds its output is still waited for.
 */
const SUPERVISOR = `
exec 3<&0
{ trap '' TERM; cat <&3 >/dev/null; kill -TERM 0; sleep 5; kill -KILL 0; } >/dev/null 2>&1 </dev/null &
watcher=$!
"$@" </dev/null
status=$?
kill -KILL "$watcher" 2>/dev/null
exit "$status"
`;

/**
 * Runs a step's script in a process group of its own, capturing stdout and stderr. A non-zero exit
 * fails with the code named; on timeout or cancellation the whole group is killed, children included.
 */
export async function runScript({ script, env, timeoutMs, mask = [] }: RunScriptInput): Promise<StepOutput> {
  const context = Context.current();
  const log = new LogTail((text) => maskText(text, mask));
  // Its own process group, led by a supervisor that takes the whole group down when our end of its
  // stdin closes: when this worker dies, even by SIGKILL, the script dies with it (docs/manual-steps.md).
  const child = spawn('sh', ['-c', SUPERVISOR, 'interlock-step', 'bash', '-c', script], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: scriptEnvironment(env),
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => log.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => log.push(chunk));

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child);
  }, timeoutMs);
  const heartbeats = setInterval(() => context.heartbeat(), 1_000);
  const onCancel = () => killGroup(child);
  context.cancellationSignal.addEventListener('abort', onCancel);

  try {
    const { code, signal } = await exited.finally(() => child.stdin?.end());
    if (context.cancellationSignal.aborted) {
      throw new CancelledFailure(`cancelled; the script's processes were stopped`, [log.toString()]);
    }
    if (timedOut) {
      log.push(`\nTimed out after ${timeoutMs / 1000} s; the script's processes were stopped.\n`);
      throw failure(`timed out after ${timeoutMs / 1000} s`, log);
    }
    if (code !== 0) {
      const why = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
      log.push(`\nThe script ${why}.\n`);
      throw failure(`the script ${why}`, log);
    }
    return { log: log.toString() };
  } finally {
    clearTimeout(timer);
    clearInterval(heartbeats);
    context.cancellationSignal.removeEventListener('abort', onCancel);
  }
}

function failure(message: string, log: LogTail): ApplicationFailure {
  // A deploy script is not assumed to be safe to run twice: a failure fails the step.
  return ApplicationFailure.create({ message, type: 'ScriptFailed', nonRetryable: true, details: [log.toString()] });
}

/** SIGTERM to the whole group, then SIGKILL to whatever is left after a grace period. */
function killGroup(child: ChildProcess): void {
  // Not only while bash runs: a child it left in the background may hold the group (and its output) open.
  if (child.pid === undefined) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // The group is already gone.
    }
  };
  signalGroup('SIGTERM');
  setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS).unref();
}
