import { deploymentPath } from '../service/paths.js';
import { CliError, type Client, EXIT, type ExitCode } from './client.js';
import { changes, isFinished, formatDuration, openInterruption, outcome, type View } from './format.js';

/**
 * Seconds each `GET …/wait` may be held. The server answers at once when the deployment finishes,
 * so this only bounds how late a progress line (above all "waiting for a person: interlock take …")
 * reaches the log. The server watches a deployment with one shared reader however many clients
 * wait on it, so shorter holds cost it next to nothing; the 60 s a quiet log could afford would
 * leave the person who must act waiting for the job to tell them.
 */
const SLICE_SECONDS = 5;
/** How long the server may stay unreachable mid-wait (a restart, a deploy of Interlock itself) before we give up. */
const LOST_CONTACT_MS = 2 * 60_000;

export interface FollowOptions {
  /** Give up (exit 2) after this long; undefined: wait until it finishes. */
  timeoutMs: number | undefined;
  /** Where progress lines go: stdout for people, stderr when stdout carries --json. */
  log: (line: string) => void;
  /** The view already in hand (from the trigger), so only what changes after it is printed. */
  initial?: View;
}

export interface Followed {
  view: View;
  exitCode: ExitCode;
  /** Why it ended without the deployment finishing (the timeout), for stderr. */
  message?: string;
}

/** Follows a deployment to its end with `GET /api/deployments/{id}/wait`, printing each change. */
export async function follow(client: Client, id: string, options: FollowOptions): Promise<Followed> {
  const seen: { view: View | undefined } = { view: options.initial };
  // A cancelled CI job or Ctrl-C stops the following, never the deployment: a person may be mid-approval.
  const onSignal = (signal: NodeJS.Signals) => {
    const status = seen.view ? ` (${seen.view.status})` : '';
    process.stderr.write(`\ninterlock: stopped following (${signal}); ${id} goes on${status}. Follow it again: interlock wait ${id}; stop it: interlock cancel ${id}\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    return await followUntilDone(client, id, options, seen);
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

async function followUntilDone(client: Client, id: string, options: FollowOptions, seen: { view: View | undefined }): Promise<Followed> {
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  const stamp = () => new Date().toTimeString().slice(0, 8);
  // A stamp on each new line; continuation lines (indented: commands, instructions, logs) line up under it.
  const print = (lines: string[]) =>
    lines.flatMap((line) => line.split('\n')).forEach((line) => options.log(line.startsWith(' ') ? `          ${line}` : `${stamp()}  ${line}`));
  const short = (error: CliError) => error.message.replace(/;.*$/, '');
  let lostSince: number | undefined;

  for (;;) {
    const view = seen.view;
    const remaining = deadline - Date.now();
    if (view && remaining <= 0) {
      const open = openInterruption(view);
      const where = open ? ` at "${open.step}"${open.assignee ? ` (assigned to ${open.assignee.username})` : ''}` : '';
      return {
        view,
        exitCode: EXIT.usage,
        message: `timed out after ${formatDuration(options.timeoutMs!)}: ${id} is still ${view.status}${view.outcome ? ` (it will end ${view.outcome})` : ''}${where} and goes on without us; follow it again with: interlock wait ${id}`,
      };
    }
    const seconds = Math.max(1, Math.min(SLICE_SECONDS, Math.ceil(remaining / 1000)));
    let answer: { status: number; body: View };
    try {
      answer = await client.get<View>(`${deploymentPath(id)}/wait?timeout=${seconds}`, { timeoutMs: (seconds + 30) * 1000 });
    } catch (error) {
      // Unreachable before we ever got an answer: say so now. Mid-wait: ride out a restart.
      if (!(error instanceof CliError) || error.exitCode !== EXIT.unreachable || view === undefined) throw error;
      if (lostSince === undefined) {
        lostSince = Date.now();
        options.log(`${stamp()}  Lost contact (${short(error)}); retrying for up to ${formatDuration(LOST_CONTACT_MS)}.`);
      } else if (Date.now() - lostSince > LOST_CONTACT_MS) {
        throw new CliError(`${short(error)} for ${formatDuration(LOST_CONTACT_MS)}; ${id} goes on without us: interlock wait ${id}`, EXIT.unreachable);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, Math.max(0, deadline - Date.now()))));
      continue;
    }
    if (lostSince !== undefined) options.log(`${stamp()}  Back in contact.`);
    lostSince = undefined;
    print(changes(view, answer.body));
    seen.view = answer.body;
    if (answer.status === 200 && isFinished(answer.body.status)) {
      // The decision of an aborted step is among the changes already printed; a failed step's log is not.
      print(outcome(answer.body).slice(0, answer.body.status === 'Failed' ? undefined : 1));
      return { view: answer.body, exitCode: answer.body.status === 'Succeeded' ? EXIT.ok : EXIT.failed };
    }
  }
}
